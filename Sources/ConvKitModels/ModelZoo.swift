import ConvKit

/// The models ConvKit ships, by their torchvision-style names.
public enum ModelZoo {
    public struct Entry {
        public let name: String
        public let summary: String
        /// The input [C, H, W] the architecture was designed for.
        public let inputShape: [Int]
        public let make: (_ classes: Int, _ inputChannels: Int) -> any UnaryLayer
    }

    public static let entries: [Entry] = [
        Entry(name: "lenet5", summary: "LeNet-5, ReLU and max-pool (modern form)", inputShape: [1, 28, 28]) { LeNet5(classes: $0, inputChannels: $1) },
        Entry(name: "lenet5_classic", summary: "LeNet-5, tanh and average pooling (1998 form)", inputShape: [1, 28, 28]) {
            LeNet5(classes: $0, inputChannels: $1, classic: true)
        },
    ]

    public static var names: [String] { entries.map(\.name) }

    /// Builds a model; throws for an unknown name, listing the known ones.
    public static func make(_ name: String, classes: Int = 10, inputChannels: Int? = nil) throws -> (any UnaryLayer, Entry) {
        guard let e = entries.first(where: { $0.name == name.lowercased() }) else {
            throw ConvKitError.invalidArgument(name: "model", expected: "one of \(names.joined(separator: ", "))", found: "\"\(name)\"")
        }
        return (e.make(classes, inputChannels ?? e.inputShape[0]), e)
    }
}
