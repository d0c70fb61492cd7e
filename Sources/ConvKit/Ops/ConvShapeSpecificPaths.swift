import CConvKernels

// Convolution paths for shapes where the general im2col GEMM wastes work (entries of `ConvAlgorithm`): for each,
// the geometries its kernel supports, the rule of thumb that prefers it, and the run.

/// A direct kernel over output rows with the input rows read in place (6 filters × up to 64 outputs of a row per
/// tile, every tap accumulated in registers), instead of packing K-row patches for a GEMM. Stride 2 along the
/// width splits each input row into even and odd columns first. The rule prefers it for:
/// - first layers (≤ 4 input channels, e.g. ResNet's 7×7/2 stem, any number of filters);
/// - long output rows (≥ 32) with ≤ 64 filters: each 6-filter block re-reads the input, cheap for few blocks,
///   while im2col would write K×P patches (measured, 5×5 32→32 at 128²: 4.95 → 2.13 ms; dlib's MMOD layers
///   2–5 each 1.8–2.1× faster; with 96–128 filters or rows of 14–28 the GEMM stays faster, 1.3–1.8×);
/// - ≤ 16 filters over ≥ 4,096 outputs, where the ≤ 16-filter direct kernel runs one task per sample
///   (3×3/2 16→16 at 256²: 12.1 → 0.51 ms; MMOD's first layer 122.7 → 2.6 ms).
func directRowsSupported(_ plan: ConvPlan) -> Bool {
    guard plan.groups == 1, plan.geometry.rank == 2, !plan.isDepthwise else { return false }
    var g = plan.zeroPaddedGeometry.cGeometry(channels: plan.inChannels)
    // A real window (1×1 stride-2 projections measured 2–4× slower here), taps that fit the kernel's tables.
    guard g.kh * g.kw > 1, g.c * g.kh * g.kw <= 1280, g.sw <= 2, g.iw <= 4096 else { return false }
    g.split_even_odd = g.sw == 2 ? 1 : 0
    return ck_direct_rows_supported(&g) != 0
}

func directRowsPreferred(_ plan: ConvPlan) -> Bool {
    let g = plan.zeroPaddedGeometry.cGeometry(channels: plan.inChannels)
    let K = Int(g.c * g.kh * g.kw), M = plan.outChannels, ow = Int(g.ow), P0 = Int(g.oh * g.ow)
    let firstLayer = g.c <= 4 && K <= 256 && M > 16
    let longRows = ow >= 32 && M <= 64 && plan.usesGEMM
    let fewFiltersLargeMap = plan.hasFewFilters && P0 >= 4096
    return firstLayer || longRows || fewFiltersLargeMap
}

/// The direct-rows convolution of the zero-padded input `x` (geometry `geometry`); `directRowsSupported(plan)`.
func directRowsForward(_ x: Tensor, weight: Tensor, plan: ConvPlan, geometry: ck_conv_geom, epilogue: ConvEpilogue) -> Tensor {
    var g = geometry
    let M = plan.outChannels
    g.split_even_odd = g.sw == 2 ? 1 : 0
    var xin = x
    if g.sw == 2 { splitEvenOdd(&xin) }
    let N = plan.batch, OH = Int(g.oh), P = Int(g.oh * g.ow), S = x.count / Swift.max(N, 1)
    let rowsPerTask = Swift.max(1, OH * N / (4 * Parallel.threads))
    let parts = (OH + rowsPerTask - 1) / rowsPerTask
    return Tensor(shape: plan.outputShape) { out in
        xin.withUnsafeBufferPointer { xb in weight.withUnsafeBufferPointer { wb in epilogue.withPointers { tail in
            Parallel.forEach(N * parts) { t in
                let n = t / parts, y0 = (t % parts) * rowsPerTask, y1 = Swift.min(OH, y0 + rowsPerTask)
                withUnsafePointer(to: g) { gp in
                    ck_direct_rows_forward(gp, Int32(M), wb.baseAddress, xb.baseAddress! + n * S, Int32(y0), Int32(y1),
                                           out.baseAddress! + n * M * P)
                }
                tail.apply(out.baseAddress!, sample: n, channels: 0..<M, positions: (y0 * Int(g.ow))..<(y1 * Int(g.ow)),
                           planeSize: P, outChannels: M)
            }
        } } }
    }
}

/// Small output maps with many channels (ResNet's 7×7 layer4 at batch 1): output channels in vector lanes
/// (`ck_conv_cl_forward`), since 49 positions fill only 49 of the im2col GEMM's 64 columns. The rule prefers it
/// for ≤ 196 positions, K ≥ 512 and ≥ 64 filters. Tasks split the output channels into multiples of 32.
func channelsInLanesSupported(_ plan: ConvPlan) -> Bool {
    guard plan.usesGEMM, plan.groups == 1, plan.geometry.rank == 2 else { return false }
    var g = (plan.geometry.isPointwise ? plan.geometry : plan.zeroPaddedGeometry).cGeometry(channels: plan.inChannels)
    return ck_conv_cl_supported(&g) != 0
}

func channelsInLanesPreferred(_ plan: ConvPlan) -> Bool {
    let g = plan.geometry
    return g.outputVolume <= 196 && plan.inChannels * g.kernelVolume >= 512 && plan.outChannels >= 64
}

/// The channels-in-lanes convolution of the prepared input `x` (geometry `g`); `channelsInLanesSupported(plan)`.
func channelsInLanesForward(_ x: Tensor, weight: Tensor, plan: ConvPlan, geometry g: ck_conv_geom,
                            epilogue: ConvEpilogue) -> Tensor {
    let M = plan.outChannels, P = Int(g.oh * g.ow)
    var g = g
    let N = plan.batch, S = x.count / Swift.max(N, 1)
    let chunk = ((M + Parallel.threads - 1) / Parallel.threads + 31) / 32 * 32
    let parts = (M + chunk - 1) / chunk
    return Tensor(shape: plan.outputShape) { out in
        x.withUnsafeBufferPointer { xb in weight.withUnsafeBufferPointer { wb in epilogue.withPointers { tail in
            Parallel.forEach(N * parts) { t in
                let n = t / parts, m0 = (t % parts) * chunk, m1 = Swift.min(M, m0 + chunk)
                ck_conv_cl_forward(&g, wb.baseAddress, xb.baseAddress! + n * S, Int32(m0), Int32(m1), tail.bias,
                                   tail.residual.map { $0 + n * M * P }, tail.lower, tail.upper, out.baseAddress! + n * M * P)
            }
        } } }
    }
}

/// Depthwise convolutions with zero padding (`ck_depthwise_rows_forward`): padding by load masks instead of a
/// padded copy, width stride 2 by an in-register permute, two output rows per vector on maps ≤ 8 wide, and the
/// epilogue fused. Tasks over (sample, channel block).
func depthwiseRowsSupported(_ plan: ConvPlan) -> Bool {
    guard plan.isDepthwise, plan.prePad == nil else { return false }
    var g = plan.geometry.cGeometry(channels: 1)
    return ck_depthwise_rows_supported(&g) != 0
}

/// The depthwise-rows convolution; `depthwiseRowsSupported(plan)`.
func depthwiseRowsForward(_ x: Tensor, weight: Tensor, plan: ConvPlan, epilogue: ConvEpilogue) -> Tensor {
    let g = plan.geometry.cGeometry(channels: 1)
    let N = plan.batch, C = plan.inChannels, S = plan.geometry.inputVolume, P = plan.geometry.outputVolume
    let blocks = Swift.max(1, Swift.min(C, Parallel.threads * 4 / Swift.max(N, 1)))
    let per = (C + blocks - 1) / blocks
    return Tensor(shape: plan.outputShape) { out in
        x.withUnsafeBufferPointer { xb in weight.withUnsafeBufferPointer { wb in epilogue.withPointers { tail in
            Parallel.forEach(N * blocks) { t in
                let n = t / blocks, c0 = (t % blocks) * per, c1 = Swift.min(C, c0 + per)
                if c0 >= c1 { return }
                withUnsafePointer(to: g) { gp in
                    ck_depthwise_rows_forward(gp, xb.baseAddress! + n * C * S, wb.baseAddress, tail.bias,
                                              tail.residual.map { $0 + n * C * P }, tail.lower, tail.upper,
                                              Int32(c0), Int32(c1), out.baseAddress! + n * C * P)
                }
            }
        } } }
    }
}

/// Rearranges each row (last axis) into its even elements followed by its odd ones, in place
/// (`ck_split_even_odd`; a padded input is a fresh tensor, so this allocates nothing).
func splitEvenOdd(_ x: inout Tensor) {
    let w = x.shape.last!, rows = x.count / w
    x.withUnsafeMutableBufferPointer { xb in
        Parallel.forRanges(rows, minChunk: 256) { r in
            ck_split_even_odd(xb.baseAddress! + r.lowerBound * w, r.count, Int32(w))
        }
    }
}
