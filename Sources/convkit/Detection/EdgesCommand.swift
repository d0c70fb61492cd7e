import ArgumentParser
import ConvKit
import ConvKitData
import ConvKitVision
import Foundation

/// `convkit edges`: an edge filter's response as a picture, or (--learn) a 3×3 convolution trained to reproduce one.
struct EdgesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "edges", abstract: "Edge detection with vertical, horizontal, Sobel, Scharr and 45° filters.")

    @Argument(help: "Image (PNG, JPEG, PGM, PPM).") var image: String
    @Option(help: "Filter: \(EdgeFilter.allCases.map(\.rawValue).joined(separator: ", ")).") var filter = "sobel"
    @Option(help: "Output PNG of |response| scaled to 0…255.") var out: String?
    @Flag(help: "Train one 3×3 convolution to reproduce --filter (a single-direction one) on this image and compare.") var learn = false

    func run() throws {
        guard let f = EdgeFilter(rawValue: filter) else {
            throw ConvKitError.invalidArgument(name: "--filter", expected: "one of \(EdgeFilter.allCases.map(\.rawValue).joined(separator: ", "))", found: filter)
        }
        let img = try ImageFile.load(image)
        guard img.shape[1] >= 3, img.shape[2] >= 3 else { throw ConvKitError.shapeMismatch(expected: "an image of at least 3×3", found: "\(img.shape[2])×\(img.shape[1])") }
        if learn {
            guard let k = f.kernel else { throw ConvKitError.invalidArgument(name: "--filter with --learn", expected: "a single-direction filter (sobelX, vertical, …)", found: filter) }
            let (learned, mse) = EdgeFilter.learn(toReproduce: f, from: img)
            let err = zip(learned, k).map { Swift.abs($0 - $1) }.max() ?? 0
            print("target  " + k.map { String(format: "%6.2f", $0) }.joined(separator: " "))
            print("learned " + learned.map { String(format: "%6.2f", $0) }.joined(separator: " "))
            print(String(format: "largest weight difference %.4f, final mean squared error %.2e", err, mse))
            return
        }
        let r = EdgeFilter.display(f.apply(img))
        let path = out ?? ((image as NSString).deletingPathExtension + "_\(filter).png")
        try PNG.save(PNG.Image(tensor: r), to: path)
        print("\(image): \(filter) edges → \(path)")
    }
}
