import CConvKernels

/// A 1-D or 2-D convolution prepared for the blocked kernel (`ck_blocked_conv`): weights in its order, the bias
/// padded to whole blocks, the geometry resolved for one input shape. The output is blocked; the input is
/// blocked, or plain NCHW for first layers (`plainInput`: few input channels, where 16-channel blocks would be
/// mostly padding), which the caller pads (`plainPadding`).
///
/// Weights [Cout, Cin/g, kh, kw] become [g][⌈Cout_g/16⌉][nib][kh][kw][icb][16] — output block, input block, tap,
/// input channel, 16 output channels — with zeros for the channels past Cout_g and Cin_g.
struct BlockedConvolution {
    let plainInput: Bool
    let groups: Int, inChannels: Int, outChannels: Int
    /// Blocks per group of the input and output (ungrouped: all of them).
    let inBlocks: Int, outBlocks: Int
    let geometry: ck_blocked_geom
    /// For a plain input: the padding to apply before the kernel reads it (the kernel's geometry has none).
    let plainPadding: WindowGeometry?
    let weights: [Float]
    /// [groups·outBlocks·16], zeros past each group's channels.
    let bias: [Float]?

    /// Whether the blocked kernel runs this convolution: 1-D or 2-D, zero padding, and groups either 1 or with
    /// whole blocks per group (a plain input: groups 1 only). Depthwise convolutions have their own kernel.
    static func supports(_ plan: ConvPlan, plainInput: Bool) -> Bool {
        let g = plan.geometry
        guard g.rank <= 2, plan.prePad == nil else { return false }
        if plainInput && plan.inChannels * g.kernelVolume > Int(ck_blocked_plain_taps_max()) { return false }
        if plan.groups == 1 { return true }
        return !plainInput && (plan.inChannels / plan.groups) % BlockedLayout.lanes == 0
            && (plan.outChannels / plan.groups) % BlockedLayout.lanes == 0
    }

    init(weight w: Tensor, bias b: Tensor?, plan: ConvPlan, plainInput: Bool) {
        precondition(BlockedConvolution.supports(plan, plainInput: plainInput), "blocked kernel cannot run \(plan)")
        self.plainInput = plainInput
        groups = plan.groups; inChannels = plan.inChannels; outChannels = plan.outChannels
        let lanes = BlockedLayout.lanes
        let cinG = inChannels / groups, coutG = outChannels / groups
        inBlocks = plainInput ? 1 : BlockedLayout.blocks(cinG)
        outBlocks = BlockedLayout.blocks(coutG)
        var geo = plan.geometry
        if plainInput && (geo.padBefore.contains { $0 > 0 } || geo.padAfter.contains { $0 > 0 }) {
            plainPadding = geo
            geo = geo.paddingAbsorbed
        } else {
            plainPadding = nil
        }
        let c = geo.cGeometry(channels: cinG)
        let icb = plainInput ? cinG : lanes
        let plane = Int(c.ih) * Int(c.iw)
        geometry = ck_blocked_geom(icb: Int32(icb), nib: Int32(inBlocks), ics: plainInput ? plane : 1,
                                   ps: plainInput ? 1 : lanes, ibs: plane * lanes,
                                   ih: c.ih, iw: c.iw, kh: c.kh, kw: c.kw, sh: c.sh, sw: c.sw, ph: c.ph, pw: c.pw,
                                   dh: c.dh, dw: c.dw, oh: c.oh, ow: c.ow, nob: Int32(outBlocks))
        let taps = Int(c.kh) * Int(c.kw)
        let (groups, inBlocks, outBlocks) = (groups, inBlocks, outBlocks)
        let perGroup = outBlocks * inBlocks * taps * icb * lanes
        weights = [Float](unsafeUninitializedCapacity: groups * perGroup) { buf, count in
            count = buf.count
            let dst = buf.baseAddress!
            dst.initialize(repeating: 0, count: buf.count)
            // Source order (contiguous reads), each value scattered to its lane: the layout's zeros (channels past
            // Cout_g and Cin_g) are the fill above.
            w.withUnsafeBufferPointer { wb in
                let src = wb.baseAddress!
                for gi in 0..<groups {
                    for cout in 0..<coutG {
                        let ob = cout / lanes, ol = cout % lanes
                        let first = ob / 4 * 4, size = Swift.min(4, outBlocks - first)
                        let blockBase = gi * perGroup + first * inBlocks * taps * icb * lanes + (ob - first) * lanes + ol
                        for cin in 0..<cinG {
                            let ib = plainInput ? 0 : cin / lanes, ic = plainInput ? cin : cin % lanes
                            let row = src + ((gi * coutG + cout) * cinG + cin) * taps
                            var at = blockBase + ((ib * taps) * icb + ic) * size * lanes
                            let tapStep = icb * size * lanes
                            for t in 0..<taps { dst[at] = row[t]; at += tapStep }
                        }
                    }
                }
            }
        }
        bias = b.map { b in
            (0..<(groups * outBlocks * lanes)).map { i in
                let gi = i / (outBlocks * lanes), o = i % (outBlocks * lanes)
                return o < coutG ? b.scalars[gi * coutG + o] : 0
            }
        }
    }

    /// Where the 16 output-channel weights of (output block, input block, tap, input channel) start in the kernel's
    /// packing: groups of 4 output blocks, each [input block][tap][channel][block of the group][16]
    /// (`ck_blocked_conv`), so that a tile's vectors for one input channel are adjacent.
    static func packedOffset(outBlock ob: Int, inBlock ib: Int, tap: Int, channel c: Int, outBlocks: Int, inBlocks: Int,
                             taps: Int, channelsPerBlock icb: Int) -> Int {
        let first = ob / 4 * 4, size = Swift.min(4, outBlocks - first)
        return first * inBlocks * taps * icb * 16 + (((ib * taps + tap) * icb + c) * size + (ob - first)) * 16
    }

    /// Elements of one image's output: groups·outBlocks blocks of oh·ow·16.
    var outputElements: Int { groups * outBlocks * Int(geometry.oh) * Int(geometry.ow) * BlockedLayout.lanes }
    /// Elements of one image's input as the kernel reads it (plain: padded [Cin, ih, iw]).
    var inputElements: Int {
        let plane = Int(geometry.ih) * Int(geometry.iw)
        return plainInput ? inChannels * plane : groups * inBlocks * plane * BlockedLayout.lanes
    }

    /// out = clamp(conv(x) + bias + residual, lo, hi) for `batch` images; x as the kernel reads it (plain inputs
    /// already padded), out and residual blocked. Images are `…ImageStride` floats apart (default: packed). Work is
    /// split over images, groups, output blocks and rows.
    func run(_ x: UnsafePointer<Float>, inImageStride: Int? = nil, batch: Int, residual: UnsafePointer<Float>?,
             residualImageStride: Int? = nil, lower: Float, upper: Float, _ out: UnsafeMutablePointer<Float>,
             outImageStride: Int? = nil) {
        let oh = Int(geometry.oh), plane = oh * Int(geometry.ow) * BlockedLayout.lanes
        let inPerGroup = plainInput ? inputElements : inBlocks * Int(geometry.ih) * Int(geometry.iw) * BlockedLayout.lanes
        let inStride = inImageStride ?? inputElements, outStride = outImageStride ?? outputElements
        let resStride = residualImageStride ?? outputElements
        let wPerGroup = weights.count / groups
        // Output blocks in chunks and rows in parts that share evenly between the threads (BlockedPartition).
        let cut = BlockedPartition.choose(outBlocks: outBlocks, rows: oh, units: batch * groups, threads: Parallel.threads)
        let obChunk = cut.blockChunk, obParts = (outBlocks + obChunk - 1) / obChunk
        let units = batch * groups * obParts
        let rowParts = cut.rowParts, rowChunk = (oh + rowParts - 1) / rowParts
        weights.withUnsafeBufferPointer { wb in
            withOptionalPointer(bias) { bp in
                withUnsafePointer(to: geometry) { gp in
                    Parallel.forEach(units * rowParts) { t in
                        let r = t % rowParts, u = t / rowParts
                        let op = u % obParts, gi = (u / obParts) % groups, n = u / (obParts * groups)
                        let ob0 = op * obChunk, ob1 = Swift.min(outBlocks, ob0 + obChunk)
                        let oy0 = r * rowChunk, oy1 = Swift.min(oh, oy0 + rowChunk)
                        if oy0 >= oy1 { return }
                        ck_blocked_conv(gp, x + n * inStride + gi * inPerGroup, wb.baseAddress! + gi * wPerGroup,
                                        bp.map { $0 + gi * outBlocks * BlockedLayout.lanes },
                                        residual.map { $0 + n * resStride + gi * outBlocks * plane },
                                        lower, upper, Int32(ob0), Int32(ob1), Int32(oy0), Int32(oy1),
                                        out + n * outStride + gi * outBlocks * plane)
                    }
                }
            }
        }
    }
}

/// Calls `body` with a pointer to the array's elements, or nil.
func withOptionalPointer<R>(_ a: [Float]?, _ body: (UnsafePointer<Float>?) -> R) -> R {
    guard let a else { return body(nil) }
    return a.withUnsafeBufferPointer { body($0.baseAddress!) }
}
