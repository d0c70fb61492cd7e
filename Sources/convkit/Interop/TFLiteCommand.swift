import ArgumentParser
import ConvKit
import ConvKitInterop
import Foundation

/// `convkit tflite …`: run and inspect TFLite models (imported onto ConvKit's operators).
struct TFLiteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tflite", abstract: "TFLite models: run, inspect.",
                                                    subcommands: [TFLiteRunCommand.self, TFLiteInfoCommand.self])
}

struct TFLiteInfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "info", abstract: "Inputs, outputs, operator counts, parameters and MACs of a TFLite model.")
    @Argument(help: "The .tflite file.") var model: String
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        let m = try TFLiteModel(contentsOf: URL(fileURLWithPath: model))
        let summary = try? ONNXModelSummary.of(m.graph, name: "tflite")
        let nodes = m.operatorCounts.reduce(0) { $0 + $1.1 }
        func describe(_ t: TFLiteModel.TensorInfo) -> [String: Any] { ["name": t.name, "type": t.type, "shape": t.shape, "signature": t.signature] }
        if json {
            var d: [String: Any] = [
                "model": model, "schema_version": m.schemaVersion, "description": m.modelDescription,
                "inputs": m.inputs.map(describe), "outputs": m.outputs.map(describe), "tensors": m.tensorCount,
                "operators": Dictionary(uniqueKeysWithValues: m.operatorCounts), "nodes": nodes,
                "fused_nodes": m.graph.runtimeNodeCount, "params": m.graph.parameterCount,
            ]
            if let s = summary { d["macs"] = s.macs }
            print(String(data: try JSONSerialization.data(withJSONObject: d, options: [.sortedKeys]), encoding: .utf8)!)
            return
        }
        print("\(model): TFLite schema \(m.schemaVersion)\(m.modelDescription.isEmpty ? "" : ", \"\(m.modelDescription)\""), \(m.tensorCount) tensors")
        for i in m.inputs { print("  input  \(i)") }
        for o in m.outputs { print("  output \(o)") }
        print("  \(nodes) operators (\(m.graph.runtimeNodeCount) ConvKit nodes after folding and fusion): " + m.operatorCounts.map { "\($0.0) \($0.1)" }.joined(separator: ", "))
        print("  parameters: \(m.graph.parameterCount)")
        if let s = summary { print("  multiply-adds: \(s.macs)") }
    }
}

struct TFLiteRunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Run a TFLite model on NumPy inputs (in the file's layout, NHWC for images) and write its outputs as .npy.")
    @Argument(help: "The .tflite file.") var model: String
    @Option(name: .customLong("input"), help: "NAME=FILE.npy for each model input (or just FILE.npy for a single-input model).") var inputs: [String] = []
    @Option(help: "Folder for the outputs (NAME.npy each).") var outputDir = "runs/tflite"
    @Flag(help: "Print one JSON line with output names, shapes and time.") var json = false
    @OptionGroup var threadOptions: ThreadOptions

    func run() throws {
        threadOptions.apply()
        let m = try TFLiteModel(contentsOf: URL(fileURLWithPath: model))
        let feeds = try ModelRunFiles.feeds(inputs, inputNames: m.inputs.map(\.name))
        for i in m.inputs where feeds[i.name] == nil {
            throw ValidationError("missing --input for '\(i.name)' (\(i))")
        }
        let start = Date()
        let out = try m.run(feeds)
        let ms = Date().timeIntervalSince(start) * 1000
        try ModelRunFiles.write(out, names: m.outputs.map(\.name), to: outputDir, model: model, ms: ms, json: json)
    }
}
