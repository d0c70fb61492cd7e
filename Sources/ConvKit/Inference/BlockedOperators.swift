import CConvKernels

/// A depthwise convolution (groups = input channels = output channels) prepared for `ck_blocked_depthwise`:
/// weights [C, 1, kh, kw] as [⌈C/16⌉][kh][kw][16], the bias padded to whole blocks.
struct BlockedDepthwise {
    let channels: Int, blocks: Int
    let geometry: ck_blocked_geom
    let weights: [Float]
    let bias: [Float]?

    /// 1-D or 2-D convolutions with one filter per channel (groups = input = output channels), zero padding.
    static func supports(_ plan: ConvPlan) -> Bool {
        plan.groups == plan.inChannels && plan.outChannels == plan.inChannels && plan.geometry.rank <= 2 && plan.prePad == nil
    }

    init(weight w: Tensor, bias b: Tensor?, plan: ConvPlan) {
        precondition(BlockedDepthwise.supports(plan), "blocked depthwise kernel cannot run \(plan)")
        channels = plan.inChannels
        blocks = BlockedLayout.blocks(channels)
        geometry = BlockedGeometry.make(plan.geometry, channels: 16)
        let taps = Int(geometry.kh) * Int(geometry.kw), lanes = BlockedLayout.lanes, c = channels, blocks = blocks
        weights = (0..<(blocks * taps * lanes)).map { i in
            let l = i % lanes, t = (i / lanes) % taps, ch = (i / (lanes * taps)) * lanes + l
            return ch < c ? w.scalars[ch * taps + t] : 0
        }
        bias = b.map { b in (0..<(blocks * lanes)).map { $0 < c ? b.scalars[$0] : 0 } }
    }

    /// out = clamp(depthwise(x) + bias + residual, lo, hi) for `batch` blocked images, `…ImageStride` floats apart
    /// (default: packed).
    func run(_ x: UnsafePointer<Float>, inImageStride: Int? = nil, batch: Int, residual: UnsafePointer<Float>?,
             residualImageStride: Int? = nil, lower: Float, upper: Float, _ out: UnsafeMutablePointer<Float>,
             outImageStride: Int? = nil) {
        let inImage = inImageStride ?? blocks * Int(geometry.ih) * Int(geometry.iw) * BlockedLayout.lanes
        let outImage = outImageStride ?? blocks * Int(geometry.oh) * Int(geometry.ow) * BlockedLayout.lanes
        let resImage = residualImageStride ?? blocks * Int(geometry.oh) * Int(geometry.ow) * BlockedLayout.lanes
        let oh = Int(geometry.oh)
        let cut = BlockedPartition.choose(outBlocks: blocks, rows: oh, units: batch, threads: Parallel.threads, kind: .depthwise)
        let blockChunk = cut.blockChunk, blockParts = (blocks + blockChunk - 1) / blockChunk
        let rowParts = cut.rowParts, rowChunk = (oh + rowParts - 1) / rowParts
        weights.withUnsafeBufferPointer { wb in withOptionalPointer(bias) { bp in withUnsafePointer(to: geometry) { gp in
            Parallel.forEach(batch * blockParts * rowParts) { t in
                let r = t % rowParts, bpi = (t / rowParts) % blockParts, n = t / (rowParts * blockParts)
                let b0 = bpi * blockChunk, b1 = Swift.min(blocks, b0 + blockChunk)
                let oy0 = r * rowChunk, oy1 = Swift.min(oh, oy0 + rowChunk)
                if oy0 >= oy1 || b0 >= b1 { return }
                ck_blocked_depthwise(gp, x + n * inImage, wb.baseAddress!, bp, residual.map { $0 + n * resImage },
                                     lower, upper, Int32(b0), Int32(b1), Int32(oy0), Int32(oy1), out + n * outImage)
            }
        } } }
    }
}

/// Pooling windows over blocked maps (`ck_blocked_pool`).
struct BlockedPooling {
    enum Mode: Int32 { case max = 0, averageCountingPadding = 1, average = 2 }
    let mode: Mode, blocks: Int
    let geometry: ck_blocked_geom

    /// 1-D or 2-D windows (average pooling without dilation, as `ck_avgpool_forward` defines it).
    static func supports(_ geometry: WindowGeometry, mode: Mode) -> Bool {
        geometry.rank <= 2 && (mode == .max || geometry.dilation.allSatisfy { $0 == 1 })
    }

    init(_ geometry: WindowGeometry, channels: Int, mode: Mode) {
        self.mode = mode
        blocks = BlockedLayout.blocks(channels)
        self.geometry = BlockedGeometry.make(geometry, channels: 16)
    }

    /// Pools `batch` blocked images, `…ImageStride` floats apart (default: packed).
    func run(_ x: UnsafePointer<Float>, inImageStride: Int? = nil, batch: Int, _ out: UnsafeMutablePointer<Float>,
             outImageStride: Int? = nil) {
        let oh = Int(geometry.oh)
        let inPlane = Int(geometry.ih) * Int(geometry.iw) * BlockedLayout.lanes
        let outPlane = oh * Int(geometry.ow) * BlockedLayout.lanes
        let inImage = inImageStride ?? blocks * inPlane, outImage = outImageStride ?? blocks * outPlane
        let chunk = Swift.max(1, (batch * blocks + 2 * Parallel.threads - 1) / (2 * Parallel.threads))
        withUnsafePointer(to: geometry) { gp in
            Parallel.forEach((batch * blocks + chunk - 1) / chunk) { t in
                for i in (t * chunk)..<Swift.min(batch * blocks, (t + 1) * chunk) {
                    let n = i / blocks, b = i % blocks
                    ck_blocked_pool(mode.rawValue, gp, x + n * inImage + b * inPlane, 0, 1, 0, Int32(oh), out + n * outImage + b * outPlane)
                }
            }
        }
    }
}

enum BlockedGeometry {
    /// The blocked kernels' geometry of a 1-D or 2-D window over a blocked input (16 channels a block).
    static func make(_ g: WindowGeometry, channels: Int) -> ck_blocked_geom {
        let c = g.cGeometry(channels: channels)
        let plane = Int(c.ih) * Int(c.iw)
        return ck_blocked_geom(icb: 16, nib: Int32(BlockedLayout.blocks(channels)), ics: 1, ps: 16, ibs: plane * 16,
                               ih: c.ih, iw: c.iw, kh: c.kh, kw: c.kw, sh: c.sh, sw: c.sw, ph: c.ph, pw: c.pw,
                               dh: c.dh, dw: c.dw, oh: c.oh, ow: c.ow, nob: Int32(BlockedLayout.blocks(channels)))
    }
}
