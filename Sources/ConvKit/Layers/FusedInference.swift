import Foundation

extension Conv {
    /// activation(norm(conv(x)) + residual) — a convolution, its batch norm, a residual addition and an
    /// activation, as ResNet blocks and `Conv2dNormActivation` stacks use them.
    ///
    /// While training, recording gradients or tracing a summary it runs the layers one by one. In
    /// evaluation it runs one convolution whose weights have the norm folded in,
    /// W′[o] = W[o]·s[o], b′[o] = β[o] + (b[o] − μ[o])·s[o] with s = γ/√(σ² + ε), and whose epilogue adds
    /// the residual and applies ReLU/ReLU6 while each output block is still in cache. The folded (and, for
    /// Winograd, transformed) weights are cached and rebuilt when any parameter or buffer changes.
    public func fused(_ x: Variable, norm: BatchNorm?, adding residual: Variable? = nil,
                      activation: Activation = .identity) -> Variable {
        let clamp = activation.clampRange
        let plan = ConvPlan(input: x.shape, weight: weight.shape, options: options)
        let fusable = !Autograd.isRecording && Tracer.current == nil && !(norm?.isTraining ?? false)
            && (self.activation == .identity || norm == nil) && self.activation.clampRange != nil
            && (residual == nil || residual!.shape == plan.outputShape)
        guard fusable, let clamp else {
            var y = norm.map { $0(self(x)) } ?? self(x)
            if let residual { y = y + residual }
            return Functional.activation(y, activation)
        }
        let folded = foldedWeights(norm: norm)
        let winograd = Winograd.isEnabled && Winograd.applies(plan) ? folded.winograd() : nil
        var lower = clamp.lower, upper = clamp.upper
        if norm == nil, let own = self.activation.clampRange {   // the conv's own activation, no norm between
            lower = Swift.max(lower, own.lower); upper = Swift.min(upper, own.upper)
        }
        let y = convForward(x.value, weight: folded.weight, options: options,
                            epilogue: ConvEpilogue(bias: folded.bias, residual: residual?.value, lower: lower, upper: upper),
                            winogradWeights: winograd)
        return Variable(y)
    }

    /// The cached folded weights, rebuilt when a version changed.
    func foldedWeights(norm: BatchNorm?) -> FoldedConvWeights {
        var key = [weight.version, bias?.version ?? 0]
        if let n = norm {
            key += [n.weight.version, n.bias.version, n.runningMean.version, n.runningVar.version, UInt64(n.epsilon.bitPattern)]
        }
        return FoldedConvWeights.lock.withLock {
            if let c = inferenceCache, c.key == key { return c }
            let c = FoldedConvWeights(key: key, conv: self, norm: norm)
            inferenceCache = c
            return c
        }
    }
}

extension Sequential {
    /// Runs the layers, fusing each Conv → BatchNorm? → ReLU/ReLU6? run with `Conv.fused` when no
    /// gradients are recorded (which falls back to the plain layers in training mode).
    func forwardFusingConvolutions(_ x: Variable) -> Variable {
        var y = x, i = 0
        while i < layers.count {
            guard let conv = layers[i] as? Conv else { y = layers[i](y); i += 1; continue }
            let norm = i + 1 < layers.count ? layers[i + 1] as? BatchNorm : nil
            i += norm == nil ? 1 : 2
            var activation = Activation.identity
            if i < layers.count, let a = layers[i] as? ActivationLayer, a.activation.clampRange != nil {
                activation = a.activation; i += 1
            }
            y = conv.fused(y, norm: norm, activation: activation)
        }
        return y
    }
}

/// A convolution's weights with a batch norm folded in, for inference (see `Conv.fused`).
final class FoldedConvWeights {
    static let lock = NSLock()
    /// Versions of every tensor the fold read.
    let key: [UInt64]
    /// [Cout, Cin/groups, k…]
    let weight: Tensor
    /// [Cout]
    let bias: Tensor?
    private var winogradCache: WinogradWeights?

    init(key: [UInt64], conv: Conv, norm: BatchNorm?) {
        self.key = key
        guard let n = norm else {
            weight = conv.weight.value; bias = conv.bias?.value
            return
        }
        (weight, bias) = foldBatchNorm(weight: conv.weight.value, bias: conv.bias?.value, gamma: n.weight.value, beta: n.bias.value,
                                       mean: n.runningMean.value, variance: n.runningVar.value, epsilon: n.epsilon)
    }

    /// The Winograd transform of `weight`, computed on first use.
    func winograd() -> WinogradWeights {
        FoldedConvWeights.lock.withLock {
            if let w = winogradCache { return w }
            let w = Winograd.transformWeights(weight)
            winogradCache = w
            return w
        }
    }
}

/// A batch norm folded into the convolution before it: W′[o] = W[o]·s[o], b′[o] = β[o] + (b[o] − μ[o])·s[o] with
/// s = γ/√(σ² + ε). Weights [Cout, …], the rest [Cout].
func foldBatchNorm(weight: Tensor, bias: Tensor?, gamma: Tensor, beta: Tensor, mean: Tensor, variance: Tensor,
                   epsilon: Float) -> (weight: Tensor, bias: Tensor) {
    let scale = gamma / (variance + epsilon).sqrt()
    let shift = bias.map { $0 - mean } ?? -mean
    return (weight * scale.reshaped([weight.shape[0]] + [Int](repeating: 1, count: weight.rank - 1)), beta + shift * scale)
}

extension Activation {
    /// The output range when the activation is a clamp the convolution epilogue can apply; nil otherwise.
    var clampRange: (lower: Float, upper: Float)? {
        switch self {
        case .identity: return (-.infinity, .infinity)
        case .relu: return (0, .infinity)
        case .relu6: return (0, 6)
        default: return nil
        }
    }
}
