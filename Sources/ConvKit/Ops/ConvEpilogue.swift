import CConvKernels

/// What a convolution does to its sums before they are stored, fused into the kernel's pass over each
/// output block while it is still in cache: y = clamp(y + bias[c] + residual, lo, hi).
/// Plain convolutions use only the bias; inference with folded batch norm (`ConvBNInference`) adds the
/// residual of a ResNet block and the ReLU / ReLU6 that follows.
struct ConvEpilogue {
    /// [Cout]
    var bias: Tensor?
    /// Same shape as the convolution's output.
    var residual: Tensor?
    /// Output range; (−∞, ∞) when no activation is fused.
    var lower: Float = -.infinity, upper: Float = .infinity

    init(bias: Tensor?, residual: Tensor? = nil, lower: Float = -.infinity, upper: Float = .infinity) {
        self.bias = bias; self.residual = residual; self.lower = lower; self.upper = upper
    }

    func check(outputShape: [Int]) {
        if let bias { precondition(bias.shape == [outputShape[1]], "bias \(bias.shape) for \(outputShape[1]) output channels") }
        if let residual { precondition(residual.shape == outputShape, "residual \(residual.shape) for output \(outputShape)") }
    }

    /// Calls body with raw pointers to the bias and residual, valid for the call.
    func withPointers<R>(_ body: (Pointers) -> R) -> R {
        bias.withOptionalPointer { b in
            residual.withOptionalPointer { r in body(Pointers(bias: b, residual: r, lower: lower, upper: upper)) }
        }
    }

    struct Pointers {
        let bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?
        let lower: Float, upper: Float
        var isEmpty: Bool { bias == nil && residual == nil && lower == -.infinity && upper == .infinity }

        /// Applies the epilogue to output [N, Cout, P] of sample n, channels c, positions p.
        func apply(_ out: UnsafeMutablePointer<Float>, sample n: Int, channels c: Range<Int>, positions p: Range<Int>,
                   planeSize P: Int, outChannels: Int) {
            if isEmpty || c.isEmpty || p.isEmpty { return }
            let offset = (n * outChannels + c.lowerBound) * P + p.lowerBound
            ck_conv_epilogue(out + offset, Int32(c.count), Int32(p.count), P, bias.map { $0 + c.lowerBound },
                             residual.map { $0 + offset }, P, lower, upper)
        }
    }
}

extension Optional where Wrapped == Tensor {
    func withOptionalPointer<R>(_ body: (UnsafePointer<Float>?) -> R) -> R {
        switch self {
        case .none: return body(nil)
        case .some(let t): return t.withUnsafeBufferPointer { body($0.baseAddress) }
        }
    }
}
