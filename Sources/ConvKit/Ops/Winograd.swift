import CConvKernels

/// Winograd F(2×2, 3×3) convolution for 3×3, stride 1, dilation 1, ungrouped 2-D convolutions with zero
/// padding: 2.25× fewer multiplies than direct or im2col convolution. Used by `conv` where it pays
/// (enough channels and tiles for the 16 GEMMs to run efficiently).
public enum Winograd {
    /// Switch for tests and benchmarks (on by default).
    nonisolated(unsafe) public static var isEnabled = true

    /// Whether `conv` takes the Winograd path for these shapes.
    public static func applies(input: [Int], weight: [Int], options: ConvOptions) -> Bool {
        applies(ConvPlan(input: input, weight: weight, options: options))
    }

    /// Whether the Winograd kernel handles this convolution at all (3×3, stride 1, dilation 1, ungrouped 2-D,
    /// zero padding); `applies` adds the rule of where it pays.
    static func supports(_ plan: ConvPlan) -> Bool {
        let g = plan.geometry
        return g.rank == 2 && g.kernel == [3, 3] && g.stride == [1, 1] && g.dilation == [1, 1] && plan.groups == 1 && plan.prePad == nil
    }

    static func applies(_ plan: ConvPlan) -> Bool {
        let g = plan.geometry
        guard supports(plan) else { return false }
        // Few tiles make the 16 GEMMs too thin to run efficiently: ResNet's 7×7 maps at batch 1 (16 tiles)
        // stay on im2col + GEMM, also with cached transformed weights (measured: no faster).
        let tiles = ((g.output[0] + 1) / 2) * ((g.output[1] + 1) / 2)
        return plan.inChannels >= 16 && plan.outChannels >= 16 && tiles >= 40
    }

    /// U = G·w·Gᵀ for every (output, input) channel pair: 16 planes of [M × C].
    public static func transformWeights(_ w: Tensor) -> WinogradWeights {
        precondition(w.rank == 4 && Array(w.shape[2...]) == [3, 3], "Winograd F(2×2, 3×3) needs weights [M, C, 3, 3], got \(w.shape)")
        let M = w.shape[0], C = w.shape[1]
        let pu = ck_winograd_plane(M * C)
        var U = uninitializedFloats(16 * pu)
        U.withUnsafeMutableBufferPointer { u in w.withUnsafeBufferPointer { wb in
            Parallel.forRanges(M, minChunk: 16) { r in
                ck_winograd_weights(wb.baseAddress, Int32(M), Int32(C), Int32(r.lowerBound), Int32(r.upperBound), u.baseAddress)
            }
        } }
        return WinogradWeights(outChannels: M, inChannels: C, planeStride: pu, planes: U)
    }

    /// y [N, M, OH, OW] = epilogue(conv(x, w)) for x [N, C, H, W], w [M, C, 3, 3] (or its transform).
    static func forward(_ x: Tensor, weight w: Tensor, transformed: WinogradWeights?, plan: ConvPlan, epilogue: ConvEpilogue) -> Tensor {
        let g = plan.geometry
        let N = plan.batch, C = plan.inChannels, M = plan.outChannels
        let (OH, OW) = (g.output[0], g.output[1])
        let (tH, tW) = ((OH + 1) / 2, (OW + 1) / 2)
        let T = tH * tW
        // Pad so that every 4×4 input tile exists: before as the convolution says, after up to 2·t + 2.
        let (H, W) = (2 * tH + 2, 2 * tW + 2)
        let padAfter = [H - g.input[0] - g.padBefore[0], W - g.input[1] - g.padBefore[1]]
        var padded = g
        padded.padAfter = padAfter
        let (xp, _) = zeroPadded(x, padded)
        let U = transformed ?? transformWeights(w)
        precondition(U.outChannels == M && U.inChannels == C, "transformed weights for \(U.outChannels)×\(U.inChannels) channels, convolution has \(M)×\(C)")
        let pu = U.planeStride
        let (pv, pp) = (ck_winograd_plane(C * T), ck_winograd_plane(M * T))
        var V = uninitializedFloats(16 * pv), P = uninitializedFloats(16 * pp)
        return Tensor(shape: [N, M, OH, OW]) { out in
            xp.withUnsafeBufferPointer { xb in U.planes.withUnsafeBufferPointer { ub in
            V.withUnsafeMutableBufferPointer { vb in P.withUnsafeMutableBufferPointer { pb in epilogue.withPointers { tail in
                for n in 0..<N {
                    let xs = xb.baseAddress! + n * C * H * W
                    Parallel.forRanges(C, minChunk: 8) { r in
                        ck_winograd_input(xs, Int32(C), Int32(H), Int32(W), Int32(tH), Int32(tW), Int32(r.lowerBound), Int32(r.upperBound), vb.baseAddress)
                    }
                    // 16 independent GEMMs: [M × C] · [C × T] → [M × T].
                    Parallel.forEach(16) { xi in
                        ck_sgemm(Int32(M), Int32(T), Int32(C), 1, ub.baseAddress! + xi * pu, C, 1,
                                 vb.baseAddress! + xi * pv, T, 1, 0, pb.baseAddress! + xi * pp, T)
                    }
                    Parallel.forRanges(M, minChunk: 8) { r in
                        ck_winograd_output(pb.baseAddress, Int32(M), Int32(tH), Int32(tW), Int32(OH), Int32(OW),
                                           Int32(r.lowerBound), Int32(r.upperBound), nil, out.baseAddress! + n * M * OH * OW)
                        tail.apply(out.baseAddress!, sample: n, channels: r, positions: 0..<(OH * OW), planeSize: OH * OW, outChannels: M)
                    }
                }
            } } } } }
        }
    }
}

/// 3×3 weights in the Winograd domain (16 planes of [M × C], `planeStride` floats apart), computed once
/// and reused by inference (`ConvBNInference` caches them).
public struct WinogradWeights {
    public let outChannels: Int, inChannels: Int
    let planeStride: Int
    let planes: [Float]
}

/// Scratch whose every element is written before it is read.
func uninitializedFloats(_ n: Int) -> [Float] { [Float](unsafeUninitializedCapacity: n) { _, c in c = n } }
