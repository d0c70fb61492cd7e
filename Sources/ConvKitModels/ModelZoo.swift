import ConvKit

/// The models ConvKit ships, by their torchvision-style names.
public enum ModelZoo {
    public struct Entry {
        public let name: String
        public let summary: String
        /// The input [C, H, W] the architecture was designed for.
        public let inputShape: [Int]
        public let make: (_ classes: Int, _ inputChannels: Int) -> any UnaryLayer

        /// Input heights/widths the architecture accepts (its windows and fixed-size dense layers), found by
        /// probing each model: LeNet-5's first dense layer fixes 28…31; AlexNet needs 63, VGG 32, GoogLeNet 31.
        public var validSpatialSizes: ClosedRange<Int> {
            if name.hasPrefix("lenet") { return 28...31 }
            if name == "alexnet" { return 63...4096 }
            if name.hasPrefix("vgg") { return 32...4096 }
            if name == "googlenet" { return 31...4096 }
            if name.hasPrefix("yolo") { return 16...4096 }
            if name == "small_cnn" { return 4...4096 }
            return 1...4096
        }

        /// Throws unless [C, H, W] suits the model.
        public func validate(input shape: [Int]) throws {
            guard shape.count == 3, shape[0] > 0, validSpatialSizes.contains(shape[1]), validSpatialSizes.contains(shape[2]) else {
                throw ConvKitError.shapeMismatch(expected: "an input C×H×W with H and W in \(validSpatialSizes.lowerBound)…\(validSpatialSizes.upperBound) for \(name)",
                                                 found: shape.map(String.init).joined(separator: "×"))
            }
        }
    }

    public static let entries: [Entry] = [
        Entry(name: "lenet5", summary: "LeNet-5, ReLU and max-pool (modern form)", inputShape: [1, 28, 28]) { LeNet5(classes: $0, inputChannels: $1) },
        Entry(name: "lenet5_classic", summary: "LeNet-5, tanh and average pooling (1998 form)", inputShape: [1, 28, 28]) {
            LeNet5(classes: $0, inputChannels: $1, classic: true)
        },
        Entry(name: "small_cnn", summary: "Two conv-BN-ReLU-pool stages, dropout, global pooling, two dense layers (any size ≥ 4)", inputShape: [1, 28, 28]) {
            SmallCNN(classes: $0, inputChannels: $1)
        },
        Entry(name: "alexnet", summary: "AlexNet (torchvision form)", inputShape: [3, 224, 224]) { AlexNet(classes: $0, inputChannels: $1) },
    ] + [11, 13, 16, 19].flatMap { d in
        [Entry(name: "vgg\(d)", summary: "VGG-\(d)", inputShape: [3, 224, 224]) { VGG(depth: d, classes: $0, inputChannels: $1) },
         Entry(name: "vgg\(d)_bn", summary: "VGG-\(d) with batch norm", inputShape: [3, 224, 224]) { VGG(depth: d, batchNorm: true, classes: $0, inputChannels: $1) }]
    } + [
        Entry(name: "resnet18", summary: "ResNet-18 (basic blocks)", inputShape: [3, 224, 224]) { ResNet.resnet18(classes: $0, inputChannels: $1) },
        Entry(name: "resnet34", summary: "ResNet-34 (basic blocks)", inputShape: [3, 224, 224]) { ResNet.resnet34(classes: $0, inputChannels: $1) },
        Entry(name: "resnet50", summary: "ResNet-50 (bottlenecks)", inputShape: [3, 224, 224]) { ResNet.resnet50(classes: $0, inputChannels: $1) },
        Entry(name: "resnet101", summary: "ResNet-101 (bottlenecks)", inputShape: [3, 224, 224]) { ResNet.resnet101(classes: $0, inputChannels: $1) },
        Entry(name: "resnet152", summary: "ResNet-152 (bottlenecks)", inputShape: [3, 224, 224]) { ResNet.resnet152(classes: $0, inputChannels: $1) },
        Entry(name: "googlenet", summary: "GoogLeNet / Inception v1", inputShape: [3, 224, 224]) { GoogLeNet(classes: $0, inputChannels: $1) },
        Entry(name: "mobilenet_v1", summary: "MobileNet v1 (depthwise separable)", inputShape: [3, 224, 224]) { MobileNetV1(classes: $0, inputChannels: $1) },
        Entry(name: "mobilenet_v2", summary: "MobileNet v2 (inverted residuals)", inputShape: [3, 224, 224]) { MobileNetV2(classes: $0, inputChannels: $1) },
        Entry(name: "yolo_tiny", summary: "YOLO v2-style detector, 5 anchors, stride 16 (output B·(5+C)×H/16×W/16)", inputShape: [1, 128, 128]) {
            YOLOTiny(classes: $0, inputChannels: $1)
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
