import Foundation

/// Inverted dropout: zeroes each element with probability p and scales survivors by 1/(1−p), so the
/// expectation is unchanged and inference needs no scaling. Returns the output and the mask (already scaled)
/// for the backward pass (∂L/∂x = g ⊙ mask).
public func dropout(_ x: Tensor, p: Float, rng: inout SeededGenerator) -> (output: Tensor, mask: Tensor) {
    precondition(p >= 0 && p < 1, "dropout probability \(p) must be in [0, 1)")
    let keep = 1 - p
    let mask = Tensor(shape: x.shape) { m in for i in m.indices { m[i] = rng.nextUniform() < keep ? 1 / keep : 0 } }
    return (x * mask, mask)
}

/// Nearest-neighbour upsampling of [N, C, H, W] by integer factors: y[h][w] = x[h / sh][w / sw].
public func upsampleNearest(_ x: Tensor, scale: (Int, Int)) -> Tensor {
    precondition(x.rank == 4 && scale.0 > 0 && scale.1 > 0, "upsampleNearest needs [N, C, H, W] and positive factors")
    let (H, W) = (x.shape[2], x.shape[3]), (oh, ow) = (H * scale.0, W * scale.1)
    let planes = x.shape[0] * x.shape[1]
    return Tensor(shape: [x.shape[0], x.shape[1], oh, ow]) { o in
        for p in 0..<planes { for i in 0..<oh { for j in 0..<ow {
            o[(p * oh + i) * ow + j] = x.scalars[(p * H + i / scale.0) * W + j / scale.1]
        } } }
    }
}

/// ∂L/∂x of `upsampleNearest`: the sum over each block.
public func upsampleNearestBackward(gradOutput g: Tensor, scale: (Int, Int)) -> Tensor {
    let (oh, ow) = (g.shape[2], g.shape[3]), (H, W) = (oh / scale.0, ow / scale.1)
    let planes = g.shape[0] * g.shape[1]
    var gx = Tensor.zeros([g.shape[0], g.shape[1], H, W])
    for p in 0..<planes { for i in 0..<oh { for j in 0..<ow {
        gx.scalars[(p * H + i / scale.0) * W + j / scale.1] += g.scalars[(p * oh + i) * ow + j]
    } } }
    return gx
}

/// Source coordinate and interpolation weights of output index i for bilinear resizing n → m.
/// alignCorners: src = i·(n−1)/(m−1); otherwise src = (i + ½)·n/m − ½ clamped at 0 (PyTorch).
func bilinearTaps(_ i: Int, n: Int, m: Int, alignCorners: Bool) -> (Int, Int, Float) {
    var src: Float
    if alignCorners { src = m > 1 ? Float(i) * Float(n - 1) / Float(m - 1) : 0 }
    else { src = Swift.max((Float(i) + 0.5) * Float(n) / Float(m) - 0.5, 0) }
    let i0 = Swift.min(Int(src), n - 1), i1 = Swift.min(i0 + 1, n - 1)
    return (i0, i1, src - Float(i0))
}

/// Bilinear resize of [N, C, H, W] to (outH, outW).
public func resizeBilinear(_ x: Tensor, to size: (Int, Int), alignCorners: Bool = false) -> Tensor {
    precondition(x.rank == 4 && size.0 > 0 && size.1 > 0, "resizeBilinear needs [N, C, H, W] and a positive size")
    let (H, W) = (x.shape[2], x.shape[3]), (oh, ow) = size
    let planes = x.shape[0] * x.shape[1]
    let ty = (0..<oh).map { bilinearTaps($0, n: H, m: oh, alignCorners: alignCorners) }
    let tx = (0..<ow).map { bilinearTaps($0, n: W, m: ow, alignCorners: alignCorners) }
    return Tensor(shape: [x.shape[0], x.shape[1], oh, ow]) { o in
        x.withUnsafeBufferPointer { p in
            for pl in 0..<planes { for i in 0..<oh { for j in 0..<ow {
                let (y0, y1, fy) = ty[i], (x0, x1, fx) = tx[j]
                let b = pl * H * W
                let top = p[b + y0 * W + x0] * (1 - fx) + p[b + y0 * W + x1] * fx
                let bot = p[b + y1 * W + x0] * (1 - fx) + p[b + y1 * W + x1] * fx
                o[(pl * oh + i) * ow + j] = top * (1 - fy) + bot * fy
            } } }
        }
    }
}

/// ∂L/∂x of `resizeBilinear`: each output gradient distributed to its four taps with their weights.
public func resizeBilinearBackward(gradOutput g: Tensor, inputSize: (Int, Int), alignCorners: Bool = false) -> Tensor {
    let (H, W) = inputSize, (oh, ow) = (g.shape[2], g.shape[3])
    let planes = g.shape[0] * g.shape[1]
    let ty = (0..<oh).map { bilinearTaps($0, n: H, m: oh, alignCorners: alignCorners) }
    let tx = (0..<ow).map { bilinearTaps($0, n: W, m: ow, alignCorners: alignCorners) }
    var gx = Tensor.zeros([g.shape[0], g.shape[1], H, W])
    gx.withUnsafeMutableBufferPointer { o in
        for pl in 0..<planes { for i in 0..<oh { for j in 0..<ow {
            let (y0, y1, fy) = ty[i], (x0, x1, fx) = tx[j]
            let v = g.scalars[(pl * oh + i) * ow + j], b = pl * H * W
            o[b + y0 * W + x0] += v * (1 - fy) * (1 - fx); o[b + y0 * W + x1] += v * (1 - fy) * fx
            o[b + y1 * W + x0] += v * fy * (1 - fx); o[b + y1 * W + x1] += v * fy * fx
        } } }
    }
    return gx
}
