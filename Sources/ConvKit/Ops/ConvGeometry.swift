import CConvKernels

/// How a convolution or pooling window treats the border.
public enum Padding: Equatable {
    /// No padding: output extent ⌊(n − d·(f−1) − 1)/s⌋ + 1.
    case valid
    /// TensorFlow/Keras 'same': output extent ⌈n/s⌉ at any stride; the total padding
    /// max((out−1)·s + d·(f−1) + 1 − n, 0) is split with the extra element after (bottom/right).
    /// At stride 1 and odd f this is p = (f−1)/2 on each side.
    case same
    /// The same amount before and after on every spatial axis.
    case symmetric(Int)
    /// Per-axis amounts before and after (asymmetric allowed), one entry per spatial axis.
    case explicit(before: [Int], after: [Int])
}

/// What the padded border holds.
public enum PaddingFill: Equatable {
    case zeros
    /// Mirror of the interior without repeating the edge (PyTorch `padding_mode='reflect'`).
    case reflect
    /// Repeat of the edge value.
    case replicate
}

/// Output extent of a sliding window: ⌊(n + p_before + p_after − d·(f−1) − 1)/s⌋ + 1,
/// or with `ceilMode` the ceiling, where a last window must start inside the input or its left padding.
/// With d = 1 and symmetric p this is the notes' ⌊(n + 2p − f)/s⌋ + 1.
public func convOutputSize(_ n: Int, kernel f: Int, stride s: Int = 1, padBefore: Int = 0, padAfter: Int = 0,
                           dilation d: Int = 1, ceilMode: Bool = false) -> Int {
    let span = n + padBefore + padAfter - d * (f - 1) - 1
    if span < 0 { return 0 }
    let floorOut = span / s + 1
    guard ceilMode else { return floorOut }
    // The extra window of ceil mode is dropped when it would start in the right padding; the windows of floor
    // mode are always kept (with asymmetric padding one of them may lie in the right padding).
    let out = (span + s - 1) / s + 1
    return out > floorOut && (out - 1) * s >= n + padBefore ? floorOut : out
}

/// A resolved window geometry over 1, 2 or 3 spatial axes: the numbers every convolution and pooling
/// kernel needs. Built from user-facing options by `init(input:kernel:stride:padding:dilation:ceilMode:)`.
public struct WindowGeometry: Equatable {
    public var input: [Int]
    public var kernel: [Int]
    public var stride: [Int]
    public var dilation: [Int]
    public var padBefore: [Int]
    public var padAfter: [Int]
    public var output: [Int]

    /// Resolves `padding` for an input of spatial extents `input`. Stride/dilation/kernel lists have one
    /// entry per spatial axis (a single entry is repeated).
    public init(input: [Int], kernel: [Int], stride: [Int] = [1], padding: Padding = .valid,
                dilation: [Int] = [1], ceilMode: Bool = false) {
        let r = input.count
        func expand(_ v: [Int], _ name: String) -> [Int] {
            precondition(v.count == 1 || v.count == r, "\(name) \(v) for \(r) spatial axes")
            return v.count == 1 ? Array(repeating: v[0], count: r) : v
        }
        self.input = input
        self.kernel = expand(kernel, "kernel")
        self.stride = expand(stride, "stride")
        self.dilation = expand(dilation, "dilation")
        precondition(self.kernel.allSatisfy { $0 > 0 } && self.stride.allSatisfy { $0 > 0 } && self.dilation.allSatisfy { $0 > 0 },
                     "kernel, stride and dilation must be positive")
        switch padding {
        case .valid:
            padBefore = Array(repeating: 0, count: r); padAfter = padBefore
        case .symmetric(let p):
            padBefore = Array(repeating: p, count: r); padAfter = padBefore
        case let .explicit(before, after):
            padBefore = expand(before, "padding"); padAfter = expand(after, "padding")
        case .same:
            var b = [Int](), a = [Int]()
            for i in 0..<r {
                let out = (input[i] + self.stride[i] - 1) / self.stride[i]
                let total = Swift.max((out - 1) * self.stride[i] + self.dilation[i] * (self.kernel[i] - 1) + 1 - input[i], 0)
                b.append(total / 2); a.append(total - total / 2)
            }
            padBefore = b; padAfter = a
        }
        precondition(padBefore.allSatisfy { $0 >= 0 } && padAfter.allSatisfy { $0 >= 0 }, "negative padding")
        let (k, s, d, pb, pa) = (self.kernel, self.stride, self.dilation, padBefore, padAfter)
        output = (0..<r).map { i in
            convOutputSize(input[i], kernel: k[i], stride: s[i], padBefore: pb[i], padAfter: pa[i],
                           dilation: d[i], ceilMode: ceilMode)
        }
    }

    /// Number of spatial axes.
    public var rank: Int { input.count }
    /// Input / output positions per channel.
    public var inputVolume: Int { input.reduce(1, *) }
    public var outputVolume: Int { output.reduce(1, *) }
    /// Taps per channel: kd·kh·kw.
    public var kernelVolume: Int { kernel.reduce(1, *) }

    /// Planes one thread should take at least, so that a task has ~32k input elements (threading tiny work
    /// costs more than it saves).
    var minimumPlanesPerThread: Int { Swift.max(1, 32_768 / Swift.max(inputVolume, 1)) }

    /// True for a 1×1 (×1) window at stride 1 without padding: the convolution is a plain matrix product.
    public var isPointwise: Bool {
        kernel.allSatisfy { $0 == 1 } && stride.allSatisfy { $0 == 1 } &&
            padBefore.allSatisfy { $0 == 0 } && padAfter.allSatisfy { $0 == 0 }
    }

    /// The C kernels' 3-D form: 1-D and 2-D geometries get leading axes of extent 1.
    func cGeometry(channels: Int) -> ck_conv_geom {
        func at(_ v: [Int], _ i: Int, _ fill: Int) -> Int32 {
            let pad = 3 - v.count
            return Int32(i < pad ? fill : v[i - pad])
        }
        var g = ck_conv_geom()
        g.c = Int32(channels)
        g.id = at(input, 0, 1); g.ih = at(input, 1, 1); g.iw = at(input, 2, 1)
        g.kd = at(kernel, 0, 1); g.kh = at(kernel, 1, 1); g.kw = at(kernel, 2, 1)
        g.sd = at(stride, 0, 1); g.sh = at(stride, 1, 1); g.sw = at(stride, 2, 1)
        g.pd = at(padBefore, 0, 0); g.ph = at(padBefore, 1, 0); g.pw = at(padBefore, 2, 0)
        g.dd = at(dilation, 0, 1); g.dh = at(dilation, 1, 1); g.dw = at(dilation, 2, 1)
        g.od = at(output, 0, 1); g.oh = at(output, 1, 1); g.ow = at(output, 2, 1)
        return g
    }
}
