import ArgumentParser
import ConvKit
import ConvKitInterop
import ConvKitModels
import Foundation

/// `convkit summary MODEL`: per-layer output shapes, parameters, multiply-accumulates and receptive fields.
struct SummaryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "summary", abstract: "Explain a model: shapes, parameters, MACs, receptive fields.")

    @Argument(help: "Model name (see `convkit models`), or an .onnx file.") var model: String
    @Option(help: "Input size as CxHxW (default: the architecture's own).") var input: String?
    @Option(help: "Number of classes (1…100000; default the model's own: 10 for lenet5 and yolo_tiny, 1000 for the ImageNet models).") var classes: Int?
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        if let classes { guard (1...100_000).contains(classes) else { throw ValidationError("--classes must be in 1…100000, found \(classes)") } }
        if let input {
            let parts = input.lowercased().split(separator: "x").compactMap { Int($0) }
            guard parts.count == 3, parts.allSatisfy({ $0 > 0 && $0 <= 4096 }) else {
                throw ValidationError("--input must look like 3x224x224 (three positive sizes ≤ 4096), found \(input)")
            }
        }
    }

    func run() throws {
        if model.lowercased().hasSuffix(".onnx") || model.lowercased().hasSuffix(".tflite") {
            // An imported model: one pass on zeros of its declared input (or --input), ops recorded as for the zoo.
            let url = URL(fileURLWithPath: model)
            let m = model.lowercased().hasSuffix(".tflite") ? try TFLiteModel(contentsOf: url).graph : try ONNXModel(contentsOf: url)
            let shape = input.map { $0.lowercased().split(separator: "x").compactMap { Int($0) } }
            let s = try ONNXModelSummary.of(m, inputShape: shape, name: (model as NSString).lastPathComponent)
            print(json ? s.jsonString() : s.table())
            return
        }
        guard let entry = ModelZoo.entries.first(where: { $0.name == model.lowercased() }) else {
            _ = try ModelZoo.make(model)   // throws the "expected one of …" error
            return
        }
        let shape = input.map { $0.lowercased().split(separator: "x").compactMap { Int($0) } } ?? entry.inputShape
        try entry.validate(input: shape)
        let net = entry.make(classes ?? (entry.name.hasPrefix("lenet") || entry.name.hasPrefix("yolo") ? 10 : 1000), shape[0])
        let s = try ModelSummary.checked(net, name: entry.name, inputShape: shape)
        print(json ? s.jsonString() : s.table())
    }
}
