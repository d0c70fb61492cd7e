import ConvKit

/// Convolution → batch norm → activation, with the convolution's bias off (the norm has one).
/// Children are named "0", "1", "2" like torchvision's `Conv2dNormActivation`.
public func ConvBNActivation(_ cin: Int, _ cout: Int, kernel: Int, stride: Int = 1, padding: Int? = nil, groups: Int = 1,
                             activation: Activation = .relu, epsilon: Float = 1e-5) -> Sequential {
    Sequential(Conv2D(cin, cout, kernel: kernel, stride: stride, padding: .symmetric(padding ?? (kernel - 1) / 2), groups: groups, bias: false),
               BatchNorm(cout, epsilon: epsilon), ActivationLayer(activation))
}

/// torchvision's initialization for its CNNs: He-normal (fan-out) convolutions, unit batch norms,
/// N(0, 0.01) linear layers with zero bias.
func initializeLikeTorchvision(_ m: Module) {
    var rng = ConvKitRandom.generator
    for (_, sub) in m.namedModules() {
        if let c = sub as? Conv {
            let fanOut = c.outputChannels / c.options.groups * c.kernelSize.reduce(1, *)
            c.weight.value = .normal(c.weight.shape, std: (2 / Float(fanOut)).squareRoot(), rng: &rng)
            if let b = c.bias { b.value = .zeros(b.shape) }
        } else if let d = sub as? Dense {
            d.weight.value = .normal(d.weight.shape, std: 0.01, rng: &rng)
            if let b = d.bias { b.value = .zeros(b.shape) }
        }
    }
    ConvKitRandom.generator = rng
}
