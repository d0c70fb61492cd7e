import CConvKernels

/// Options of max/average pooling over 1, 2 or 3 spatial axes (PyTorch semantics). Stride defaults to the
/// kernel size; padding is implicit (-∞ for max, excluded or counted for average per `countIncludePad`).
public struct PoolOptions: Equatable {
    public var kernel: [Int]
    public var stride: [Int]?
    public var padding: Padding
    public var dilation: [Int]
    public var ceilMode: Bool
    /// Average pooling only: divide by the full window (true) or only by the positions inside the input.
    public var countIncludePad: Bool

    public init(kernel: [Int], stride: [Int]? = nil, padding: Padding = .valid, dilation: [Int] = [1],
                ceilMode: Bool = false, countIncludePad: Bool = true) {
        self.kernel = kernel; self.stride = stride; self.padding = padding; self.dilation = dilation
        self.ceilMode = ceilMode; self.countIncludePad = countIncludePad
    }

    func geometry(for shape: [Int]) -> WindowGeometry {
        precondition(shape.count >= 3 && shape.count <= 5, "pooling needs [N, C, spatial…] with 1–3 spatial axes, got \(shape)")
        let g = WindowGeometry(input: Array(shape[2...]), kernel: kernel, stride: stride ?? kernel, padding: padding,
                               dilation: dilation, ceilMode: ceilMode)
        for i in 0..<g.rank {
            precondition(g.padBefore[i] <= g.kernel[i] / 2 || padding == .same,
                         "pad \(g.padBefore[i]) should be at most half of kernel \(g.kernel[i])")
        }
        precondition(g.output.allSatisfy { $0 > 0 }, "pooling output would be empty for input \(shape) and \(self)")
        return g
    }
}

/// Max pooling: y[n,c,o] = max over the window of x. Returns the argmax (flat index in the plane) for backward.
/// Shapes: [N, C, *S] → [N, C, *O], O_i = ⌊(S_i + p_b + p_a − d(k−1) − 1)/s⌋ + 1 (ceil with ceilMode).
public func maxPool(_ x: Tensor, _ o: PoolOptions, returnIndices: Bool = true) -> (output: Tensor, indices: [Int32]?) {
    let g = o.geometry(for: x.shape)
    let planes = x.shape[0] * x.shape[1]
    let cg = g.cGeometry(channels: planes)
    var indices: [Int32]? = returnIndices ? [Int32](repeating: -1, count: planes * g.outputVolume) : nil
    let y = Tensor(shape: Array(x.shape[..<2]) + g.output) { out in
        x.withUnsafeBufferPointer { xb in
            if indices == nil {
                Parallel.forRanges(planes, minChunk: g.minimumPlanesPerThread) { r in
                    withUnsafePointer(to: cg) { ck_maxpool_forward($0, xb.baseAddress!, Int32(r.lowerBound), Int32(r.upperBound), out.baseAddress!, nil) }
                }
            } else {
                indices!.withUnsafeMutableBufferPointer { ib in
                    Parallel.forRanges(planes, minChunk: g.minimumPlanesPerThread) { r in
                        withUnsafePointer(to: cg) { ck_maxpool_forward($0, xb.baseAddress!, Int32(r.lowerBound), Int32(r.upperBound), out.baseAddress!, ib.baseAddress!) }
                    }
                }
            }
        }
    }
    return (y, indices)
}

/// ∂L/∂x of max pooling: each output gradient goes to its window's argmax.
public func maxPoolBackward(inputShape: [Int], gradOutput gy: Tensor, indices: [Int32], _ o: PoolOptions) -> Tensor {
    let g = o.geometry(for: inputShape)
    let planes = inputShape[0] * inputShape[1]
    let cg = g.cGeometry(channels: planes)
    var gx = Tensor.zeros(inputShape)
    gx.withUnsafeMutableBufferPointer { gxb in gy.withUnsafeBufferPointer { gyb in indices.withUnsafeBufferPointer { ib in
        Parallel.forRanges(planes, minChunk: g.minimumPlanesPerThread) { r in
            withUnsafePointer(to: cg) { ck_maxpool_backward($0, gyb.baseAddress!, ib.baseAddress!, Int32(r.lowerBound), Int32(r.upperBound), gxb.baseAddress!) }
        }
    } } }
    return gx
}

/// Average pooling: y = mean of the window (see `countIncludePad`). Dilation must be 1.
public func avgPool(_ x: Tensor, _ o: PoolOptions) -> Tensor {
    let g = o.geometry(for: x.shape)
    precondition(g.dilation.allSatisfy { $0 == 1 }, "average pooling has no dilation")
    let planes = x.shape[0] * x.shape[1]
    let cg = g.cGeometry(channels: planes)
    return Tensor(shape: Array(x.shape[..<2]) + g.output) { out in
        x.withUnsafeBufferPointer { xb in
            Parallel.forRanges(planes, minChunk: g.minimumPlanesPerThread) { r in
                withUnsafePointer(to: cg) {
                    ck_avgpool_forward($0, xb.baseAddress!, Int32(r.lowerBound), Int32(r.upperBound), o.countIncludePad ? 1 : 0, out.baseAddress!)
                }
            }
        }
    }
}

/// ∂L/∂x of average pooling: each output gradient spread evenly over its window.
public func avgPoolBackward(inputShape: [Int], gradOutput gy: Tensor, _ o: PoolOptions) -> Tensor {
    let g = o.geometry(for: inputShape)
    let planes = inputShape[0] * inputShape[1]
    let cg = g.cGeometry(channels: planes)
    var gx = Tensor.zeros(inputShape)
    gx.withUnsafeMutableBufferPointer { gxb in gy.withUnsafeBufferPointer { gyb in
        Parallel.forRanges(planes, minChunk: g.minimumPlanesPerThread) { r in
            withUnsafePointer(to: cg) {
                ck_avgpool_backward($0, gyb.baseAddress!, Int32(r.lowerBound), Int32(r.upperBound), o.countIncludePad ? 1 : 0, gxb.baseAddress!)
            }
        }
    } }
    return gx
}

extension Tensor {
    /// Global average pooling: [N, C, *S] → [N, C] (the mean of each plane).
    public func globalAveragePooled() -> Tensor {
        let planes = shape[0] * shape[1]
        return reshaped([planes, -1]).mean(axes: [1]).reshaped([shape[0], shape[1]])
    }

    /// Global max pooling: [N, C, *S] → [N, C].
    public func globalMaxPooled() -> Tensor {
        reshaped([shape[0] * shape[1], -1]).max(axes: [1]).reshaped([shape[0], shape[1]])
    }
}

/// Window [start, end) of adaptive pooling bin i of `out` bins over `n` positions (PyTorch's rule):
/// start = ⌊i·n/out⌋, end = ⌈(i+1)·n/out⌉.
public func adaptiveBin(_ i: Int, out: Int, n: Int) -> Range<Int> {
    (i * n / out)..<(((i + 1) * n + out - 1) / out)
}

/// Adaptive average pooling of a 4-d [N, C, H, W] tensor to [N, C, outH, outW] (PyTorch's `adaptive_avg_pool2d`
/// and `interpolate(mode: "area")`): output (i, j) averages input rows `adaptiveBin(i)` × columns `adaptiveBin(j)`.
/// Separable: each row is first summed over the column bins, then the row sums over the row bins; planes run
/// in parallel.
public func adaptiveAvgPool2D(_ x: Tensor, outputSize: (Int, Int)) -> Tensor {
    precondition(x.rank == 4, "adaptiveAvgPool2D needs [N, C, H, W], got \(x.shape)")
    let (H, W) = (x.shape[2], x.shape[3]), (oh, ow) = outputSize
    let planes = x.shape[0] * x.shape[1]
    let rows = (0..<oh).map { adaptiveBin($0, out: oh, n: H) }, cols = (0..<ow).map { adaptiveBin($0, out: ow, n: W) }
    return Tensor(shape: [x.shape[0], x.shape[1], oh, ow]) { o in
        x.withUnsafeBufferPointer { p in
            let out = o.baseAddress!, src = p.baseAddress!
            Parallel.forRanges(planes, minChunk: Swift.max(1, 65_536 / Swift.max(H * W, 1))) { range in
                var rowSums = [Float](repeating: 0, count: H * ow)
                rowSums.withUnsafeMutableBufferPointer { t in
                    for pl in range {
                        let plane = src + pl * H * W
                        for y in 0..<H {
                            let line = plane + y * W
                            for j in 0..<ow {
                                var s: Float = 0
                                for xx in cols[j] { s += line[xx] }
                                t[y * ow + j] = s
                            }
                        }
                        for i in 0..<oh {
                            let r = rows[i]
                            for j in 0..<ow {
                                var s: Float = 0
                                for y in r { s += t[y * ow + j] }
                                out[(pl * oh + i) * ow + j] = s / Float(r.count * cols[j].count)
                            }
                        }
                    }
                }
            }
        }
    }
}

/// ∂L/∂x of adaptive average pooling.
public func adaptiveAvgPool2DBackward(inputShape: [Int], gradOutput gy: Tensor) -> Tensor {
    let (H, W) = (inputShape[2], inputShape[3]), (oh, ow) = (gy.shape[2], gy.shape[3])
    let planes = inputShape[0] * inputShape[1]
    var gx = Tensor.zeros(inputShape)
    for pl in 0..<planes { for i in 0..<oh { for j in 0..<ow {
        let rh = adaptiveBin(i, out: oh, n: H), rw = adaptiveBin(j, out: ow, n: W)
        let v = gy.scalars[(pl * oh + i) * ow + j] / Float(rh.count * rw.count)
        for y in rh { for xx in rw { gx.scalars[(pl * H + y) * W + xx] += v } }
    } } }
    return gx
}
