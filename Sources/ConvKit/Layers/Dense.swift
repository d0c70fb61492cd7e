/// Fully connected layer: y = x·Wᵀ + b, x [N, in] → [N, out]; W [out, in] (PyTorch's `Linear`).
/// Parameters: out·(in + 1).
public final class Dense: Module, UnaryLayer {
    public var weight: Parameter
    public var bias: Parameter?
    public let activation: Activation

    public init(_ inputs: Int, _ outputs: Int, bias: Bool = true, activation: Activation = .identity,
                initializer: Initializer = .fanInUniform) {
        weight = Parameter(initializer.make([outputs, inputs], fanIn: inputs, fanOut: outputs, rng: &ConvKitRandom.generator),
                           requiresGrad: true, label: "weight")
        self.bias = bias ? Parameter(Initializer.fanInUniform.make([outputs], fanIn: inputs, fanOut: outputs, rng: &ConvKitRandom.generator),
                                     requiresGrad: true, label: "bias") : nil
        self.activation = activation
    }

    public func callAsFunction(_ x: Variable) -> Variable {
        precondition(x.shape.count == 2 && x.shape[1] == weight.shape[1], "Dense expects [N, \(weight.shape[1])], got \(x.shape)")
        return Functional.linear(x, weight: weight, bias: bias).activated(activation)
    }
}

/// PyTorch's name for `Dense`.
public typealias Linear = Dense
