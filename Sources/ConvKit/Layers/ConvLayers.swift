/// N-d convolution layer (1, 2 or 3 spatial axes), NCHW: input [N, Cin, *S] → [N, Cout, *O].
/// O_i = ⌊(S_i + p_before + p_after − d·(k − 1) − 1)/s⌋ + 1. Weight [Cout, Cin/groups, *k], bias [Cout].
/// Default initialization is PyTorch's (U(±1/√fan_in) for weight and bias).
public final class Conv: Module, UnaryLayer {
    public var weight: Parameter
    public var bias: Parameter?
    public let options: ConvOptions
    public let activation: Activation
    /// Folded inference weights (`fused(_:norm:adding:activation:)`), rebuilt when stale.
    var inferenceCache: FoldedConvWeights?

    public init(inputChannels: Int, outputChannels: Int, kernelSize: [Int], stride: [Int] = [1], padding: Padding = .valid,
                dilation: [Int] = [1], groups: Int = 1, bias: Bool = true, paddingFill: PaddingFill = .zeros,
                activation: Activation = .identity, initializer: Initializer = .fanInUniform,
                rng: inout SeededGenerator) {
        precondition(groups > 0 && inputChannels % groups == 0 && outputChannels % groups == 0,
                     "groups \(groups) must divide \(inputChannels) and \(outputChannels)")
        let k = kernelSize
        let fanIn = inputChannels / groups * k.reduce(1, *), fanOut = outputChannels / groups * k.reduce(1, *)
        weight = Parameter(initializer.make([outputChannels, inputChannels / groups] + k, fanIn: fanIn, fanOut: fanOut, rng: &rng),
                           requiresGrad: true, label: "weight")
        self.bias = bias ? Parameter(Initializer.fanInUniform.make([outputChannels], fanIn: fanIn, fanOut: fanOut, rng: &rng),
                                     requiresGrad: true, label: "bias") : nil
        options = ConvOptions(stride: stride, padding: padding, dilation: dilation, groups: groups, paddingFill: paddingFill)
        self.activation = activation
    }

    public convenience init(inputChannels: Int, outputChannels: Int, kernelSize: [Int], stride: [Int] = [1], padding: Padding = .valid,
                            dilation: [Int] = [1], groups: Int = 1, bias: Bool = true, paddingFill: PaddingFill = .zeros,
                            activation: Activation = .identity, initializer: Initializer = .fanInUniform) {
        self.init(inputChannels: inputChannels, outputChannels: outputChannels, kernelSize: kernelSize, stride: stride,
                  padding: padding, dilation: dilation, groups: groups, bias: bias, paddingFill: paddingFill,
                  activation: activation, initializer: initializer, rng: &ConvKitRandom.generator)
    }

    /// A convolution over existing parameters (shared, not copied): imported models build their layers this way.
    /// weight [Cout, Cin/groups, k…], bias [Cout].
    public init(weight: Parameter, bias: Parameter?, options: ConvOptions, activation: Activation = .identity) {
        precondition(weight.shape.count >= 3 && weight.shape[0] % options.groups == 0, "conv weight \(weight.shape) for \(options.groups) groups")
        precondition(bias == nil || bias!.shape == [weight.shape[0]], "conv bias \(bias!.shape) for weight \(weight.shape)")
        self.weight = weight; self.bias = bias; self.options = options; self.activation = activation
    }

    public var inputChannels: Int { weight.shape[1] * options.groups }
    public var outputChannels: Int { weight.shape[0] }
    public var kernelSize: [Int] { Array(weight.shape[2...]) }

    public func callAsFunction(_ x: Variable) -> Variable {
        Functional.conv(x, weight: weight, bias: bias, options: options).activated(activation)
    }
}

/// 2-D convolution: `Conv2D(3, 64, kernel: 7, stride: 2, padding: .symmetric(3))`.
public func Conv2D(_ cin: Int, _ cout: Int, kernel: Int, stride: Int = 1, padding: Padding = .valid, dilation: Int = 1,
                   groups: Int = 1, bias: Bool = true, activation: Activation = .identity,
                   initializer: Initializer = .fanInUniform) -> Conv {
    Conv(inputChannels: cin, outputChannels: cout, kernelSize: [kernel, kernel], stride: [stride], padding: padding,
         dilation: [dilation], groups: groups, bias: bias, activation: activation, initializer: initializer)
}

/// 1-D convolution over [N, C, L] (temporal convolutions; dilation for WaveNet-style stacks).
public func Conv1D(_ cin: Int, _ cout: Int, kernel: Int, stride: Int = 1, padding: Padding = .valid, dilation: Int = 1,
                   groups: Int = 1, bias: Bool = true, activation: Activation = .identity) -> Conv {
    Conv(inputChannels: cin, outputChannels: cout, kernelSize: [kernel], stride: [stride], padding: padding,
         dilation: [dilation], groups: groups, bias: bias, activation: activation)
}

/// 3-D convolution over [N, C, D, H, W].
public func Conv3D(_ cin: Int, _ cout: Int, kernel: Int, stride: Int = 1, padding: Padding = .valid, dilation: Int = 1,
                   groups: Int = 1, bias: Bool = true, activation: Activation = .identity) -> Conv {
    Conv(inputChannels: cin, outputChannels: cout, kernelSize: [kernel, kernel, kernel], stride: [stride], padding: padding,
         dilation: [dilation], groups: groups, bias: bias, activation: activation)
}

/// Depthwise 2-D convolution: one k×k filter per channel (groups = channels), MobileNet's spatial filter.
public func DepthwiseConv2D(_ channels: Int, kernel: Int = 3, stride: Int = 1, padding: Padding = .same,
                            bias: Bool = true, activation: Activation = .identity) -> Conv {
    Conv(inputChannels: channels, outputChannels: channels, kernelSize: [kernel, kernel], stride: [stride], padding: padding,
         groups: channels, bias: bias, activation: activation)
}

/// Depthwise separable convolution (MobileNet v1): depthwise k×k, then pointwise 1×1 to `outputChannels`.
/// Cost per position: k²·C + C·C′ multiplies instead of k²·C·C′.
public final class SeparableConv2D: Module, UnaryLayer {
    public var depthwise: Conv
    public var pointwise: Conv

    public init(_ cin: Int, _ cout: Int, kernel: Int = 3, stride: Int = 1, padding: Padding = .same, activation: Activation = .identity) {
        depthwise = DepthwiseConv2D(cin, kernel: kernel, stride: stride, padding: padding, bias: false)
        pointwise = Conv2D(cin, cout, kernel: 1, activation: activation)
    }

    public func callAsFunction(_ x: Variable) -> Variable { pointwise(depthwise(x)) }
}

/// Transposed convolution layer (up-convolution, U-Net's decoder). Weight [Cin, Cout/groups, *k].
public final class ConvTranspose: Module, UnaryLayer {
    public var weight: Parameter
    public var bias: Parameter?
    public let options: ConvTransposeOptions

    public init(inputChannels: Int, outputChannels: Int, kernelSize: [Int], stride: [Int] = [1], padding: Padding = .valid,
                outputPadding: [Int] = [0], dilation: [Int] = [1], groups: Int = 1, bias: Bool = true) {
        let kv = kernelSize.reduce(1, *)
        // PyTorch computes fan_in from weight.shape[1] · Π k for transposed convolutions.
        let fanIn = outputChannels / groups * kv
        weight = Parameter(Initializer.fanInUniform.make([inputChannels, outputChannels / groups] + kernelSize, fanIn: fanIn,
                                                         fanOut: inputChannels * kv, rng: &ConvKitRandom.generator), requiresGrad: true, label: "weight")
        self.bias = bias ? Parameter(Initializer.fanInUniform.make([outputChannels], fanIn: fanIn, fanOut: 0, rng: &ConvKitRandom.generator),
                                     requiresGrad: true, label: "bias") : nil
        options = ConvTransposeOptions(stride: stride, padding: padding, outputPadding: outputPadding, dilation: dilation, groups: groups)
    }

    public func callAsFunction(_ x: Variable) -> Variable {
        Functional.convTranspose(x, weight: weight, bias: bias, options: options)
    }
}
