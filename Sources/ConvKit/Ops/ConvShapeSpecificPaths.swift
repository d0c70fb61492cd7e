import CConvKernels

// Convolution paths for shapes where the general im2col GEMM wastes work; `convForward` tries them first.
// Each returns nil when it does not apply.

/// First layers (an image's channels, many filters, e.g. ResNet's 7×7/2 stem): a direct kernel over output
/// rows with the input rows read in place, instead of packing 147-row patches per 32 outputs for a GEMM.
/// Stride 2 along the width splits each input row into even and odd columns first. Nil when it does not apply.
func firstLayerForward(_ x: Tensor, weight: Tensor, plan: ConvPlan, geometry: ck_conv_geom,
                               epilogue: ConvEpilogue) -> Tensor? {
    var g = geometry
    let K = Int(g.c * g.kh * g.kw), M = plan.outChannels
    // Few input channels (images: 1, 3 or 4), a real window, few taps: wider inputs amortize the GEMM's
    // packing and run faster there (measured: 1×1 stride-2 projections 2–4× slower here).
    guard plan.usesGEMM, plan.groups == 1, plan.geometry.rank == 2, g.c <= 4, g.kh * g.kw > 1, K <= 256, M > 16,
          g.sw <= 2, g.iw <= 4096 else { return nil }
    g.split_even_odd = g.sw == 2 ? 1 : 0
    guard ck_direct_rows_supported(&g) != 0 else { return nil }
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
/// (`ck_conv_cl_forward`), since 49 positions fill only 49 of the im2col GEMM's 64 columns. Nil when it does
/// not apply. Tasks split the output channels into multiples of 32.
func smallMapForward(_ x: Tensor, weight: Tensor, plan: ConvPlan, geometry g: ck_conv_geom,
                             epilogue: ConvEpilogue) -> Tensor? {
    let K = Int(g.c * g.kh * g.kw), M = plan.outChannels, P = Int(g.oh * g.ow)
    var g = g
    guard plan.usesGEMM, plan.groups == 1, plan.geometry.rank == 2, P <= 196, K >= 512, M >= 64,
          ck_conv_cl_supported(&g) != 0 else { return nil }
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
