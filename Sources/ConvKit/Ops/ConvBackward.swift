import CConvKernels

/// Gradients of `conv(x, weight:bias:options:)` given ∂L/∂y (`gradOutput`, shape of the output):
/// - ∂L/∂W_g = Σ_n ∂L/∂y_{n,g} · im2col(x_{n,g})ᵀ   [Cout/G × P]·[P × K]
/// - ∂L/∂x_{n,g} = col2im(W_gᵀ · ∂L/∂y_{n,g})       [K × Cout/G]·[Cout/G × P]
/// - ∂L/∂b = Σ over batch and positions of ∂L/∂y.
/// Returns nil for the input gradient when `needInput` is false.
public func convBackward(_ x: Tensor, weight: Tensor, gradOutput gy: Tensor, options: ConvOptions = ConvOptions(),
                         needInput: Bool = true, needBias: Bool = true, needWeight: Bool = true)
    -> (input: Tensor?, weight: Tensor, bias: Tensor?) {
    let plan = ConvPlan(input: x.shape, weight: weight.shape, options: options)
    precondition(gy.shape == plan.outputShape, "gradient \(gy.shape) does not match output \(plan.outputShape)")
    if needWeight, BlockedWeightGradient.preferred(plan) {
        let gw = BlockedWeightGradient.weightGradient(x, gradOutput: gy, weightShape: weight.shape, plan: plan)
        let rest = needInput || needBias ? convBackward(x, weight: weight, gradOutput: gy, options: options, needInput: needInput,
                                                        needBias: needBias, needWeight: false)
                                         : (input: nil, weight: gw, bias: nil)
        return (rest.input, gw, rest.bias)
    }
    if needInput, plan.inChannels >= 8, let dxOptions = plan.inputGradientAsConvolution() {
        // Stride 1: ∂L/∂x is itself a convolution of ∂L/∂y with the flipped, channel-transposed weights,
        // so it runs on the fast forward path; only the weight gradient needs im2col here. Not for inputs of few
        // channels (first layers): a convolution with 1–7 output channels fills none of the kernels' tiles, and
        // Wᵀ·∂L/∂y then col2im took 0.33–0.86× its time (3→64 at 224², 1→16 at 14³ and 64³; BENCHMARKS.md).
        let rest = needWeight || needBias ? convBackward(x, weight: weight, gradOutput: gy, options: options, needInput: false,
                                                         needBias: needBias, needWeight: needWeight)
                              : (input: nil, weight: Tensor.zeros(weight.shape), bias: nil)
        let gx = conv(gy, weight: flippedTransposedWeight(weight, groups: plan.groups), options: dxOptions)
        return (gx, rest.weight, rest.bias)
    }
    let (xin, geo) = plan.prepare(x, explicitZeros: !plan.geometry.isPointwise)
    let N = plan.batch, G = plan.groups, cin = plan.inChannels, cout = plan.outChannels
    let cg = cin / G, mg = cout / G, P = geo.outputVolume, S = geo.inputVolume
    let K = cg * geo.kernelVolume
    let cgeo = geo.cGeometry(channels: cg)
    let T = Parallel.threads

    var gb: Tensor? = nil
    if needBias {
        gb = Tensor(shape: [cout]) { o in
            gy.withUnsafeBufferPointer { g in
                for c in 0..<cout {
                    var s: Float = 0
                    for n in 0..<N { s += rowSum(g.baseAddress! + (n * cout + c) * P, P) }
                    o[c] = s
                }
            }
        }
    }
    var gw = Tensor.zeros(weight.shape)
    var gxPadded: Tensor? = needInput ? Tensor.zeros(xin.shape) : nil

    xin.withUnsafeBufferPointer { xb in weight.withUnsafeBufferPointer { wb in gy.withUnsafeBufferPointer { gyb in
        let xp = xb.baseAddress!, wp = wb.baseAddress!, gp = gyb.baseAddress!
        if plan.isDepthwise {
            // Each task owns a channel range for all samples: no two tasks touch the same dW or dx.
            let blocks = Swift.min(cin, T * 4), per = (cin + blocks - 1) / blocks
            gw.withUnsafeMutableBufferPointer { gwb in
                let gwp = gwb.baseAddress!
                if var gx = gxPadded {
                    gx.withUnsafeMutableBufferPointer { gxb in
                        let gxp = gxb.baseAddress!
                        Parallel.forEach(blocks) { b in
                            let c0 = b * per, c1 = Swift.min(cin, c0 + per)
                            if c0 >= c1 { return }
                            withUnsafePointer(to: cgeo) { g in
                                for n in 0..<N {
                                    ck_depthwise_backward(g, xp + n * cin * S, wp, gp + n * cout * P, Int32(c0), Int32(c1),
                                                          gxp + n * cin * S, needWeight ? gwp : nil)
                                }
                            }
                        }
                    }
                    gxPadded = gx
                } else {
                    Parallel.forEach(blocks) { b in
                        let c0 = b * per, c1 = Swift.min(cin, c0 + per)
                        if c0 >= c1 { return }
                        withUnsafePointer(to: cgeo) { g in
                            for n in 0..<N {
                                ck_depthwise_backward(g, xp + n * cin * S, wp, gp + n * cout * P, Int32(c0), Int32(c1), nil, gwp)
                            }
                        }
                    }
                }
            }
            return
        }

        // dW_g [mg × K] += dy_g [mg × P] · im2col_gᵀ [P × K]
        // dcol_g [K × P] = W_gᵀ [K × mg] · dy_g [mg × P], then col2im into dx (stride ≠ 1 only: stride 1
        // took the transposed-convolution path above).
        // With at least as many samples as threads, each worker owns whole samples (private dW, summed at
        // the end); otherwise samples go one at a time through multi-threaded GEMMs.
        let directWeightGradient = plan.usesDirectKernel
        let bySample = N >= T
        let workers = bySample ? T : 1
        let wCount = weight.count
        var partialW = [Float](repeating: 0, count: (workers - 1) * wCount)
        var gxLocal = gxPadded ?? Tensor.zeros([0])
        gxPadded = nil   // one owner, so writing does not copy
        gw.withUnsafeMutableBufferPointer { gwb in partialW.withUnsafeMutableBufferPointer { pwb in
        gxLocal.withUnsafeMutableBufferPointer { gxb in
            let gxp = needInput ? gxb.baseAddress : nil
            /// One sample's gradients; `threaded` lets the GEMMs and col2im use every thread.
            func sample(_ n: Int, dW: UnsafeMutablePointer<Float>, threaded: Bool) {
                for g in 0..<G {
                    let xs = xp + (n * cin + g * cg) * S
                    let dy = gp + (n * cout + g * mg) * P
                    let wg = wp + g * mg * K
                    if needWeight && directWeightGradient {
                        if threaded && T > 1 {
                            directWeightGradientInParallel(cgeo, filters: mg, dy: dy, positions: P, x: xs, channelVolume: S,
                                                           kernelVolume: geo.kernelVolume, into: dW + g * mg * K)
                        } else {
                            withUnsafePointer(to: cgeo) { ck_direct_conv_dweight($0, Int32(mg), dy, xs, dW + g * mg * K) }
                        }
                    }
                    if needWeight && !directWeightGradient && !geo.isPointwise && P >= 4 * mg && K * P > 1 << 17 {
                        weightGradientInCachedChunks(cgeo, K: K, filters: mg, positions: P, kernelVolume: geo.kernelVolume, x: xs,
                                                     channelVolume: S, dy: dy, into: dW + g * mg * K, threaded: threaded)
                    } else if needWeight && !directWeightGradient {
                        // With many positions, dWᵀ [K × mg] = im2col [K × P] · dyᵀ [P × mg]: the big operand
                        // (im2col) is packed along its rows, which is cheap; only dy is read transposed.
                        let col: UnsafePointer<Float>
                        if geo.isPointwise {
                            col = UnsafePointer(xs)
                        } else {
                            guard let buf = ck_scratch(2, K * P) else { continue }   // out of memory: recorded, reported by the caller
                            let kvol = geo.kernelVolume
                            let im2col = { (r: Range<Int>) in
                                var sub = cgeo
                                sub.c = Int32(r.count)
                                withUnsafePointer(to: sub) { ck_im2col($0, xs + r.lowerBound * S, 0, Int32(P), buf + r.lowerBound * kvol * P, P) }
                            }
                            if threaded { Parallel.forRanges(cg, minChunk: 4) { im2col($0) } } else { im2col(0..<cg) }
                            col = UnsafePointer(buf)
                        }
                        let ldcol = geo.isPointwise ? S : P
                        let dst = dW + g * mg * K
                        if P >= 4 * mg {
                            guard let dWT = ck_scratch(3, K * mg) else { continue }
                            if threaded {
                                sgemm(m: K, n: mg, k: P, a: col, rsa: ldcol, csa: 1, b: dy, rsb: 1, csb: P, beta: 0, c: dWT, ldc: mg)
                            } else {
                                ck_sgemm(Int32(K), Int32(mg), Int32(P), 1, col, ldcol, 1, dy, 1, P, 0, dWT, mg)
                            }
                            // dW += (dWᵀ)ᵀ in 32×32 blocks.
                            for k0 in stride(from: 0, to: K, by: 32) { for m0 in stride(from: 0, to: mg, by: 32) {
                                for m in m0..<Swift.min(mg, m0 + 32) { for k in k0..<Swift.min(K, k0 + 32) { dst[m * K + k] += dWT[k * mg + m] } }
                            } }
                        } else if threaded {
                            // Few positions, many filters: dW [mg × K] = dy [mg × P] · im2colᵀ directly.
                            sgemm(m: mg, n: K, k: P, a: dy, rsa: P, csa: 1, b: col, rsb: 1, csb: ldcol, beta: 1, c: dst, ldc: K)
                        } else {
                            ck_sgemm(Int32(mg), Int32(K), Int32(P), 1, dy, P, 1, col, 1, ldcol, 1, dst, K)
                        }
                    }
                    guard let gxp else { continue }
                    let dxs = gxp + (n * cin + g * cg) * S
                    if geo.isPointwise {
                        if threaded { sgemm(m: K, n: P, k: mg, a: wg, rsa: 1, csa: K, b: dy, rsb: P, csb: 1, c: dxs, ldc: S) }
                        else { ck_sgemm(Int32(K), Int32(P), Int32(mg), 1, wg, 1, K, dy, P, 1, 0, dxs, S) }
                        continue
                    }
                    guard let dcol = ck_scratch(3, K * P) else { continue }
                    if threaded {
                        sgemm(m: K, n: P, k: mg, a: wg, rsa: 1, csa: K, b: dy, rsb: P, csb: 1, c: dcol, ldc: P)
                        Parallel.forRanges(cg) { r in
                            withUnsafePointer(to: cgeo) { ck_col2im($0, dcol, P, 0, Int32(P), Int32(r.lowerBound), Int32(r.upperBound), dxs) }
                        }
                    } else {
                        ck_sgemm(Int32(K), Int32(P), Int32(mg), 1, wg, 1, K, dy, P, 1, 0, dcol, P)
                        withUnsafePointer(to: cgeo) { ck_col2im($0, dcol, P, 0, Int32(P), 0, Int32(cg), dxs) }
                    }
                }
            }
            if bySample {
                Parallel.forEach(workers) { w in
                    let dW = w == 0 ? gwb.baseAddress! : pwb.baseAddress! + (w - 1) * wCount
                    for n in stride(from: w, to: N, by: workers) { sample(n, dW: dW, threaded: false) }
                }
                for w in 1..<workers { ck_axpy(wCount, 1, pwb.baseAddress! + (w - 1) * wCount, gwb.baseAddress!) }
            } else {
                for n in 0..<N { sample(n, dW: gwb.baseAddress!, threaded: true) }
            }
        } } }
        if needInput { gxPadded = gxLocal }
    } } }

    var gx = gxPadded
    if let g = gx, xin.shape != x.shape {
        if let fill = plan.prePad {
            gx = unpadGradient(g, before: plan.geometry.padBefore, after: plan.geometry.padAfter, fill: fill)
        } else {
            gx = g.croppedSpatial(before: plan.geometry.padBefore, to: Array(x.shape[2...]))
        }
    }
    return (gx, gw, gb)
}

/// The adjoint of reflect/replicate padding of the spatial axes: folds the border back onto the interior.
func unpadGradient(_ g: Tensor, before: [Int], after: [Int], fill: PaddingFill) -> Tensor {
    let r = before.count
    let spatial = Array(g.shape[2...])
    let inner = (0..<r).map { spatial[$0] - before[$0] - after[$0] }
    // Map each padded position to its source index along each axis, then scatter-add.
    let maps: [[Int]] = (0..<r).map { d in
        let n = inner[d]
        return (0..<spatial[d]).map { i in
            let j = i - before[d]
            if j >= 0 && j < n { return j }
            if fill == .replicate { return j < 0 ? 0 : n - 1 }
            if n == 1 { return 0 }
            let period = 2 * (n - 1)
            let k = ((j % period) + period) % period
            return k < n ? k : period - k
        }
    }
    let planes = g.shape[0] * g.shape[1]
    let outShape = Array(g.shape[..<2]) + inner
    var out = Tensor.zeros(outShape)
    let inVol = spatial.reduce(1, *), outVol = inner.reduce(1, *)
    let outStrides = Tensor.contiguousStrides(inner)
    out.withUnsafeMutableBufferPointer { o in g.withUnsafeBufferPointer { src in
        var idx = [Int](repeating: 0, count: r)
        for i in 0..<inVol {
            var dst = 0
            for d in 0..<r { dst += maps[d][idx[d]] * outStrides[d] }
            for pl in 0..<planes { o[pl * outVol + dst] += src[pl * inVol + i] }
            var d = r - 1
            while d >= 0 { idx[d] += 1; if idx[d] < spatial[d] { break }; idx[d] = 0; d -= 1 }
        }
    } }
    return out
}

extension Tensor {
    /// The interior of a spatially padded [N, C, *S] tensor: positions before…before+extent on each spatial axis.
    func croppedSpatial(before: [Int], to extent: [Int]) -> Tensor {
        let st = strides
        let offset = before.enumerated().reduce(0) { $0 + $1.element * st[2 + $1.offset] }
        return gather(shape: Array(shape[..<2]) + extent, strides: st, offset: offset)
    }
}

extension ConvPlan {
    /// Options under which conv(∂L/∂y, flip(Wᵀ)) gives ∂L/∂x, when that holds: stride 1, zero padding not
    /// larger than d·(k−1) on either side (then the "full" padding is d·(k−1) − p), not 1×1 (a plain GEMM).
    /// Depthwise convolutions qualify too: the transposed weights are again one filter per channel.
    func inputGradientAsConvolution() -> ConvOptions? {
        let g = geometry
        guard prePad == nil, !g.isPointwise, g.stride.allSatisfy({ $0 == 1 }) else { return nil }
        let reach = (0..<g.rank).map { g.dilation[$0] * (g.kernel[$0] - 1) }
        guard (0..<g.rank).allSatisfy({ g.padBefore[$0] <= reach[$0] && g.padAfter[$0] <= reach[$0] }) else { return nil }
        return ConvOptions(stride: [1], padding: .explicit(before: (0..<g.rank).map { reach[$0] - g.padBefore[$0] },
                                                          after: (0..<g.rank).map { reach[$0] - g.padAfter[$0] }),
                           dilation: g.dilation, groups: groups)
    }
}

/// W [Cout, Cin/G, k…] → W′ [Cin, Cout/G, k…] with W′[g·cg + c][m][k] = W[g·mg + m][c][flip(k)]:
/// the weights of the transposed (input-gradient) convolution.
func flippedTransposedWeight(_ w: Tensor, groups G: Int) -> Tensor {
    let cout = w.shape[0], cg = w.shape[1], mg = cout / G
    let kvol = w.shape[2...].reduce(1, *)
    return Tensor(shape: [cg * G, mg] + Array(w.shape[2...])) { o in
        w.withUnsafeBufferPointer { src in
            for g in 0..<G { for m in 0..<mg { for c in 0..<cg {
                let s = ((g * mg + m) * cg + c) * kvol, d = ((g * cg + c) * mg + m) * kvol
                for k in 0..<kvol { o[d + k] = src[s + kvol - 1 - k] }
            } } }
        }
    }
}

/// The direct weight-gradient kernel on every thread, for one sample: tasks are (8 filters) × (a range of input
/// channels), each accumulating into its own buffer, then added into dW [filters × channels·kvol].
private func directWeightGradientInParallel(_ geo: ck_conv_geom, filters mg: Int, dy: UnsafePointer<Float>, positions P: Int,
                                            x: UnsafePointer<Float>, channelVolume S: Int, kernelVolume kvol: Int,
                                            into dW: UnsafeMutablePointer<Float>) {
    let cg = Int(geo.c), K = cg * kvol, T = Parallel.threads
    let mChunks = (mg + 7) / 8
    let channelParts = Swift.max(1, Swift.min(cg, (2 * T + mChunks - 1) / mChunks))   // about 2 tasks per thread
    let per = (cg + channelParts - 1) / channelParts
    let cParts = (cg + per - 1) / per
    Parallel.forEach(mChunks * cParts) { t in
        let m0 = (t / cParts) * 8, mc = Swift.min(8, mg - m0)
        let c0 = (t % cParts) * per, c1 = Swift.min(cg, c0 + per)
        var sub = geo
        sub.c = Int32(c1 - c0)
        let kSub = (c1 - c0) * kvol
        var local = [Float](repeating: 0, count: mc * kSub)
        local.withUnsafeMutableBufferPointer { lb in
            withUnsafePointer(to: sub) { ck_direct_conv_dweight($0, Int32(mc), dy + m0 * P, x + c0 * S, lb.baseAddress!) }
            for m in 0..<mc { for k in 0..<kSub { dW[(m0 + m) * K + c0 * kvol + k] += lb[m * kSub + k] } }
        }
    }
}

/// dWᵀ [K × mg] = im2col [K × P] · dyᵀ [P × mg] over chunks of positions small enough that each chunk's im2col
/// (K × chunk, at most 512 KB) stays in cache while the GEMM reads it, instead of materializing all K × P
/// values in memory first; then dW [mg × K] += dWᵀᵀ.
private func weightGradientInCachedChunks(_ geo: ck_conv_geom, K: Int, filters mg: Int, positions P: Int, kernelVolume kvol: Int,
                                          x: UnsafePointer<Float>, channelVolume S: Int, dy: UnsafePointer<Float>,
                                          into dst: UnsafeMutablePointer<Float>, threaded: Bool) {
    let cg = Int(geo.c)
    let chunk = Swift.min(P, Swift.max(64, (1 << 17) / K / 16 * 16))
    guard let buf = ck_scratch(2, K * chunk), let dWT = ck_scratch(3, K * mg) else { return }   // out of memory: recorded
    for p0 in stride(from: 0, to: P, by: chunk) {
        let n = Swift.min(P, p0 + chunk) - p0
        let im2col = { (r: Range<Int>) in
            var sub = geo
            sub.c = Int32(r.count)
            withUnsafePointer(to: sub) { ck_im2col($0, x + r.lowerBound * S, Int32(p0), Int32(p0 + n), buf + r.lowerBound * kvol * n, n) }
        }
        if threaded { Parallel.forRanges(cg, minChunk: 4) { im2col($0) } } else { im2col(0..<cg) }
        let beta: Float = p0 == 0 ? 0 : 1
        if threaded {
            sgemm(m: K, n: mg, k: n, a: buf, rsa: n, csa: 1, b: dy + p0, rsb: 1, csb: P, beta: beta, c: dWT, ldc: mg)
        } else {
            ck_sgemm(Int32(K), Int32(mg), Int32(n), 1, buf, n, 1, dy + p0, 1, P, beta, dWT, mg)
        }
    }
    for k0 in stride(from: 0, to: K, by: 32) { for m0 in stride(from: 0, to: mg, by: 32) {
        for m in m0..<Swift.min(mg, m0 + 32) { for k in k0..<Swift.min(K, k0 + 32) { dst[m * K + k] += dWT[k * mg + m] } }
    } }
}
