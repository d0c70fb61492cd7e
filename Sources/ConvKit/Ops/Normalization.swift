import Foundation

/// Per-channel statistics layout of an [N, C, *S] tensor: channel c's elements are n·C·S + c·S + s.
struct ChannelLayout {
    let n: Int, c: Int, s: Int
    init(_ shape: [Int]) {
        precondition(shape.count >= 2, "normalization needs [N, C, …], got \(shape)")
        n = shape[0]; c = shape[1]; s = shape[2...].reduce(1, *)
    }
}

/// Batch normalization, training mode: per channel c over batch and positions,
/// x̂ = (x − μ_c)/√(σ²_c + ε), y = γ_c x̂ + β_c. Returns y and the batch mean and biased variance;
/// the caller updates running statistics (see `BatchNormState`).
/// - Shapes: x [N, C, *S]; gamma, beta [C].
public func batchNormTraining(_ x: Tensor, gamma: Tensor, beta: Tensor, epsilon: Float = 1e-5)
    -> (output: Tensor, mean: Tensor, variance: Tensor) {
    let L = ChannelLayout(x.shape)
    var mean = [Float](repeating: 0, count: L.c), variance = mean
    x.withUnsafeBufferPointer { p in mean.withUnsafeMutableBufferPointer { mb in variance.withUnsafeMutableBufferPointer { vb in
        // Channels are independent: split them across threads. Sums in Double over Float partial sums.
        Parallel.forRanges(L.c, minChunk: Swift.max(1, 16_384 / Swift.max(L.n * L.s, 1))) { r in
            for c in r {
                var s = 0.0
                for n in 0..<L.n { s += Double(rowSum(p.baseAddress! + (n * L.c + c) * L.s, L.s)) }
                let mu = s / Double(L.n * L.s)
                var v = 0.0
                for n in 0..<L.n { v += Double(rowSquaredDeviation(p.baseAddress! + (n * L.c + c) * L.s, L.s, Float(mu))) }
                mb[c] = Float(mu); vb[c] = Float(v / Double(L.n * L.s))
            }
        }
    } } }
    let y = batchNormApply(x, mean: mean, variance: variance, gamma: gamma, beta: beta, epsilon: epsilon)
    return (y, Tensor(mean), Tensor(variance))
}

/// Batch normalization with given statistics (inference mode uses the running ones).
public func batchNormInference(_ x: Tensor, runningMean: Tensor, runningVariance: Tensor, gamma: Tensor, beta: Tensor,
                               epsilon: Float = 1e-5) -> Tensor {
    batchNormApply(x, mean: runningMean.scalars, variance: runningVariance.scalars, gamma: gamma, beta: beta, epsilon: epsilon)
}

/// Σ x over n floats with 8 partial sums (vectorizable, and closer to exact than one running sum).
@inline(__always) func rowSum(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = SIMD8<Float>(), i = 0
    while i + 8 <= n { acc += UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self); i += 8 }
    var s = acc.sum()
    while i < n { s += p[i]; i += 1 }
    return s
}

/// Σ (x − μ)² over n floats.
@inline(__always) func rowSquaredDeviation(_ p: UnsafePointer<Float>, _ n: Int, _ mu: Float) -> Float {
    var acc = SIMD8<Float>(), i = 0
    let m = SIMD8<Float>(repeating: mu)
    while i + 8 <= n { let d = UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self) - m; acc += d * d; i += 8 }
    var s = acc.sum()
    while i < n { let d = p[i] - mu; s += d * d; i += 1 }
    return s
}

func batchNormApply(_ x: Tensor, mean: [Float], variance: [Float], gamma: Tensor, beta: Tensor, epsilon: Float) -> Tensor {
    let L = ChannelLayout(x.shape)
    precondition(gamma.count == L.c && beta.count == L.c && mean.count == L.c, "batch norm parameters for \(L.c) channels")
    return Tensor(shape: x.shape) { o in
        x.withUnsafeBufferPointer { p in
            Parallel.forRanges(L.c, minChunk: Swift.max(1, 16_384 / Swift.max(L.n * L.s, 1))) { r in
                for c in r {
                    let scale = gamma.scalars[c] / (variance[c] + epsilon).squareRoot()
                    let shift = beta.scalars[c] - mean[c] * scale
                    for n in 0..<L.n { let b = (n * L.c + c) * L.s; for i in 0..<L.s { o[b + i] = p[b + i] * scale + shift } }
                }
            }
        }
    }
}

/// Gradients of training-mode batch normalization (statistics depend on x):
/// ∂L/∂x = γ/(m·σ) · (m·g − Σg − x̂·Σ(g·x̂)), ∂L/∂γ = Σ g·x̂, ∂L/∂β = Σ g, with m = N·S and σ = √(σ² + ε).
public func batchNormBackward(_ x: Tensor, gamma: Tensor, mean: Tensor, variance: Tensor, gradOutput g: Tensor,
                              epsilon: Float = 1e-5) -> (input: Tensor, gamma: Tensor, beta: Tensor) {
    let L = ChannelLayout(x.shape)
    let m = Float(L.n * L.s)
    var gGamma = [Float](repeating: 0, count: L.c), gBeta = gGamma
    let gx = Tensor(shape: x.shape) { o in
        x.withUnsafeBufferPointer { p in g.withUnsafeBufferPointer { gp in gGamma.withUnsafeMutableBufferPointer { gg in
        gBeta.withUnsafeMutableBufferPointer { gb in
            // Channels are independent: split them across threads; the two sums run in 8 vector lanes.
            Parallel.forRanges(L.c, minChunk: Swift.max(1, 16_384 / Swift.max(L.n * L.s, 1))) { r in
                for c in r {
                    let mu = mean.scalars[c], inv = 1 / (variance.scalars[c] + epsilon).squareRoot()
                    var accG = SIMD8<Float>(), accGX = SIMD8<Float>()
                    var sg: Float = 0, sgx: Float = 0
                    let mus = SIMD8<Float>(repeating: mu)
                    for n in 0..<L.n {
                        let xs = p.baseAddress! + (n * L.c + c) * L.s, gs = gp.baseAddress! + (n * L.c + c) * L.s
                        var i = 0
                        while i + 8 <= L.s {
                            let gv = UnsafeRawPointer(gs + i).loadUnaligned(as: SIMD8<Float>.self)
                            let xv = UnsafeRawPointer(xs + i).loadUnaligned(as: SIMD8<Float>.self)
                            accG += gv; accGX += gv * (xv - mus)
                            i += 8
                        }
                        while i < L.s { sg += gs[i]; sgx += gs[i] * (xs[i] - mu); i += 1 }
                    }
                    sg += accG.sum()
                    sgx = (sgx + accGX.sum()) * inv
                    gg[c] = sgx; gb[c] = sg
                    let k = gamma.scalars[c] * inv / m
                    for n in 0..<L.n {
                        let base = (n * L.c + c) * L.s
                        for i in 0..<L.s { o[base + i] = k * (m * gp[base + i] - sg - (p[base + i] - mu) * inv * sgx) }
                    }
                }
            }
        } } } }
    }
    return (gx, Tensor(gGamma), Tensor(gBeta))
}

/// Gradient of inference-mode batch normalization (fixed statistics): ∂L/∂x = g·γ/σ.
public func batchNormInferenceBackward(gamma: Tensor, runningVariance: Tensor, gradOutput g: Tensor, epsilon: Float = 1e-5) -> Tensor {
    let L = ChannelLayout(g.shape)
    return Tensor(shape: g.shape) { o in
        for c in 0..<L.c {
            let k = gamma.scalars[c] / (runningVariance.scalars[c] + epsilon).squareRoot()
            for n in 0..<L.n { let b = (n * L.c + c) * L.s; for i in 0..<L.s { o[b + i] = g.scalars[b + i] * k } }
        }
    }
}

/// Instance normalization: batch normalization per (sample, channel) plane, with optional affine γ, β.
/// Implemented by viewing [N, C, *S] as [1, N·C, *S].
public func instanceNorm(_ x: Tensor, gamma: Tensor?, beta: Tensor?, epsilon: Float = 1e-5) -> (output: Tensor, mean: Tensor, variance: Tensor) {
    let L = ChannelLayout(x.shape)
    let planes = L.n * L.c
    let (g, b) = instanceAffine(gamma, beta, L)
    let r = batchNormTraining(x.reshaped([1, planes, L.s]), gamma: g, beta: b, epsilon: epsilon)
    return (r.output.reshaped(x.shape), r.mean, r.variance)
}

/// Gradients of `instanceNorm`; γ/β gradients are nil when there is no affine transform.
public func instanceNormBackward(_ x: Tensor, gamma: Tensor?, mean: Tensor, variance: Tensor, gradOutput gy: Tensor,
                                 epsilon: Float = 1e-5) -> (input: Tensor, gamma: Tensor?, beta: Tensor?) {
    let L = ChannelLayout(x.shape)
    let planes = L.n * L.c
    let (g, _) = instanceAffine(gamma, nil, L)
    let r = batchNormBackward(x.reshaped([1, planes, L.s]), gamma: g, mean: mean, variance: variance,
                              gradOutput: gy.reshaped([1, planes, L.s]), epsilon: epsilon)
    guard gamma != nil else { return (r.input.reshaped(x.shape), nil, nil) }
    return (r.input.reshaped(x.shape), r.gamma.reshaped([L.n, L.c]).sum(axes: [0]), r.beta.reshaped([L.n, L.c]).sum(axes: [0]))
}

private func instanceAffine(_ gamma: Tensor?, _ beta: Tensor?, _ L: ChannelLayout) -> (Tensor, Tensor) {
    func tiled(_ t: Tensor) -> Tensor { Tensor(shape: [L.n * L.c], scalars: Array(repeating: t.scalars, count: L.n).flatMap { $0 }) }
    let g = gamma.map(tiled) ?? .ones([L.n * L.c])
    let b = beta.map(tiled) ?? .zeros([L.n * L.c])
    return (g, b)
}

/// Local response normalization across channels (AlexNet; PyTorch's `LocalResponseNorm`):
/// b_c = a_c / (k + α/n · Σ_{c′ ∈ window(c)} a_{c′}²)^β, window = c − ⌊n/2⌋ … c + ⌊(n−1)/2⌋ clipped.
public struct LRNOptions: Equatable {
    public var size: Int, alpha: Float, beta: Float, k: Float
    public init(size: Int = 5, alpha: Float = 1e-4, beta: Float = 0.75, k: Float = 2) {
        self.size = size; self.alpha = alpha; self.beta = beta; self.k = k
    }
    func window(_ c: Int, _ C: Int) -> ClosedRange<Int> { Swift.max(0, c - size / 2)...Swift.min(C - 1, c + (size - 1) / 2) }
}

/// The denominators' base D_c = k + α/n Σ a² at every position (shape of x).
private func lrnScale(_ x: Tensor, _ o: LRNOptions) -> Tensor {
    let L = ChannelLayout(x.shape)
    return Tensor(shape: x.shape) { d in
        for n in 0..<L.n { for c in 0..<L.c { for i in 0..<L.s {
            var s: Float = 0
            for cc in o.window(c, L.c) { let v = x.scalars[(n * L.c + cc) * L.s + i]; s += v * v }
            d[(n * L.c + c) * L.s + i] = o.k + o.alpha / Float(o.size) * s
        } } }
    }
}

public func localResponseNorm(_ x: Tensor, _ o: LRNOptions = LRNOptions()) -> Tensor {
    let d = lrnScale(x, o)
    return Tensor.broadcastZip(x, d) { a, s in a * Foundation.pow(s, -o.beta) }
}

/// ∂L/∂a_j = g_j D_j^{−β} − (2αβ/n) a_j Σ_{c : j ∈ window(c)} g_c a_c D_c^{−β−1}.
public func localResponseNormBackward(_ x: Tensor, gradOutput g: Tensor, _ o: LRNOptions = LRNOptions()) -> Tensor {
    let L = ChannelLayout(x.shape)
    let d = lrnScale(x, o)
    let coef = 2 * o.alpha * o.beta / Float(o.size)
    return Tensor(shape: x.shape) { out in
        for n in 0..<L.n { for j in 0..<L.c { for i in 0..<L.s {
            let idx = (n * L.c + j) * L.s + i
            var s: Float = 0
            for c in 0..<L.c where o.window(c, L.c).contains(j) {
                let ci = (n * L.c + c) * L.s + i
                s += g.scalars[ci] * x.scalars[ci] * Foundation.pow(d.scalars[ci], -o.beta - 1)
            }
            out[idx] = g.scalars[idx] * Foundation.pow(d.scalars[idx], -o.beta) - coef * x.scalars[idx] * s
        } } }
    }
}
