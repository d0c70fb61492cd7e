import CConvKernels

/// Winograd F(m×m, 3×3) (m = 2 or 4) for 3×3, stride-1, dilation-1, ungrouped 2-D convolutions in the blocked
/// layout: each image's t×t input tiles (t = m + 2) are transformed (V = Bᵀ·d·B), the t² products are 1×1
/// convolutions over the tiles run by the blocked kernel (M_ξ = V_ξ·U_ξ with U = G·g·Gᵀ prepared here), and the
/// output transform (Aᵀ·M·A) applies bias, residual and clamp. F(2×2) does 2.25× fewer multiplies than the direct
/// convolution, F(4×4) 4×; F(4×4)'s transforms lose about two more decimal digits (errors ~1e-5 relative to the
/// outputs instead of ~1e-6), which the tests state.
struct BlockedWinograd {
    let m: Int
    let inBlocks: Int, outBlocks: Int
    let geometry: ck_blocked_geom
    let tilesH: Int, tilesW: Int
    /// The products' geometry: a 1×1 convolution over the tiles, one long row of them.
    let product: ck_blocked_geom
    /// U as [ξ][the products' 1×1 weights in the blocked kernel's packing].
    let weights: [Float]
    let bias: [Float]?

    /// G of F(2×2, 3×3) and F(4×4, 3×3), t × 3.
    static let g2: [[Double]] = [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]]
    static let g4: [[Double]] = {
        let s: Double = 1.0 / 6, w: Double = 1.0 / 24, h: Double = 1.0 / 12
        return [[0.25, 0, 0], [-s, -s, -s], [-s, s, -s], [w, h, s], [w, -h, s], [0, 0, 1]]
    }()

    static func supports(_ plan: ConvPlan) -> Bool {
        let g = plan.geometry
        return g.rank == 2 && g.kernel == [3, 3] && g.stride == [1, 1] && g.dilation == [1, 1] && plan.groups == 1 && plan.prePad == nil
    }

    var tile: Int { m + 2 }
    var tiles: Int { tilesH * tilesW }
    /// Floats of scratch one image needs: V and the products M.
    var scratchElements: Int { tile * tile * tiles * BlockedLayout.lanes * (inBlocks + outBlocks) }

    init(weight w: Tensor, bias b: Tensor?, plan: ConvPlan, m: Int) {
        precondition(BlockedWinograd.supports(plan) && (m == 2 || m == 4), "Winograd F(\(m)×\(m), 3×3) cannot run \(plan)")
        self.m = m
        let cin = plan.inChannels, cout = plan.outChannels, lanes = BlockedLayout.lanes
        inBlocks = BlockedLayout.blocks(cin); outBlocks = BlockedLayout.blocks(cout)
        geometry = BlockedGeometry.make(plan.geometry, channels: cin)
        tilesH = (Int(geometry.oh) + m - 1) / m; tilesW = (Int(geometry.ow) + m - 1) / m
        let t = m + 2, tiles = tilesH * tilesW
        product = ck_blocked_geom(icb: 16, nib: Int32(inBlocks), ics: 1, ps: 16, ibs: tiles * lanes, ih: 1, iw: Int32(tiles),
                                  kh: 1, kw: 1, sh: 1, sw: 1, ph: 0, pw: 0, dh: 1, dw: 1, oh: 1, ow: Int32(tiles),
                                  nob: Int32(outBlocks))
        let G = m == 2 ? BlockedWinograd.g2 : BlockedWinograd.g4
        var u = [Float](repeating: 0, count: t * t * outBlocks * inBlocks * lanes * lanes)
        let (ob, ib) = (outBlocks, inBlocks)
        w.withUnsafeBufferPointer { src in
            for o in 0..<cout {
                for c in 0..<cin {
                    let g = src.baseAddress! + (o * cin + c) * 9
                    // U = G·g·Gᵀ in Double.
                    var gg = [Double](repeating: 0, count: t * 3)
                    for i in 0..<t {
                        for j in 0..<3 {
                            var acc = 0.0
                            for k in 0..<3 { acc += G[i][k] * Double(g[k * 3 + j]) }
                            gg[i * 3 + j] = acc
                        }
                    }
                    for i in 0..<t {
                        for j in 0..<t {
                            var v = 0.0
                            for k in 0..<3 { v += gg[i * 3 + k] * G[j][k] }
                            let xi = i * t + j
                            let at = BlockedConvolution.packedOffset(outBlock: o / lanes, inBlock: c / lanes, tap: 0, channel: c % lanes,
                                                                     outBlocks: ob, inBlocks: ib, taps: 1, channelsPerBlock: lanes)
                            u[xi * ob * ib * lanes * lanes + at + o % lanes] = Float(v)
                        }
                    }
                }
            }
        }
        weights = u
        bias = b.map { b in (0..<(ob * lanes)).map { $0 < cout ? b.scalars[$0] : 0 } }
    }

    /// out = clamp(conv(x) + bias + residual, lo, hi) for `batch` blocked images, image by image through `scratch`
    /// (`scratchElements` floats).
    func run(_ x: UnsafePointer<Float>, inImageStride: Int, batch: Int, residual: UnsafePointer<Float>?, residualImageStride: Int,
             lower: Float, upper: Float, _ out: UnsafeMutablePointer<Float>, outImageStride: Int, scratch: UnsafeMutablePointer<Float>) {
        let t2 = tile * tile, lanes = BlockedLayout.lanes
        let vstride = inBlocks * tiles * lanes, mstride = outBlocks * tiles * lanes
        let V = scratch, M = scratch + t2 * vstride
        let threads = Parallel.threads
        let obChunk = Swift.min(4, outBlocks), obParts = (outBlocks + obChunk - 1) / obChunk
        let (m, tH, tW, oh, ow) = (Int32(m), Int32(tilesH), Int32(tilesW), geometry.oh, geometry.ow)
        weights.withUnsafeBufferPointer { wb in withOptionalPointer(bias) { bp in
            withUnsafePointer(to: geometry) { gp in withUnsafePointer(to: product) { pp in
                for n in 0..<batch {
                    let xn = x + n * inImageStride
                    Parallel.forRanges(inBlocks, minChunk: Swift.max(1, inBlocks / (4 * threads))) { r in
                        ck_winograd_blocked_input(m, gp, xn, Int32(r.lowerBound), Int32(r.upperBound), tH, tW, vstride, V)
                    }
                    Parallel.forEach(t2 * obParts) { task in
                        let xi = task / obParts, ob0 = (task % obParts) * obChunk
                        ck_blocked_conv(pp, V + xi * vstride, wb.baseAddress! + xi * outBlocks * inBlocks * lanes * lanes, nil, nil,
                                        -.infinity, .infinity, Int32(ob0), Int32(Swift.min(outBlocks, ob0 + obChunk)), 0, 1, M + xi * mstride)
                    }
                    let res = residual.map { $0 + n * residualImageStride }, o = out + n * outImageStride
                    Parallel.forRanges(outBlocks, minChunk: Swift.max(1, outBlocks / (4 * threads))) { r in
                        ck_winograd_blocked_output(m, M, mstride, Int32(r.lowerBound), Int32(r.upperBound), tH, tW, oh, ow, bp, res,
                                                   lower, upper, o)
                    }
                }
            } }
        } }
    }
}
