import Foundation

extension Tensor {
    /// Calls `body(input, output, stride, n)` for every 1-D slice along `axis`: elements at
    /// `p[base + k·stride]`, k < n, with `base` already applied to both pointers.
    private func mapSlices(axis a: Int, _ body: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int, Int) -> Void) -> Tensor {
        let ax = axis(a)
        let outer = shape[..<ax].reduce(1, *), n = shape[ax], inner = shape[(ax + 1)...].reduce(1, *)
        return Tensor(shape: shape) { o in
            scalars.withUnsafeBufferPointer { p in
                for i in 0..<outer { for j in 0..<inner {
                    let base = i * n * inner + j
                    body(p.baseAddress! + base, o.baseAddress! + base, inner, n)
                } }
            }
        }
    }

    /// max_k x_k and log Σ_k e^{x_k − max} of one slice.
    private static func maxAndLogSumExp(_ x: UnsafePointer<Float>, _ stride: Int, _ n: Int) -> (Float, Float) {
        var m = -Float.infinity
        for k in 0..<n { m = Swift.max(m, x[k * stride]) }
        var s: Float = 0
        for k in 0..<n { s += Foundation.exp(x[k * stride] - m) }
        return (m, Foundation.log(s))
    }

    /// softmax(x)_i = e^{x_i − max x} / Σ_j e^{x_j − max x} along `axis` (stable: the max is subtracted).
    public func softmax(axis a: Int = -1) -> Tensor {
        mapSlices(axis: a) { x, y, stride, n in
            let (m, lse) = Tensor.maxAndLogSumExp(x, stride, n)
            for k in 0..<n { y[k * stride] = Foundation.exp(x[k * stride] - m - lse) }
        }
    }

    /// log softmax(x)_i = x_i − max − log Σ_j e^{x_j − max} along `axis`.
    public func logSoftmax(axis a: Int = -1) -> Tensor {
        mapSlices(axis: a) { x, y, stride, n in
            let (m, lse) = Tensor.maxAndLogSumExp(x, stride, n)
            for k in 0..<n { y[k * stride] = x[k * stride] - m - lse }
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
