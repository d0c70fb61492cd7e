import CConvKernels

/// 3-D convolutions on the blocked 2-D kernel (`ck_blocked_conv`). With the volume stored depth-major and blocked —
/// slice s = (image, depth) holding ⌈C/16⌉ blocks of [H][W][16] — the kd·⌈C/16⌉ blocks a window reads for output
/// depth z are consecutive (input slices z·s_d … z·s_d + kd − 1), so the 3-D convolution at depth z is a 2-D one over
/// kd·⌈C/16⌉ input blocks with weights W2[co][(k·cb + b)·16 + l][kh][kw] = W[co][16b + l][k][kh][kw]. Depth padding
/// is zero slices in that copy; height and width padding, stride and dilation are the 2-D kernel's.
///
/// Depth dilation dd > 1 (at depth stride 1): the copy holds the slices in dd phases (slice s at phase s mod dd,
/// place s div dd), so that output z's slices z, z + dd, … are again consecutive (phase z mod dd from z div dd on);
/// the outputs are computed phase by phase and put back in order by the final copy.
///
/// Shapes: x [N, C, D, H, W], weight [Cout, C, kd, kh, kw] → [N, Cout, OD, OH, OW]. Groups 1.
enum BlockedVolumeConvolution {
    /// 3-D convolutions (depth dilation at depth stride 1 only), and 2-D ones with 16+ input channels and a real
    /// window as volumes of depth 1 (a candidate of the tuner, never the rule: the blocked kernel with a copy in and out around it; it won
    /// 2 of GoogLeNet's 49 shapes). Groups 1, zero padding.
    static func supports(_ plan: ConvPlan) -> Bool {
        let g = plan.geometry
        guard plan.groups == 1, plan.prePad == nil else { return false }
        // 2-D: only where the copies around it can pay (a real window over whole blocks of channels).
        return g.rank == 3 ? g.dilation[0] == 1 || g.stride[0] == 1 : g.rank == 2 && plan.inChannels >= 16 && g.kernelVolume > 1
    }

    /// Where the rule takes it: volumes whose channels fill most of a block (im2col + GEMM with 16–64 output
    /// channels wastes most of the GEMM's tile; 16→32 at 32³: 7.1 ms against 1.7 for the blocked kernel is the
    /// measured case, BENCHMARKS.md).
    static func preferred(_ plan: ConvPlan) -> Bool {
        plan.geometry.rank == 3 && plan.inChannels >= 8 && plan.outChannels >= 16 && plan.geometry.kernelVolume > 1
    }

    static func forward(_ x: Tensor, weight: Tensor, plan: ConvPlan, epilogue: ConvEpilogue) -> Tensor {
        if plan.geometry.rank == 2 {
            // A map is a volume of depth 1.
            let g = plan.geometry
            let x3 = x.reshaped([x.shape[0], x.shape[1], 1] + x.shape[2...]), w3 = weight.reshaped([weight.shape[0], weight.shape[1], 1] + weight.shape[2...])
            let options = ConvOptions(stride: [1] + g.stride, padding: .explicit(before: [0] + g.padBefore, after: [0] + g.padAfter),
                                      dilation: [1] + g.dilation, groups: 1)
            let plan3 = ConvPlan(input: x3.shape, weight: w3.shape, options: options)
            var e3 = epilogue
            e3.residual = epilogue.residual.map { $0.reshaped([$0.shape[0], $0.shape[1], 1] + $0.shape[2...]) }
            return forward(x3, weight: w3, plan: plan3, epilogue: e3).reshaped(plan.outputShape)
        }
        let g = plan.geometry, lanes = BlockedLayout.lanes
        let (n, cin, cout) = (plan.batch, plan.inChannels, plan.outChannels)
        let (kd, sd, dd, before) = (g.kernel[0], g.stride[0], g.dilation[0], g.padBefore[0])
        let (d, h, w) = (g.input[0], g.input[1], g.input[2])
        let depth = d + before + g.padAfter[0], (od, oh, ow) = (g.output[0], g.output[1], g.output[2])
        let cb = BlockedLayout.blocks(cin), plane = h * w, perSlice = cb * plane * lanes
        // Slice s of a sequence of `count` in phase order (identity when dd = 1): phase s mod dd, place s div dd.
        func phased(_ s: Int, count: Int) -> Int {
            let phase = s % dd
            return phase * (count / dd) + min(phase, count % dd) + s / dd
        }
        // The input depth-major and blocked in one pass, depth padding as zero slices: [N·depth][cb][H·W][16].
        // The copy writes every lane of the interior slices (zeros past C): only the padding slices are zeroed.
        var blocked = uninitializedFloats(n * depth * perSlice)
        x.withUnsafeBufferPointer { xb in blocked.withUnsafeMutableBufferPointer { bb in
            let src = xb.baseAddress!, dst = bb.baseAddress!
            for i in 0..<n {
                for z in Array(0..<before) + Array((before + d)..<depth) {
                    (dst + (i * depth + phased(z, count: depth)) * perSlice).initialize(repeating: 0, count: perSlice)
                }
            }
            Parallel.forEach(n * d) { t in
                let (i, z) = (t / d, t % d)
                ck_to_blocked_strided(src + (i * cin * d + z) * plane, Int32(cin), d * plane, plane, 0, Int32(cb),
                                      dst + (i * depth + phased(before + z, count: depth)) * perSlice, plane * lanes)
            }
        } }
        // The 2-D convolution over kd·cb input blocks.
        let k2 = kd * cb * lanes
        // Depth 1 over whole blocks of channels: the 2-D weights are the 3-D ones.
        let w2 = kd == 1 && cin == k2 ? weight.reshaped([cout, k2, g.kernel[1], g.kernel[2]]) : Tensor(shape: [cout, k2, g.kernel[1], g.kernel[2]], scalars: {
            let taps = g.kernel[1] * g.kernel[2]
            var v = [Float](repeating: 0, count: cout * k2 * taps)
            weight.withUnsafeBufferPointer { wb in
                for co in 0..<cout { for k in 0..<kd { for c in 0..<cin {
                    let to = (co * k2 + (k * cb + c / lanes) * lanes + c % lanes) * taps
                    let from = ((co * cin + c) * kd + k) * taps
                    for t in 0..<taps { v[to + t] = wb[from + t] }
                } } }
            }
            return v
        }())
        let options = ConvOptions(stride: Array(g.stride[1...]), padding: .explicit(before: Array(g.padBefore[1...]), after: Array(g.padAfter[1...])),
                                  dilation: Array(g.dilation[1...]), groups: 1)
        let plan2 = ConvPlan(input: [1, k2, h, w], weight: w2.shape, options: options)
        let kernel = BlockedConvolution(weight: w2, bias: epilogue.bias, plan: plan2, plainInput: false)
        let perOut = kernel.outputElements
        var out = [Float](unsafeUninitializedCapacity: n * od * perOut) { _, count in count = n * od * perOut }
        blocked.withUnsafeBufferPointer { xb in out.withUnsafeMutableBufferPointer { ob in
            for i in 0..<n { for phase in 0..<min(dd, od) {
                // Output depths z read slices z·s_d …: images sd·cb blocks apart, windows overlapping. With dd > 1
                // (s_d = 1) the outputs of one phase, z = phase + m·dd, read that phase's slices m, m + 1, ….
                let first = phased(phase, count: depth), outputs = (od - phase + dd - 1) / dd
                kernel.run(xb.baseAddress! + (i * depth + first) * perSlice, inImageStride: sd * perSlice, batch: outputs, residual: nil,
                           lower: -.infinity, upper: .infinity, ob.baseAddress! + (i * od + phased(phase, count: od)) * perOut)
            } }
        } }
        // Back to [N, Cout, OD, OH, OW] in one pass; the bias was added by the kernel, a residual and clamp follow.
        let positions = oh * ow
        var y = Tensor(shape: plan.outputShape, unsafeUninitialized: { yb in
            out.withUnsafeBufferPointer { ob in
                let src = ob.baseAddress!, dst = yb.baseAddress!
                Parallel.forEach(n * od) { t in
                    let (i, z) = (t / od, t % od)
                    ck_from_blocked_strided(src + (i * od + phased(z, count: od)) * perOut, positions * lanes, Int32(cout), positions,
                                            0, Int32(BlockedLayout.blocks(cout)), dst + (i * cout * od + z) * positions, od * positions)
                }
            }
        })
        if epilogue.residual != nil || epilogue.lower > -.infinity || epilogue.upper < .infinity {
            let tail = ConvEpilogue(bias: nil, residual: epilogue.residual, lower: epilogue.lower, upper: epilogue.upper)
            let volume = od * positions
            y.withUnsafeMutableBufferPointer { yb in tail.withPointers { t in
                for i in 0..<n { t.apply(yb.baseAddress!, sample: i, channels: 0..<cout, positions: 0..<volume, planeSize: volume, outChannels: cout) }
            } }
        }
        return y
    }
}
