import ConvKit
import ConvKitInterop
import Foundation

/// `convkit bench --onnx MODEL --batch B` (or `--tflite MODEL`): median inference time of an imported model on random
/// inputs of its declared shapes (symbolic batch axes set to B), after warm-up.
struct ONNXBenchmark: Encodable {
    var model: String
    var batch: Int
    var threads: Int
    var infer_ms: Double
    var nodes: Int
    var fused_nodes: Int
    /// Milliseconds per run spent in each operator (with --profile), largest first.
    var profile_ms: [String: Double]?
    /// The process's peak resident memory after the runs, MB.
    var peak_rss_mb: Double
    /// What ran: "plan" (the graph compiled, `InferencePlan`) or "eager" (the imported module node by node).
    var engine: String
    /// Why the graph could not be compiled, when it could not.
    var plan_error: String?

    static func run(path: String, batch: Int, seconds: Double, profile: Bool = false, tflite: Bool = false,
                    eager: Bool = false) throws -> ONNXBenchmark {
        let url = URL(fileURLWithPath: path)
        let m = tflite ? try TFLiteModel(contentsOf: url).graph : try ONNXModel(contentsOf: url)
        var rng = SeededGenerator(seed: 0)
        var feeds = [String: ONNXValue]()
        for i in m.inputs {
            guard var shape = i.concreteShape(batch: batch) else {
                throw ConvKitError.invalidArgument(name: "--onnx", expected: "inputs with fixed shapes (a symbolic batch axis at most)", found: "\(i)")
            }
            if case .fixed? = i.shape?.first, shape.count > 1 { shape[0] = batch }
            feeds[i.name] = .float(Tensor.normal(shape, rng: &rng))
        }
        // One checked run first: errors surface here, not inside the timing loop.
        _ = try Autograd.withoutGradients { try m.run(feeds) }
        // A single-input model is compiled into an inference plan when every operation has a planned kernel.
        var plan: InferencePlan? = nil, planError: String? = nil
        var input: Tensor? = nil
        if m.inputs.count == 1, case .float(let x, _)? = feeds[m.inputs[0].name] { input = x.value }
        if !eager, let input {
            do { plan = try InferencePlan(m, inputShape: input.shape) { try m.forward([$0]) } } catch { planError = "\(error)" }
        }
        let ms = medianMilliseconds(seconds: seconds) {
            if let plan, let input { _ = plan(input) } else { _ = try? Autograd.withoutGradients { try m.run(feeds) } }
        }
        var perOp: [String: Double]? = nil
        if profile, let plan, let input {
            perOp = [:]
            for (i, step) in plan.profile(input).enumerated() { perOp![String(format: "%03d %@", i, step.step)] = step.ms }
        } else if profile {
            m.profiling = true
            let runs = 10
            for _ in 0..<runs { _ = try Autograd.withoutGradients { try m.run(feeds) } }
            perOp = m.profile.mapValues { $0 * 1000 / Double(runs) }
        }
        return ONNXBenchmark(model: path, batch: batch, threads: Parallel.threads, infer_ms: ms,
                             nodes: m.operatorCounts.reduce(0) { $0 + $1.1 }, fused_nodes: m.runtimeNodeCount, profile_ms: perOp,
                             peak_rss_mb: PeakMemory.residentMegabytes(), engine: plan != nil ? "plan" : "eager", plan_error: planError)
    }

    var line: String {
        String(format: "%@ batch %d, %d threads: inference %.2f ms (%@; %d nodes, %d after folding and fusion)", model, batch, threads, infer_ms,
               engine, nodes, fused_nodes) + (plan_error.map { "\n  " + $0 } ?? "")
            + (profile_ms.map { p in "\n" + p.sorted { $0.value > $1.value }.map { String(format: "  %-22@ %8.3f ms", $0.key, $0.value) }.joined(separator: "\n") } ?? "")
    }

    func jsonString() -> String {
        let enc = JSONEncoder(); enc.outputFormatting = [.sortedKeys]
        return String(data: try! enc.encode(self), encoding: .utf8)!
    }
}
