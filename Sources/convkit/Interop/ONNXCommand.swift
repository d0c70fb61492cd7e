import ArgumentParser
import ConvKit
import ConvKitInterop
import Foundation

/// `convkit onnx …`: run, inspect and check ONNX models.
struct ONNXCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "onnx", abstract: "ONNX models: run, inspect, check conformance cases.",
                                                    subcommands: [ONNXRunCommand.self, ONNXInfoCommand.self, ONNXCheckCommand.self, ONNXOpsCommand.self, ONNXExportCommand.self])
}

struct ONNXCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "check",
        abstract: "Run one case in ONNX's backend-test layout (model.onnx, test_data_set_*/input_*.pb, output_*.pb) and compare outputs.")
    @Argument(help: "The case folder.") var caseDirectory: String
    @Option(help: "Relative tolerance.") var rtol: Float = 1e-3
    @Option(help: "Absolute tolerance.") var atol: Float = 1e-5
    @Flag(help: "Print {\"case\",\"passed\",\"outputs\":[{\"name\",\"max_abs_error\"}],\"error\"}.") var json = false
    @OptionGroup var threadOptions: ThreadOptions

    func validate() throws {
        guard rtol >= 0, atol >= 0, rtol.isFinite, atol.isFinite else {
            throw ValidationError("--rtol and --atol must be finite and non-negative, found \(rtol) and \(atol)")
        }
    }

    func run() throws {
        threadOptions.apply()
        let r = ONNXConformance.check(caseDirectory: URL(fileURLWithPath: caseDirectory), rtol: rtol, atol: atol)
        if json {
            print(String(data: try JSONSerialization.data(withJSONObject: r.json, options: [.sortedKeys]), encoding: .utf8)!)
        } else {
            print("\(r.name): \(r.passed ? "passed" : "FAILED")")
            for o in r.outputs { print("  \(o.name): max abs error \(o.maxAbsError)") }
            if let e = r.error { print("  \(e)") }
        }
        if !r.passed { throw ExitCode(1) }
    }
}

struct ONNXInfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "info", abstract: "Inputs, outputs, operator counts, parameters and MACs of an ONNX model.")
    @Argument(help: "The .onnx file.") var model: String
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        let m = try ONNXModel(contentsOf: URL(fileURLWithPath: model))
        let summary = try? ONNXModelSummary.of(m)
        if json {
            var d: [String: Any] = [
                "model": model, "opset": m.opset, "ir_version": m.irVersion, "producer": m.producer,
                "inputs": m.inputs.map { ["name": $0.name, "type": $0.elementType.map { "\($0)" } ?? "?", "shape": $0.shape?.map(\.description) ?? []] },
                "outputs": m.outputs.map { ["name": $0.name, "type": $0.elementType.map { "\($0)" } ?? "?", "shape": $0.shape?.map(\.description) ?? []] },
                "operators": Dictionary(uniqueKeysWithValues: m.operatorCounts), "nodes": m.operatorCounts.reduce(0) { $0 + $1.1 },
                "fused_nodes": m.runtimeNodeCount, "params": m.parameterCount,
            ]
            if let s = summary { d["macs"] = s.macs; d["summary_input"] = s.input }
            print(String(data: try JSONSerialization.data(withJSONObject: d, options: [.sortedKeys]), encoding: .utf8)!)
            return
        }
        print("\(model): opset \(m.opset), IR \(m.irVersion)\(m.producer.isEmpty ? "" : ", from \(m.producer)")")
        for i in m.inputs { print("  input  \(i)") }
        for o in m.outputs { print("  output \(o)") }
        print("  \(m.operatorCounts.reduce(0) { $0 + $1.1 }) nodes (\(m.runtimeNodeCount) after fusion): " + m.operatorCounts.map { "\($0.0) \($0.1)" }.joined(separator: ", "))
        print("  parameters: \(m.parameterCount)")
        if let s = summary { print("  multiply-adds at \(s.input): \(s.macs)") }
    }
}

struct ONNXRunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Run an ONNX model on NumPy inputs and write its outputs as .npy.")
    @Argument(help: "The .onnx file.") var model: String
    @Option(name: .customLong("input"), help: "NAME=FILE.npy for each model input (or just FILE.npy for a single-input model).") var inputs: [String] = []
    @Option(help: "Folder for the outputs (NAME.npy each).") var outputDir = "runs/onnx"
    @Flag(help: "Print one JSON line with output names, shapes and time.") var json = false
    @OptionGroup var threadOptions: ThreadOptions

    func run() throws {
        threadOptions.apply()
        let m = try ONNXModel(contentsOf: URL(fileURLWithPath: model))
        let feeds = try ModelRunFiles.feeds(inputs, inputNames: m.inputs.map(\.name)).mapValues { ONNXValue.float($0) }
        let start = Date()
        let out = try Autograd.withoutGradients { try m.run(feeds) }
        let ms = Date().timeIntervalSince(start) * 1000
        try ModelRunFiles.write(out.mapValues(\.floatTensor), names: m.outputs.map(\.name), to: outputDir, model: model, ms: ms, json: json)
    }
}

struct ONNXOpsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ops", abstract: "List the ONNX operators ConvKit imports.")
    func run() throws { print(ONNXModel.supportedOperators.joined(separator: "\n")) }
}
