import ArgumentParser
import ConvKit
import ConvKitInterop
import ConvKitModels
import Foundation

/// `convkit onnx export --model NAME [--weights W] --out M.onnx`: a zoo model (a fresh seeded initialization, or a
/// checkpoint's weights) as an ONNX file at opset 17, batch axis symbolic.
struct ONNXExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "export",
        abstract: "Export a zoo model (seeded initialization, or --weights from a checkpoint) to ONNX (opset 17, symbolic batch).")
    @Option(help: "A zoo model (convkit models lists them).") var model: String?
    @Option(help: "A checkpoint (.safetensors from convkit train): its architecture, input shape and weights.") var weights: String?
    @Option(help: "Input size as CxHxW (default: the architecture's own or the checkpoint's).") var input: String?
    @Option(help: "Classes of a fresh model (default 1000; LeNet and YOLO 10).") var classes: Int?
    @Option(help: "Seed of a fresh model's initialization.") var seed: UInt64 = 0
    @Option(help: "The .onnx file to write (atomically).") var out: String
    @Option(help: "Also write DIR/input.npy (a seeded batch of 2) and DIR/output.npy (ConvKit's own output on it), to check a runtime against.") var reference: String?
    @Flag(help: "Print one JSON line: {\"model\",\"out\",\"bytes\",\"nodes\",\"params\",…}.") var json = false

    func run() throws {
        let net: any UnaryLayer, name: String, shape: [Int]
        if let weights {
            let meta = try ModelInput(checkpoint: weights)
            net = try meta.loadModel(weights: weights, expectedName: model)
            name = meta.model
            shape = try input.map(parseShape) ?? meta.shape
            guard shape[0] == meta.shape[0] else {
                throw ValidationError("--input \(shape.map(String.init).joined(separator: "x")): the checkpoint's \(name) takes \(meta.shape[0]) channels")
            }
            if let entry = ModelZoo.entries.first(where: { $0.name == name }) { try entry.validate(input: shape) }
        } else {
            guard let model else { throw ValidationError("give --model NAME or --weights CHECKPOINT") }
            guard let entry = ModelZoo.entries.first(where: { $0.name == model.lowercased() }) else {
                _ = try ModelZoo.make(model)   // throws the "expected one of …" error
                return
            }
            shape = try input.map(parseShape) ?? entry.inputShape
            try entry.validate(input: shape)
            if let classes, !(1...1_000_000).contains(classes) {
                throw ValidationError("--classes must be 1…1000000, found \(classes)")
            }
            ConvKitRandom.seed(seed)
            net = entry.make(classes ?? (entry.name.hasPrefix("lenet") || entry.name.hasPrefix("yolo") ? 10 : 1000), shape[0])
            name = entry.name
        }
        net.eval()
        let data = try ONNXExporter.export(net, inputShape: shape, seed: seed)
        let folder = (out as NSString).deletingLastPathComponent
        if !folder.isEmpty { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        try AtomicFile.write(data, to: out)
        let reloaded = try ONNXModel(serialized: data, path: out)
        if let reference {
            var rng = SeededGenerator(seed: seed &+ 1)
            let x = Tensor.normal([2] + shape, rng: &rng)
            try FileManager.default.createDirectory(atPath: reference, withIntermediateDirectories: true)
            try NumPy.save(x, to: reference + "/input.npy")
            try NumPy.save(net.predict(x), to: reference + "/output.npy")
        }
        if json {
            let d: [String: Any] = ["model": name, "out": out, "bytes": data.count, "nodes": reloaded.operatorCounts.reduce(0) { $0 + $1.1 },
                                    "params": reloaded.parameterCount, "opset": ONNXExporter.opset, "input": [1] + shape]
            print(String(data: try JSONSerialization.data(withJSONObject: d, options: [.sortedKeys]), encoding: .utf8)!)
        } else {
            print("\(name) → \(out): \(data.count) bytes, opset \(ONNXExporter.opset), \(reloaded.operatorCounts.reduce(0) { $0 + $1.1 }) nodes ("
                  + reloaded.operatorCounts.map { "\($0.0) \($0.1)" }.joined(separator: ", ") + "), \(reloaded.parameterCount) parameters, input [N, "
                  + shape.map(String.init).joined(separator: ", ") + "]")
        }
    }

    func parseShape(_ s: String) throws -> [Int] {
        let parts = s.lowercased().split(separator: "x").compactMap { Int($0) }
        guard parts.count == 3, parts.allSatisfy({ (1...4096).contains($0) }) else {
            throw ValidationError("--input must look like 3x224x224 (three positive sizes ≤ 4096), found \(s)")
        }
        return parts
    }
}
