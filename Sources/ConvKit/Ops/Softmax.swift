import Foundation

extension Tensor {
    /// softmax(x)_i = e^{x_i − max x} / Σ_j e^{x_j − max x} along `axis` (stable: the max is subtracted).
    public func softmax(axis a: Int = -1) -> Tensor {
        let ax = axis(a)
        let outer = shape[..<ax].reduce(1, *), n = shape[ax], inner = shape[(ax + 1)...].reduce(1, *)
        return Tensor(shape: shape) { o in
            scalars.withUnsafeBufferPointer { p in
                for i in 0..<outer { for j in 0..<inner {
                    let base = i * n * inner + j
                    var m = -Float.infinity
                    for k in 0..<n { m = Swift.max(m, p[base + k * inner]) }
                    var s: Float = 0
                    for k in 0..<n { let e = Foundation.exp(p[base + k * inner] - m); o[base + k * inner] = e; s += e }
                    let inv = 1 / s
                    for k in 0..<n { o[base + k * inner] *= inv }
                } }
            }
        }
    }

    /// log softmax(x)_i = x_i − max − log Σ_j e^{x_j − max} along `axis`.
    public func logSoftmax(axis a: Int = -1) -> Tensor {
        let ax = axis(a)
        let outer = shape[..<ax].reduce(1, *), n = shape[ax], inner = shape[(ax + 1)...].reduce(1, *)
        return Tensor(shape: shape) { o in
            scalars.withUnsafeBufferPointer { p in
                for i in 0..<outer { for j in 0..<inner {
                    let base = i * n * inner + j
                    var m = -Float.infinity
                    for k in 0..<n { m = Swift.max(m, p[base + k * inner]) }
                    var s: Float = 0
                    for k in 0..<n { s += Foundation.exp(p[base + k * inner] - m) }
                    let lse = m + Foundation.log(s)
                    for k in 0..<n { o[base + k * inner] = p[base + k * inner] - lse }
                } }
            }
        }
    }
}

/// ∂L/∂x of y = softmax(x): y ⊙ (g − Σ_axis g ⊙ y).
public func softmaxBackward(output y: Tensor, gradOutput g: Tensor, axis: Int = -1) -> Tensor {
    y * (g - (g * y).sum(axes: [axis], keepingDims: true))
}

/// ∂L/∂x of y = logSoftmax(x): g − softmax(x) · Σ_axis g  (softmax(x) = e^y).
public func logSoftmaxBackward(output y: Tensor, gradOutput g: Tensor, axis: Int = -1) -> Tensor {
    g - y.exp() * g.sum(axes: [axis], keepingDims: true)
}
