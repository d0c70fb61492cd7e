/// Neural-network ops on Variables; each pairs the Tensor-level forward with its backward from `Ops/`.
public enum Functional {
    /// N-d convolution (see `conv(_:weight:bias:options:)` for shapes and formulas).
    public static func conv(_ x: Variable, weight w: Variable, bias b: Variable? = nil, options o: ConvOptions = ConvOptions()) -> Variable {
        let y = ConvKit.conv(x.value, weight: w.value, bias: b?.value, options: o)
        let v = Variable(y, parents: [x, w] + (b.map { [$0] } ?? []), label: "conv") { g in
            let r = convBackward(x.value, weight: w.value, gradOutput: g, options: o, needInput: x.requiresGrad,
                                 needBias: b?.requiresGrad ?? false, needWeight: w.requiresGrad)
            return [r.input, w.requiresGrad ? r.weight : nil] + (b != nil ? [r.bias] : [])
        }
        if Tracer.current != nil {
            let plan = ConvPlan(input: x.shape, weight: w.shape, options: o)
            let type = plan.isDepthwise ? "DepthwiseConv" : (plan.geometry.isPointwise ? "Conv1x1" : "Conv\(plan.geometry.rank)D")
            Tracer.record(type, output: v, params: [w] + (b.map { [$0] } ?? []),
                          macs: y.count * w.shape[1...].reduce(1, *), window: plan.geometry)
            Tracer.annotate(v, ["geometry": plan.geometry, "groups": o.groups, "paddingFill": o.paddingFill])
        }
        return v
    }

    /// Transposed convolution (weights [Cin, Cout/G, k…]).
    public static func convTranspose(_ x: Variable, weight w: Variable, bias b: Variable? = nil,
                                     options o: ConvTransposeOptions = ConvTransposeOptions()) -> Variable {
        let y = ConvKit.convTranspose(x.value, weight: w.value, bias: b?.value, options: o)
        let v = Variable(y, parents: [x, w] + (b.map { [$0] } ?? []), label: "convTranspose") { g in
            let r = convTransposeBackward(x.value, weight: w.value, gradOutput: g, options: o)
            return [r.input, r.weight] + (b != nil ? [r.bias] : [])
        }
        // Each input element meets every weight of its group once.
        Tracer.record("ConvTranspose", output: v, params: [w] + (b.map { [$0] } ?? []), macs: x.value.count * w.shape[1...].reduce(1, *))
        Tracer.annotate(v, ["options": o])
        return v
    }

    /// y = x·Wᵀ + b with x [N, in], W [out, in], b [out] (PyTorch's Linear layout).
    public static func linear(_ x: Variable, weight w: Variable, bias b: Variable?) -> Variable {
        var y = Tensor.matmul(x.value, w.value, transposeB: true)
        if let b { y += b.value.reshaped([1, -1]).broadcast(to: y.shape) }
        let v = Variable(y, parents: [x, w] + (b.map { [$0] } ?? []), label: "linear") { g in
            [x.requiresGrad ? Tensor.matmul(g, w.value) : nil,
             w.requiresGrad ? Tensor.matmul(g, x.value, transposeA: true) : nil] + (b != nil ? [g.sum(axes: [0])] : [])
        }
        Tracer.record("Dense", output: v, params: [w] + (b.map { [$0] } ?? []), macs: y.count * w.shape[1])
        return v
    }

    public static func maxPool(_ x: Variable, _ o: PoolOptions) -> Variable {
        let (y, idx) = ConvKit.maxPool(x.value, o, returnIndices: x.requiresGrad && Autograd.isRecording)
        let v = Variable(y, parents: [x], label: "maxPool") { g in [maxPoolBackward(inputShape: x.shape, gradOutput: g, indices: idx!, o)] }
        if Tracer.current != nil {
            Tracer.record("MaxPool", output: v, window: o.geometry(for: x.shape))
            Tracer.annotate(v, ["geometry": o.geometry(for: x.shape), "ceilMode": o.ceilMode])
        }
        return v
    }

    public static func avgPool(_ x: Variable, _ o: PoolOptions) -> Variable {
        let v = Variable(ConvKit.avgPool(x.value, o), parents: [x], label: "avgPool") { g in [avgPoolBackward(inputShape: x.shape, gradOutput: g, o)] }
        if Tracer.current != nil {
            Tracer.record("AvgPool", output: v, window: o.geometry(for: x.shape))
            Tracer.annotate(v, ["geometry": o.geometry(for: x.shape), "ceilMode": o.ceilMode, "countIncludePad": o.countIncludePad])
        }
        return v
    }

    /// [N, C, *S] → [N, C]
    public static func globalAvgPool(_ x: Variable) -> Variable {
        let s = x.shape
        let n = s[2...].reduce(1, *)
        let v = Variable(x.value.globalAveragePooled(), parents: [x], label: "globalAvgPool") { g in
            [(g / Float(n)).reshaped([s[0], s[1]] + s[2...].map { _ in 1 }).broadcast(to: s)]
        }
        Tracer.record("GlobalAvgPool", output: v)
        return v
    }

    /// [N, C, *S] → [N, C]
    public static func globalMaxPool(_ x: Variable) -> Variable {
        let s = x.shape
        let flat = x.value.reshaped([s[0] * s[1], -1])
        let arg = flat.argmax(axis: 1)
        return Variable(x.value.globalMaxPooled(), parents: [x], label: "globalMaxPool") { g in
            var gx = Tensor.zeros([s[0] * s[1], flat.shape[1]])
            for (i, a) in arg.enumerated() { gx.scalars[i * flat.shape[1] + a] = g.scalars[i] }
            return [gx.reshaped(s)]
        }
    }

    public static func adaptiveAvgPool2D(_ x: Variable, outputSize: (Int, Int)) -> Variable {
        let v = Variable(ConvKit.adaptiveAvgPool2D(x.value, outputSize: outputSize), parents: [x], label: "adaptiveAvgPool") { g in
            [adaptiveAvgPool2DBackward(inputShape: x.shape, gradOutput: g)]
        }
        if Tracer.current != nil {
            // Bins are ⌈n/out⌉ wide and ⌊n/out⌋ apart (exact when out divides n).
            let (h, w) = (x.shape[2], x.shape[3])
            let geo = WindowGeometry(input: [h, w], kernel: [(h + outputSize.0 - 1) / outputSize.0, (w + outputSize.1 - 1) / outputSize.1],
                                     stride: [Swift.max(1, h / outputSize.0), Swift.max(1, w / outputSize.1)])
            Tracer.record("AdaptiveAvgPool", output: v, window: geo)
            Tracer.annotate(v, ["outputSize": [outputSize.0, outputSize.1]])
        }
        return v
    }

    public static func activation(_ x: Variable, _ a: Activation) -> Variable {
        if a == .identity { return x }
        let v = Variable(x.value.activated(a), parents: [x], label: "activation") { g in [x.value.activationGradient(a, gradOutput: g)] }
        Tracer.annotate(v, ["activation": a]); return v
    }

    public static func prelu(_ x: Variable, slope: Variable) -> Variable {
        Variable(ConvKit.prelu(x.value, slope: slope.value), parents: [x, slope], label: "prelu") { g in
            let r = preluBackward(x.value, slope: slope.value, gradOutput: g)
            return [r.input, r.slope]
        }
    }

    public static func softmax(_ x: Variable, axis: Int = -1) -> Variable {
        let y = x.value.softmax(axis: axis)
        let v = Variable(y, parents: [x], label: "softmax") { g in [softmaxBackward(output: y, gradOutput: g, axis: axis)] }
        Tracer.annotate(v, ["axis": axis]); return v
    }

    public static func logSoftmax(_ x: Variable, axis: Int = -1) -> Variable {
        let y = x.value.logSoftmax(axis: axis)
        let v = Variable(y, parents: [x], label: "logSoftmax") { g in [logSoftmaxBackward(output: y, gradOutput: g, axis: axis)] }
        Tracer.annotate(v, ["axis": axis]); return v
    }

    /// Batch normalization in training mode; returns the batch statistics for running averages.
    public static func batchNorm(_ x: Variable, gamma: Variable, beta: Variable, epsilon: Float) -> (Variable, Tensor, Tensor) {
        let (y, mean, variance) = batchNormTraining(x.value, gamma: gamma.value, beta: beta.value, epsilon: epsilon)
        let v = Variable(y, parents: [x, gamma, beta], label: "batchNorm") { g in
            let r = batchNormBackward(x.value, gamma: gamma.value, mean: mean, variance: variance, gradOutput: g, epsilon: epsilon)
            return [r.input, r.gamma, r.beta]
        }
        Tracer.record("BatchNorm", output: v, params: [gamma, beta])
        return (v, mean, variance)
    }

    /// Batch normalization with fixed statistics (inference mode); γ and β still receive gradients
    /// (fine-tuning with frozen statistics).
    public static func batchNorm(_ x: Variable, gamma: Variable, beta: Variable, mean: Tensor, variance: Tensor, epsilon: Float) -> Variable {
        let y = batchNormInference(x.value, runningMean: mean, runningVariance: variance, gamma: gamma.value, beta: beta.value, epsilon: epsilon)
        let v = Variable(y, parents: [x, gamma, beta], label: "batchNormEval") { g in
            let L = x.shape
            let axes = [0] + Array(2..<L.count)
            let inv = (variance + epsilon).sqrt()
            let xhat = (x.value - mean.reshaped([1, -1] + L[2...].map { _ in 1 })) / inv.reshaped([1, -1] + L[2...].map { _ in 1 })
            return [batchNormInferenceBackward(gamma: gamma.value, runningVariance: variance, gradOutput: g, epsilon: epsilon),
                    (g * xhat).sum(axes: axes), g.sum(axes: axes)]
        }
        Tracer.record("BatchNorm", output: v, params: [gamma, beta])
        Tracer.annotate(v, ["mean": mean, "variance": variance, "epsilon": epsilon])
        return v
    }

    public static func instanceNorm(_ x: Variable, gamma: Variable?, beta: Variable?, epsilon: Float) -> Variable {
        let (y, mean, variance) = ConvKit.instanceNorm(x.value, gamma: gamma?.value, beta: beta?.value, epsilon: epsilon)
        let parents = [x] + [gamma, beta].compactMap { $0 }
        let v = Variable(y, parents: parents, label: "instanceNorm") { g in
            let r = instanceNormBackward(x.value, gamma: gamma?.value, mean: mean, variance: variance, gradOutput: g, epsilon: epsilon)
            return [r.input] + (gamma != nil ? [r.gamma, r.beta] : [])
        }
        Tracer.annotate(v, ["epsilon": epsilon]); return v
    }

    public static func localResponseNorm(_ x: Variable, _ o: LRNOptions) -> Variable {
        let v = Variable(ConvKit.localResponseNorm(x.value, o), parents: [x], label: "lrn") { g in [localResponseNormBackward(x.value, gradOutput: g, o)] }
        Tracer.annotate(v, ["options": o]); return v
    }

    public static func dropout(_ x: Variable, p: Float, rng: inout SeededGenerator) -> Variable {
        if p == 0 { return x }
        let (y, mask) = ConvKit.dropout(x.value, p: p, rng: &rng)
        return Variable(y, parents: [x], label: "dropout") { g in [g * mask] }
    }

    public static func upsampleNearest(_ x: Variable, scale: (Int, Int)) -> Variable {
        let v = Variable(ConvKit.upsampleNearest(x.value, scale: scale), parents: [x], label: "upsample") { g in
            [upsampleNearestBackward(gradOutput: g, scale: scale)]
        }
        Tracer.annotate(v, ["scale": [scale.0, scale.1]]); return v
    }

    public static func resizeBilinear(_ x: Variable, to size: (Int, Int), alignCorners: Bool = false) -> Variable {
        let inSize = (x.shape[2], x.shape[3])
        let v = Variable(ConvKit.resizeBilinear(x.value, to: size, alignCorners: alignCorners), parents: [x], label: "bilinear") { g in
            [resizeBilinearBackward(gradOutput: g, inputSize: inSize, alignCorners: alignCorners)]
        }
        Tracer.annotate(v, ["alignCorners": alignCorners]); return v
    }
}

extension Variable {
    /// Shorthand for `Functional.activation(self, .relu)` and friends.
    /// Each row scaled to unit L2 norm: x / √(Σ_k x_k² + ε) along `axis` (embeddings on the unit sphere).
    public func l2Normalized(axis: Int = 1, epsilon: Float = 1e-12) -> Variable {
        self / ((self.squared().sum(axes: [axis], keepingDims: true) + epsilon).sqrt())
    }

    public func relu() -> Variable { Functional.activation(self, .relu) }
    public func sigmoid() -> Variable { Functional.activation(self, .sigmoid) }
    public func tanh() -> Variable { Functional.activation(self, .tanh) }
    public func activated(_ a: Activation) -> Variable { Functional.activation(self, a) }
}
