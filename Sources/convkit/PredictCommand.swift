import ArgumentParser
import ConvKit
import ConvKitData
import Foundation

/// `convkit predict`: the top-k classes with probabilities for each image file.
struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "predict", abstract: "Classify image files (PNG, JPEG, PGM, PPM) with a trained model.")

    @Option(help: "Model name (checked against the checkpoint).") var model: String?
    @Option(help: "Checkpoint written by `convkit train` (or give --onnx).") var weights: String?
    @Option(name: .customShort("k"), help: "How many classes to show per image (1…100).") var top = 3
    @Flag(help: "Print one JSON object per image.") var json = false
    @Argument(help: "Image files.") var images: [String]
    @OptionGroup var onnxOptions: ONNXPredictOptions

    func validate() throws {
        guard (1...100).contains(top) else { throw ValidationError("-k must be in 1…100, found \(top)") }
        guard !images.isEmpty else { throw ValidationError("give at least one image file") }
        guard (weights == nil) != (onnxOptions.onnx == nil) else { throw ValidationError("give exactly one of --weights and --onnx") }
    }

    func run() throws {
        if onnxOptions.onnx != nil { return try onnxOptions.run(images: images, top: top, json: json) }
        guard let weights else { throw ValidationError("give --weights or --onnx") }
        let input = try ModelInput(checkpoint: weights)
        let net = try input.loadModel(weights: weights, expectedName: model)
        for path in images {
            let x = input.prepare(try ImageFile.load(path)).unsqueezed(axis: 0)
            let probs = net.predict(x).softmax(axis: 1).scalars
            let ranked = probs.indices.sorted { probs[$0] > probs[$1] }.prefix(top)
            if json {
                let obj: [String: Any] = ["image": path, "top": ranked.map { ["class": input.classes[$0], "probability": Double(probs[$0])] }]
                print(String(data: try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys]), encoding: .utf8)!)
            } else {
                print("\(path): " + ranked.map { String(format: "%@ %.1f%%", input.classes[$0], probs[$0] * 100) }.joined(separator: ", "))
            }
        }
    }
}
