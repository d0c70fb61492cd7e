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
    /// candidate's milliseconds); otherwise the rule — F(4×4) for 3×3 stride-1 layers whose maps hold at least
    /// 4×4 tiles of 4, the direct kernel for the rest.
    static func choose(weight: Tensor, bias: Tensor?, plan: ConvPlan, tuning: Bool) -> (BlockedConvolutionKernel, [String: Double]) {
        let direct = BlockedConvolutionKernel.direct(BlockedConvolution(weight: weight, bias: bias, plan: plan, plainInput: false))
        guard BlockedWinograd.supports(plan) else { return (direct, [:]) }
        let f4 = BlockedConvolutionKernel.winograd(BlockedWinograd(weight: weight, bias: bias, plan: plan, m: 4))
        guard tuning else {
            let g = plan.geometry
            return (g.output[0] >= 16 && g.output[1] >= 16 ? f4 : direct, [:])
        }
        let f2 = BlockedConvolutionKernel.winograd(BlockedWinograd(weight: weight, bias: bias, plan: plan, m: 2))
        let candidates = [direct, f2, f4]
        let lanes = BlockedLayout.lanes
        let inImage = BlockedLayout.blocks(plan.inChannels) * plan.geometry.input.reduce(1, *) * lanes
        let outImage = BlockedLayout.blocks(plan.outChannels) * plan.geometry.output.reduce(1, *) * lanes
        let x = [Float](repeating: 0.5, count: inImage * plan.batch)
        var y = [Float](repeating: 0, count: outImage * plan.batch)
        var scratch = [Float](repeating: 0, count: Swift.max(1, candidates.map(\.scratchElements).max()!))
        var times: [String: Double] = [:], best = (Double.infinity, direct)
        x.withUnsafeBufferPointer { xb in y.withUnsafeMutableBufferPointer { yb in scratch.withUnsafeMutableBufferPointer { sb in
            for k in candidates {
                var fastest = Double.infinity
                for _ in 0..<3 {
                    let t0 = DispatchTime.now().uptimeNanoseconds
                    k.run(xb.baseAddress!, inImageStride: inImage, batch: plan.batch, residual: nil, residualImageStride: 0,
                          lower: 0, upper: .infinity, yb.baseAddress!, outImageStride: outImage, scratch: sb.baseAddress!)
                    fastest = Swift.min(fastest, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
                    if fastest > 5 { break }
                }
                times[k.name] = fastest
                if fastest < best.0 { best = (fastest, k) }
            }
        } } }
        return (best.1, times)
    }
}
