import CConvKernels

/// The weight gradient of a convolution on the blocked kernel `ck_blocked_dweight` (groups 1, zero padding; 2-D
/// maps as volumes of depth 1):
///
///   ∂L/∂W[co][ci][k…] = Σ_n Σ_positions ∂L/∂y[n][co][pos] · x[n][ci][pos·s + k·d − p]
///
/// Each image's input is copied once, padded, depth-major and blocked ([dp][⌈C/16⌉][hp][wp][16]), and its output
/// gradient blocked per output depth ([od][⌈Cout/16⌉][oh][ow][16]); every thread accumulates 16 × 16 tiles
/// (input × output channels, one tap each) over its share of the output rows, and the tiles are summed and written
/// out as [Cout, Cin, k…]. Against im2col + GEMM it skips the K × P column matrix (27× the input for 3×3×3) and the
/// GEMM's packing of it.
enum BlockedWeightGradient {
    static func supports(_ plan: ConvPlan) -> Bool {
        plan.groups == 1 && plan.prePad == nil && (2...3).contains(plan.geometry.rank) && !plan.geometry.isPointwise
            && plan.geometry.padBefore.allSatisfy { $0 >= 0 } && plan.geometry.padAfter.allSatisfy { $0 >= 0 }
    }

    /// Where the rule takes it: volumes (3×3×3 and the like) whose channels fill most of a block, where im2col's
    /// column matrix is 27× the input and the GEMM's output (Cout × Cin·27) is thin (BENCHMARKS.md, conv3d). With
    /// one input channel 15 of the tile's 16 lanes would be zeros (1→16 at 64³: 66 ms against 26 for im2col).
    static func preferred(_ plan: ConvPlan) -> Bool {
        supports(plan) && plan.geometry.rank == 3 && plan.inChannels >= 8
    }

    /// ∂L/∂W for x [N, C, (D,) H, W] and ∂L/∂y [N, Cout, (OD,) OH, OW] → [Cout, C, (kd,) kh, kw].
    static func weightGradient(_ x: Tensor, gradOutput gy: Tensor, weightShape: [Int], plan: ConvPlan) -> Tensor {
        precondition(supports(plan), "blocked weight gradient for an unsupported convolution")
        let g = plan.geometry, lanes = BlockedLayout.lanes
        // A map is a volume of depth 1: the depth axis' numbers come first.
        func axes(_ v: [Int], depth: Int) -> [Int] { g.rank == 3 ? v : [depth] + v }
        let (kernel, stride, dilation) = (axes(g.kernel, depth: 1), axes(g.stride, depth: 1), axes(g.dilation, depth: 1))
        let (input, output) = (axes(g.input, depth: 1), axes(g.output, depth: 1))
        let (before, after) = (axes(g.padBefore, depth: 0), axes(g.padAfter, depth: 0))
        let (n, cin, cout) = (plan.batch, plan.inChannels, plan.outChannels)
        let (cb, ob) = (BlockedLayout.blocks(cin), BlockedLayout.blocks(cout))
        let padded = (0..<3).map { input[$0] + before[$0] + after[$0] }
        let (hp, wp) = (padded[1], padded[2])
        let xblock = hp * wp * lanes, xslice = cb * xblock
        let (od, oh, ow) = (output[0], output[1], output[2])
        let taps = kernel.reduce(1, *), tileCount = ob * cb * taps * lanes * lanes
        var geom = ck_dweight_geom(kd: Int32(kernel[0]), kh: Int32(kernel[1]), kw: Int32(kernel[2]),
                                   sd: Int32(stride[0]), sh: Int32(stride[1]), sw: Int32(stride[2]),
                                   dd: Int32(dilation[0]), dh: Int32(dilation[1]), dw: Int32(dilation[2]),
                                   od: Int32(od), oh: Int32(oh), ow: Int32(ow), cb: Int32(cb), ob: Int32(ob),
                                   xslice: xslice, xblock: xblock, xrow: wp * lanes)
        let (d, h, w) = (input[0], input[1], input[2]), plane = h * w, positions = oh * ow
        let T = Parallel.threads, rows = od * oh
        // Zeroed once: the padding stays zero; each image overwrites the interior (lanes past C or Cout with zeros).
        var xb = [Float](repeating: 0, count: padded[0] * xslice)
        var dyb = [Float](repeating: 0, count: od * ob * positions * lanes)
        var tiles = [Float](repeating: 0, count: T * tileCount)
        x.withUnsafeBufferPointer { xs in gy.withUnsafeBufferPointer { gs in
        xb.withUnsafeMutableBufferPointer { xbb in dyb.withUnsafeMutableBufferPointer { dbb in tiles.withUnsafeMutableBufferPointer { tb in
            let (xsrc, gsrc, xdst, ddst, tp) = (xs.baseAddress!, gs.baseAddress!, xbb.baseAddress!, dbb.baseAddress!, tb.baseAddress!)
            for i in 0..<n {
                Parallel.forEach(d) { z in
                    let slice = xdst + (before[0] + z) * xslice + (before[1] * wp + before[2]) * lanes
                    for y in 0..<h {
                        ck_to_blocked_strided(xsrc + (i * cin * d + z) * plane + y * w, Int32(cin), d * plane, w, 0, Int32(cb),
                                              slice + y * wp * lanes, xblock)
                    }
                }
                Parallel.forEach(od) { z in
                    ck_to_blocked_strided(gsrc + (i * cout * od + z) * positions, Int32(cout), od * positions, positions, 0, Int32(ob),
                                          ddst + z * ob * positions * lanes, positions * lanes)
                }
                Parallel.forEach(T) { t in
                    let r0 = t * rows / T, r1 = (t + 1) * rows / T
                    if r0 < r1 { ck_blocked_dweight(&geom, xdst, ddst, Int32(r0), Int32(r1), tp + t * tileCount) }
                }
            }
        } } } } }
        // Sum the threads' tiles and write [Cout][Cin][taps]: tile (o, b, tap) holds [16 ci][16 co].
        return Tensor(shape: weightShape) { out in
            tiles.withUnsafeBufferPointer { tb in
                for co in 0..<cout { for ci in 0..<cin { for k in 0..<taps {
                    let at = (((co / lanes) * cb + ci / lanes) * taps + k) * lanes * lanes + (ci % lanes) * lanes + co % lanes
                    var s: Float = 0
                    for t in 0..<T { s += tb[t * tileCount + at] }
                    out[(co * cin + ci) * taps + k] = s
                } } }
            }
        }
    }
}
