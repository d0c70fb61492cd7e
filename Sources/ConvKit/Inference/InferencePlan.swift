import Foundation

/// A model compiled for inference on one input shape, the way ONNX Runtime and TensorRT run a graph.
///
/// The forward pass is captured once (`CapturedGraph`) and lowered to a fixed list of steps on the blocked layout
/// (NCHW16c, `BlockedLayout`): every convolution with its batch norm folded in and its residual sum and
/// ReLU/ReLU6 in the epilogue, depthwise convolutions, pooling, dense layers as matrix–vector products at batch 1,
/// concatenations written in place by the layers that produce their parts. All intermediate values live in one
/// arena whose offsets are planned from the values' lifetimes (`MemoryPlan`), so a run allocates nothing but its
/// outputs. Weights are read when the plan is made: a plan does not follow later changes to the module.
///
/// A graph with an operation the plan has no kernel for is refused (`InferencePlanError`); run the module itself
/// then. Runs are serialized (one arena).
public final class InferencePlan {
    public let inputShape: [Int]
    public let outputShapes: [[Int]]
    /// Bytes of the activation arena.
    public let arenaBytes: Int
    /// One line per step: what runs, on which shapes.
    public var explanation: [String] { steps.map(\.description) }

    fileprivate let steps: [PlanStep]
    private let outputs: [PlanValue]
    fileprivate let arena: UnsafeMutableRawPointer
    fileprivate let lock = NSLock()

    /// Captures `forward` on `module` and compiles it for inputs of `inputShape`. The pass is captured at batch 1,
    /// which keeps compiling cheap at any batch (the capture holds every intermediate value); a value whose first
    /// axis is then not 1 — an operation that mixes the batch axis with another — is refused.
    public convenience init(_ module: Module, inputShape: [Int], forward: (Variable) throws -> [Variable]) throws {
        precondition(inputShape.count >= 2 && inputShape[0] >= 1, "input shape [N, …] expected, got \(inputShape)")
        let captureShape = [1] + inputShape.dropFirst()
        let graph = try CapturedGraph.capture(module, input: Tensor.zeros(captureShape), forward: forward)
        graph.releaseComputedValues()
        try self.init(graph: graph, batch: inputShape[0])
    }

    /// Compiles a unary layer (a zoo model, a `Sequential`) for inputs of `inputShape`.
    public convenience init(_ model: Module & UnaryLayer, inputShape: [Int]) throws {
        try self.init(model, inputShape: inputShape) { [model($0)] }
    }

    /// Compiles a captured pass for `batch` images (the capture's own batch by default).
    public init(graph: CapturedGraph, batch: Int? = nil) throws {
        let lowering = PlanLowering(graph, batch: batch ?? graph.input.shape[0])
        outputs = try lowering.lower()
        steps = lowering.steps
        inputShape = [lowering.batch] + graph.shape(of: graph.input).dropFirst()
        outputShapes = outputs.map(\.shape)
        let floats = MemoryPlan.assign(steps: steps, outputs: outputs)
        arenaBytes = Swift.max(floats, 16) * MemoryLayout<Float>.stride
        arena = UnsafeMutableRawPointer.allocate(byteCount: arenaBytes, alignment: 64)
    }

    deinit { arena.deallocate() }

    /// The outputs for input `x` (of `inputShape`), as the module's forward pass computes them.
    public func callAsFunction(_ x: Tensor) -> [Tensor] {
        precondition(x.shape == inputShape, "plan compiled for input \(inputShape), got \(x.shape)")
        lock.lock(); defer { lock.unlock() }
        return x.withUnsafeBufferPointer { xb in
            let memory = PlanMemory(arena: arena.assumingMemoryBound(to: Float.self), input: xb.baseAddress!)
            for step in steps { step.run(memory) }
            return outputs.map { v in
                let p = memory.pointer(v), per = PlanValue.elementsPerImage(v.shape, .plain)
                return Tensor(shape: v.shape) { out in
                    for n in 0..<v.batch { (out.baseAddress! + n * per).update(from: p + n * v.imageStride, count: per) }
                }
            }
        }
    }
}

extension InferencePlan {
    /// Each step's median time over `runs` runs on `x`, in milliseconds, with its description.
    public func profile(_ x: Tensor, runs: Int = 10) -> [(step: String, ms: Double)] {
        precondition(x.shape == inputShape, "plan compiled for input \(inputShape), got \(x.shape)")
        lock.lock(); defer { lock.unlock() }
        var times = [[Double]](repeating: [], count: steps.count)
        x.withUnsafeBufferPointer { xb in
            let memory = PlanMemory(arena: arena.assumingMemoryBound(to: Float.self), input: xb.baseAddress!)
            for _ in 0..<Swift.max(1, runs) {
                for (i, step) in steps.enumerated() {
                    let t0 = DispatchTime.now().uptimeNanoseconds
                    step.run(memory)
                    times[i].append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
                }
            }
        }
        return zip(steps, times).map { ($0.description, $1.sorted()[$1.count / 2]) }
    }
}

/// Why a graph cannot be compiled: the operation and what the plan expected of it.
public struct InferencePlanError: Error, CustomStringConvertible {
    public let op: String, reason: String
    public var description: String { "no inference plan: \(op) \(reason)" }
}
