import CConvKernels

/// Gradients of `conv(x, weight:bias:options:)` given ∂L/∂y (`gradOutput`, shape of the output):
/// - ∂L/∂W_g = Σ_n ∂L/∂y_{n,g} · im2col(x_{n,g})ᵀ   [Cout/G × P]·[P × K]
/// - ∂L/∂x_{n,g} = col2im(W_gᵀ · ∂L/∂y_{n,g})       [K × Cout/G]·[Cout/G × P]
/// - ∂L/∂b = Σ over batch and positions of ∂L/∂y.
/// Returns nil for the input gradient when `needInput` is false.
public func convBackward(_ x: Tensor, weight: Tensor, gradOutput gy: Tensor, options: ConvOptions = ConvOptions(),
                         needInput: Bool = true, needBias: Bool = true)
    -> (input: Tensor?, weight: Tensor, bias: Tensor?) {
    let plan = ConvPlan(input: x.shape, weight: weight.shape, options: options)
    precondition(gy.shape == plan.outputShape, "gradient \(gy.shape) does not match output \(plan.outputShape)")
    let (xin, geo) = plan.prepare(x)
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
                    for n in 0..<N { let base = (n * cout + c) * P; for p in 0..<P { s += g[base + p] } }
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
                                                          gxp + n * cin * S, gwp)
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

        // Weight gradient: units (n, column range) spread over T workers, each with its own partial dW.
        let units = N >= T ? N : N * T
        let per = (P + (units / N) - 1) / (units / N)
        let workers = Swift.min(T, units)
        var partials = [Float](repeating: 0, count: workers * weight.count)
        partials.withUnsafeMutableBufferPointer { pb in
            let pp = pb.baseAddress!
            Parallel.forEach(workers) { w in
                let dW = pp + w * weight.count
                var u = w
                while u < units {
                    let n = u % N, piece = u / N
                    let p0 = piece * per, p1 = Swift.min(P, p0 + per)
                    u += workers
                    if p0 >= p1 { continue }
                    let cols = p1 - p0
                    for g in 0..<G {
                        let xs = xp + (n * cin + g * cg) * S
                        let dy = gp + (n * cout + g * mg) * P + p0
                        if geo.isPointwise {
                            ck_sgemm(Int32(mg), Int32(K), Int32(cols), 1, dy, P, 1, xs + p0, 1, S, 1, dW + g * mg * K, K)
                        } else {
                            let col = ck_scratch(2, K * cols)!
                            withUnsafePointer(to: cgeo) { ck_im2col($0, xs, Int32(p0), Int32(p1), col, cols) }
                            ck_sgemm(Int32(mg), Int32(K), Int32(cols), 1, dy, P, 1, col, 1, cols, 1, dW + g * mg * K, K)
                        }
                    }
                }
            }
            gw.withUnsafeMutableBufferPointer { gwb in
                for w in 0..<workers { ck_axpy(weight.count, 1, pp + w * weight.count, gwb.baseAddress!) }
            }
        }

        guard var gx = gxPadded else { return }
        gx.withUnsafeMutableBufferPointer { gxb in
            let gxp = gxb.baseAddress!
            for g in 0..<G where geo.isPointwise {
                // dx_g = W_gᵀ · dy_g, per sample.
                Parallel.forEach(N) { n in
                    ck_sgemm(Int32(cg), Int32(P), Int32(mg), 1, wp + g * mg * K, 1, K, gp + (n * cout + g * mg) * P, P, 1,
                             0, gxp + (n * cin + g * cg) * S, S)
                }
            }
            if geo.isPointwise { return }
            if N >= T {
                // Whole samples per task: dcol in the task's scratch, then col2im.
                Parallel.forEach(N) { n in
                    let dcol = ck_scratch(3, K * P)!
                    for g in 0..<G {
                        ck_sgemm(Int32(K), Int32(P), Int32(mg), 1, wp + g * mg * K, 1, K, gp + (n * cout + g * mg) * P, P, 1,
                                 0, dcol, P)
                        withUnsafePointer(to: cgeo) { ck_col2im($0, dcol, P, 0, Int32(P), 0, Int32(cg), gxp + (n * cin + g * cg) * S) }
                    }
                }
            } else {
                // Few samples: threaded GEMM for dcol, then col2im split over channels.
                var dcol = [Float](repeating: 0, count: K * P)
                dcol.withUnsafeMutableBufferPointer { db in
                    let dp = db.baseAddress!
                    for n in 0..<N {
                        for g in 0..<G {
                            sgemm(m: K, n: P, k: mg, a: wp + g * mg * K, rsa: 1, csa: K,
                                  b: gp + (n * cout + g * mg) * P, rsb: P, csb: 1, c: dp, ldc: P)
                            Parallel.forRanges(cg) { r in
                                withUnsafePointer(to: cgeo) {
                                    ck_col2im($0, dp, P, 0, Int32(P), Int32(r.lowerBound), Int32(r.upperBound),
                                              gxp + (n * cin + g * cg) * S)
                                }
                            }
                        }
                    }
                }
            }
        }
        gxPadded = gx
    } } }

    var gx = gxPadded
    if let fill = plan.prePad, let g = gx {
        gx = unpadGradient(g, before: plan.geometry.padBefore, after: plan.geometry.padAfter, fill: fill)
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
