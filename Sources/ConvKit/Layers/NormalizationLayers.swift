/// Batch normalization over channel axis 1 of [N, C, *S] (BatchNorm1D/2D/3D are this one class).
/// Training: batch statistics, and running averages updated as r ← (1 − momentum)·r + momentum·batch
/// (variance unbiased, as PyTorch). Evaluation: the running statistics.
/// Parameters 2C (γ = 1, β = 0 at start); buffers running_mean, running_var, num_batches_tracked.
public final class BatchNorm: Module, UnaryLayer {
    public var weight: Parameter
    public var bias: Parameter
    public var runningMean: Buffer
    public var runningVar: Buffer
    public var numBatchesTracked: Buffer
    public let momentum: Float
    public let epsilon: Float

    public init(_ channels: Int, momentum: Float = 0.1, epsilon: Float = 1e-5) {
        weight = Parameter(.ones([channels]), requiresGrad: true, label: "weight")
        bias = Parameter(.zeros([channels]), requiresGrad: true, label: "bias")
        runningMean = Buffer(.zeros([channels])); runningVar = Buffer(.ones([channels])); numBatchesTracked = Buffer(Tensor(0))
        self.momentum = momentum; self.epsilon = epsilon
    }

    /// Batch normalization over existing parameters and statistics (shared, not copied), as imported models use it.
    public init(weight: Parameter, bias: Parameter, runningMean: Buffer, runningVar: Buffer, momentum: Float = 0.1, epsilon: Float = 1e-5) {
        let c = weight.shape
        precondition(c.count == 1 && bias.shape == c && runningMean.value.shape == c && runningVar.value.shape == c,
                     "batch norm tensors \(c), \(bias.shape), \(runningMean.value.shape), \(runningVar.value.shape)")
        self.weight = weight; self.bias = bias; self.runningMean = runningMean; self.runningVar = runningVar
        numBatchesTracked = Buffer(Tensor(0))
        self.momentum = momentum; self.epsilon = epsilon
    }

    // PyTorch's names for the buffers.
    public override func ownBuffers() -> [(String, Buffer)] {
        [("running_mean", runningMean), ("running_var", runningVar), ("num_batches_tracked", numBatchesTracked)]
    }

    public func callAsFunction(_ x: Variable) -> Variable {
        precondition(x.shape.count >= 2 && x.shape[1] == weight.shape[0], "BatchNorm(\(weight.shape[0])) got \(x.shape)")
        guard isTraining else {
            return Functional.batchNorm(x, gamma: weight, beta: bias, mean: runningMean.value, variance: runningVar.value, epsilon: epsilon)
        }
        let (y, mean, variance) = Functional.batchNorm(x, gamma: weight, beta: bias, epsilon: epsilon)
        let m = Float(x.shape.count == 2 ? x.shape[0] : x.shape[0] * x.shape[2...].reduce(1, *))
        let unbiased = variance * (m / Swift.max(m - 1, 1))
        runningMean.value = runningMean.value * (1 - momentum) + mean * momentum
        runningVar.value = runningVar.value * (1 - momentum) + unbiased * momentum
        numBatchesTracked.value = numBatchesTracked.value + 1
        return y
    }
}

/// Instance normalization (style transfer): per-sample, per-channel statistics; optional affine γ, β.
public final class InstanceNorm: Module, UnaryLayer {
    public var weight: Parameter?
    public var bias: Parameter?
    public let epsilon: Float
    public init(_ channels: Int, affine: Bool = true, epsilon: Float = 1e-5) {
        weight = affine ? Parameter(.ones([channels]), requiresGrad: true, label: "weight") : nil
        bias = affine ? Parameter(.zeros([channels]), requiresGrad: true, label: "bias") : nil
        self.epsilon = epsilon
    }
    public func callAsFunction(_ x: Variable) -> Variable { Functional.instanceNorm(x, gamma: weight, beta: bias, epsilon: epsilon) }
}

/// Local response normalization across channels (AlexNet).
public final class LocalResponseNorm: Module, UnaryLayer {
    public let options: LRNOptions
    public init(size: Int = 5, alpha: Float = 1e-4, beta: Float = 0.75, k: Float = 2) { options = LRNOptions(size: size, alpha: alpha, beta: beta, k: k) }
    public func callAsFunction(_ x: Variable) -> Variable { Functional.localResponseNorm(x, options) }
}
