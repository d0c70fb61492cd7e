import CConvKernels
import Foundation

/// The ways the plan runs an ungrouped-or-block-grouped convolution on a blocked input: the direct kernel, or
/// Winograd F(2×2, 3×3) / F(4×4, 3×3) where the convolution is 3×3, stride 1. `choose` times the candidates once
/// on the layer's own shape (or, without tuning, takes the rule), like `ConvTuner` does for the NCHW paths.
enum BlockedConvolutionKernel {
    case direct(BlockedConvolution)
    case winograd(BlockedWinograd)

    var name: String {
        switch self {
        case .direct: return "direct"
        case .winograd(let w): return "winograd F(\(w.m)×\(w.m))"
        }
    }

    /// Floats of scratch a run needs (one image at a time).
    var scratchElements: Int {
        if case .winograd(let w) = self { return w.scratchElements }
        return 0
    }

    func run(_ x: UnsafePointer<Float>, inImageStride: Int, batch: Int, residual: UnsafePointer<Float>?, residualImageStride: Int,
             lower: Float, upper: Float, _ out: UnsafeMutablePointer<Float>, outImageStride: Int, scratch: UnsafeMutablePointer<Float>?) {
        switch self {
        case .direct(let k):
            k.run(x, inImageStride: inImageStride, batch: batch, residual: residual, residualImageStride: residualImageStride,
                  lower: lower, upper: upper, out, outImageStride: outImageStride)
        case .winograd(let k):
            k.run(x, inImageStride: inImageStride, batch: batch, residual: residual, residualImageStride: residualImageStride,
                  lower: lower, upper: upper, out, outImageStride: outImageStride, scratch: scratch!)
        }
    }

    /// The kernel for this convolution: with `tuning`, the fastest candidate over a few timed runs (and each
    /// candidate's milliseconds), decided once per shape in the process; otherwise the rule — F(4×4) for 3×3
    /// stride-1 layers whose maps hold at least 4×4 tiles of 4, the direct kernel for the rest. F(4×4) keeps 4× the
    /// direct kernel's weights (F(2×2) 1.8×), so it is taken only when at least 10% faster than the others.
    static func choose(weight: Tensor, bias: Tensor?, plan: ConvPlan, tuning: Bool) -> (BlockedConvolutionKernel, [String: Double]) {
        func make(_ a: Algorithm) -> BlockedConvolutionKernel {
            switch a {
            case .direct: return .direct(BlockedConvolution(weight: weight, bias: bias, plan: plan, plainInput: false))
            case .winograd2: return .winograd(BlockedWinograd(weight: weight, bias: bias, plan: plan, m: 2))
            case .winograd4: return .winograd(BlockedWinograd(weight: weight, bias: bias, plan: plan, m: 4))
            }
        }
        guard BlockedWinograd.supports(plan) else { return (make(.direct), [:]) }
        guard tuning else {
            let g = plan.geometry
            return (make(g.output[0] >= 16 && g.output[1] >= 16 ? .winograd4 : .direct), [:])
        }
        let key = Key(shape: ConvShape(plan), threads: Parallel.threads, isa: ck_active_isa().rawValue)
        if let known = lock.withLock({ decisions[key] }) { return (make(known.algorithm), known.times) }
        var times: [Algorithm: Double] = [:]
        for a in Algorithm.allCases { times[a] = time(make(a), plan: plan) }
        var best = times.min { $0.value < $1.value }!.key
        if best == .winograd4, let others = times.filter({ $0.key != .winograd4 }).values.min(), times[.winograd4]! > 0.9 * others {
            best = times.filter { $0.key != .winograd4 }.min { $0.value < $1.value }!.key
        }
        let named = Dictionary(uniqueKeysWithValues: times.map { (make($0.key).name, $0.value) })
        lock.withLock { decisions[key] = (best, named) }
        return (make(best), named)
    }

    enum Algorithm: CaseIterable { case direct, winograd2, winograd4 }
    private struct Key: Hashable { var shape: ConvShape, threads: Int, isa: UInt32 }
    nonisolated(unsafe) private static var decisions: [Key: (algorithm: Algorithm, times: [String: Double])] = [:]
    private static let lock = NSLock()

    /// Best of up to three runs (one when a run takes over 5 ms) on inputs of the layer's shape, milliseconds.
    private static func time(_ k: BlockedConvolutionKernel, plan: ConvPlan) -> Double {
        let lanes = BlockedLayout.lanes
        let inImage = BlockedLayout.blocks(plan.inChannels) * plan.geometry.input.reduce(1, *) * lanes
        let outImage = BlockedLayout.blocks(plan.outChannels) * plan.geometry.output.reduce(1, *) * lanes
        let x = [Float](repeating: 0.5, count: inImage * plan.batch)
        var y = [Float](repeating: 0, count: outImage * plan.batch)
        var scratch = [Float](repeating: 0, count: Swift.max(1, k.scratchElements))
        var fastest = Double.infinity
        x.withUnsafeBufferPointer { xb in y.withUnsafeMutableBufferPointer { yb in scratch.withUnsafeMutableBufferPointer { sb in
            for _ in 0..<3 {
                let t0 = DispatchTime.now().uptimeNanoseconds
                k.run(xb.baseAddress!, inImageStride: inImage, batch: plan.batch, residual: nil, residualImageStride: 0,
                      lower: 0, upper: .infinity, yb.baseAddress!, outImageStride: outImage, scratch: sb.baseAddress!)
                fastest = Swift.min(fastest, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
                if fastest > 5 { break }
            }
        } } }
        return fastest
    }
}
