import ConvKit
import ConvKitInterop
import Foundation

/// `convkit bench --onnx MODEL --batch B`: median inference time of an imported model on random inputs of its declared
/// shapes (symbolic batch axes set to B), after warm-up.
struct ONNXBenchmark: Encodable {
    var model: String
    var batch: Int
    var threads: Int
    var infer_ms: Double
    var nodes: Int
    var fused_nodes: Int

    static func run(path: String, batch: Int, seconds: Double) throws -> ONNXBenchmark {
        let m = try ONNXModel(contentsOf: URL(fileURLWithPath: path))
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
        let ms = medianMilliseconds(seconds: seconds) { _ = try? Autograd.withoutGradients { try m.run(feeds) } }
        return ONNXBenchmark(model: path, batch: batch, threads: Parallel.threads, infer_ms: ms,
                             nodes: m.operatorCounts.reduce(0) { $0 + $1.1 }, fused_nodes: m.runtimeNodeCount)
    }

    var line: String { String(format: "%@ batch %d, %d threads: inference %.2f ms (%d nodes, %d after folding and fusion)", model, batch, threads, infer_ms, nodes, fused_nodes) }

    func jsonString() -> String {
        let enc = JSONEncoder(); enc.outputFormatting = [.sortedKeys]
        return String(data: try! enc.encode(self), encoding: .utf8)!
    }
}
