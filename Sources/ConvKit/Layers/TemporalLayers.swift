/// Weight normalization (Salimans and Kingma 2016) of a convolution: the weight is reparametrized per output
/// channel as w = g·v/‖v‖ (‖v‖ over all of that channel's taps), and g and v are what is trained (both receive
/// gradients through the formula). PyTorch's `weight_norm(conv, dim=0)`: parameters `weight_g` `[Cout, 1, …]` and
/// `weight_v` (the conv's shape); initialized so that w equals the conv's initial weight.
public final class WeightNormConv: Module, UnaryLayer {
    public var weightV: Parameter
    public var weightG: Parameter
    public var bias: Parameter?
    public let options: ConvOptions
    /// Zero padding on the left only: (k − 1)·d along the last axis makes the convolution causal.
    public let causalPadding: Int

    public init(_ conv: Conv, causal: Bool = false) {
        let w = conv.weight.value
        weightV = Parameter(w, requiresGrad: true, label: "weight_v")
        let n = WeightNormConv.norms(w)
        weightG = Parameter(Tensor(shape: [w.shape[0]] + [Int](repeating: 1, count: w.rank - 1), scalars: n), requiresGrad: true, label: "weight_g")
        bias = conv.bias
        options = conv.options
        causalPadding = causal ? (w.shape[w.rank - 1] - 1) * (conv.options.dilation.last ?? 1) : 0
    }

    public override func ownParameters() -> [(String, Parameter)] {
        [("weight_g", weightG), ("weight_v", weightV)] + (bias.map { [("bias", $0)] } ?? [])
    }

    static func norms(_ w: Tensor) -> [Float] {
        let per = w.count / w.shape[0]
        return (0..<w.shape[0]).map { o in
            var s: Float = 0
            for i in 0..<per { s += w.scalars[o * per + i] * w.scalars[o * per + i] }
            return s.squareRoot()
        }
    }

    /// w = g · v / ‖v‖, differentiable in g and v.
    public var weight: Variable {
        let axes = Array(1..<weightV.value.rank)
        let norm = (weightV.squared().sum(axes: axes, keepingDims: true) + 1e-12).sqrt()
        return weightG * (weightV / norm)
    }

    public func callAsFunction(_ x: Variable) -> Variable {
        let input = causalPadding > 0 ? x.padded([(causalPadding, 0)]) : x
        return Functional.conv(input, weight: weight, bias: bias, options: options)
    }
}

/// A causal 1-D convolution: y[t] depends on x[≤ t] only. The input is zero-padded by (k − 1)·d on the left and
/// convolved without padding, which equals PyTorch's pad-both-sides-then-chomp (`Chomp1d`) and keeps the length.
public func CausalConv1D(_ cin: Int, _ cout: Int, kernel: Int, dilation: Int = 1, bias: Bool = true) -> CausalConv {
    CausalConv(Conv1D(cin, cout, kernel: kernel, dilation: dilation, bias: bias))
}

/// A convolution made causal by left padding (see `CausalConv1D`).
public final class CausalConv: Module, UnaryLayer {
    public var conv: Conv
    public let leftPadding: Int
    public init(_ conv: Conv) {
        self.conv = conv
        leftPadding = (conv.kernelSize.last! - 1) * (conv.options.dilation.last ?? 1)
    }
    public func callAsFunction(_ x: Variable) -> Variable { conv(x.padded([(leftPadding, 0)])) }
}

/// The temporal block of Bai, Kolter and Koltun (2018, "An Empirical Evaluation of Generic Convolutional and
/// Recurrent Networks for Sequence Modeling"): two weight-normalized dilated causal convolutions, each followed by
/// ReLU and dropout, plus the input (through a 1×1 convolution when the channel count changes), then ReLU.
/// `[N, Cin, L]` → `[N, Cout, L]`. Receptive field added: 2·(k − 1)·d.
public final class TemporalBlock: Module, UnaryLayer {
    public var conv1: WeightNormConv, conv2: WeightNormConv
    public var downsample: Conv?
    public var dropout1: Dropout, dropout2: Dropout

    /// `initialStd`: weights N(0, σ²) as the reference implementation (locuslab/TCN, σ = 0.01) initializes them;
    /// nil keeps PyTorch's default convolution initialization (which trains the UCR sets more reliably here:
    /// GunPoint stays at chance from σ = 0.01).
    public init(_ cin: Int, _ cout: Int, kernel: Int, dilation: Int, dropout: Float = 0.2, initialStd: Float? = 0.01) {
        func conv(_ a: Int, _ b: Int, _ k: Int, _ d: Int) -> Conv {
            let c = Conv1D(a, b, kernel: k, dilation: d)
            if let initialStd { c.weight.value = .normal(c.weight.value.shape, std: initialStd, rng: &ConvKitRandom.generator) }
            return c
        }
        conv1 = WeightNormConv(conv(cin, cout, kernel, dilation), causal: true)
        conv2 = WeightNormConv(conv(cout, cout, kernel, dilation), causal: true)
        downsample = cin != cout ? conv(cin, cout, 1, 1) : nil
        dropout1 = Dropout(dropout); dropout2 = Dropout(dropout)
    }

    public func callAsFunction(_ x: Variable) -> Variable {
        let h = dropout2(conv2(dropout1(conv1(x).relu())).relu())
        return (h + (downsample?(x) ?? x)).relu()
    }
}
