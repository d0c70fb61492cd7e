import Foundation

/// How a loss combines per-element (or per-sample) values.
public enum Reduction: Equatable { case mean, sum, none }

func reduce(_ v: Variable, _ r: Reduction) -> Variable {
    switch r {
    case .mean: return v.mean()
    case .sum: return v.sum()
    case .none: return v
    }
}

/// Loss functions. Predictions are Variables; targets are plain tensors (no gradient).
public enum Loss {
    /// Mean squared error: (ŷ − y)².
    public static func mse(_ p: Variable, _ y: Tensor, reduction: Reduction = .mean) -> Variable {
        reduce((p - y).squared(), reduction)
    }

    /// Mean absolute error: |ŷ − y|.
    public static func mae(_ p: Variable, _ y: Tensor, reduction: Reduction = .mean) -> Variable {
        reduce((p - y).abs(), reduction)
    }

    /// Huber (smooth L1): ½d² for |d| ≤ δ, δ(|d| − ½δ) otherwise.
    public static func huber(_ p: Variable, _ y: Tensor, delta: Float = 1, reduction: Reduction = .mean) -> Variable {
        let d = p - y
        let a = d.value.abs()
        let small = a.le(Tensor(delta))
        let v = Variable(Tensor.where(small, d.value.squared() * 0.5, (a - 0.5 * delta) * delta), parents: [d], label: "huber") { g in
            [g * Tensor.where(small, d.value, d.value.sign() * delta)]
        }
        return reduce(v, reduction)
    }

    /// Binary cross-entropy on probabilities: −[y log p + (1 − y) log(1 − p)], p clamped to [ε, 1 − ε].
    public static func binaryCrossEntropy(_ p: Variable, _ y: Tensor, reduction: Reduction = .mean) -> Variable {
        let eps: Float = 1e-7
        let pc = p.clamped(min: eps, max: 1 - eps)
        let l = -(pc.log() * y + (1 - pc).log() * (1 - y))
        return reduce(l, reduction)
    }

    /// Binary cross-entropy on logits, stable: max(z, 0) − z·y + log(1 + e^{−|z|}); gradient σ(z) − y.
    public static func binaryCrossEntropyWithLogits(_ z: Variable, _ y: Tensor, posWeight: Float = 1, reduction: Reduction = .mean) -> Variable {
        let zv = z.value
        let l = Tensor(shape: zv.shape) { o in
            for i in 0..<o.count {
                let x = zv.scalars[i], t = y.scalars[i]
                let logSig = -(Swift.max(-x, 0) + Foundation.log1p(Foundation.exp(-Swift.abs(x))))   // log σ(x)
                let logOneMinus = -(Swift.max(x, 0) + Foundation.log1p(Foundation.exp(-Swift.abs(x)))) // log(1 − σ(x))
                o[i] = -(posWeight * t * logSig + (1 - t) * logOneMinus)
            }
        }
        let v = Variable(l, parents: [z], label: "bceLogits") { g in
            [Tensor(shape: zv.shape) { o in
                for i in 0..<o.count {
                    let s = Activation.sigmoid.apply(zv.scalars[i]), t = y.scalars[i]
                    o[i] = g.scalars[i] * (posWeight * t * (s - 1) + (1 - t) * s)
                }
            }]
        }
        return reduce(v, reduction)
    }

    /// Softmax cross-entropy from logits [N, K] and class indices, with optional label smoothing ε
    /// (targets (1 − ε)·onehot + ε/K) and per-class weights (the mean divides by the summed weights, as PyTorch).
    public static func crossEntropy(_ logits: Variable, labels: [Int], labelSmoothing: Float = 0, classWeights: Tensor? = nil,
                                    reduction: Reduction = .mean) -> Variable {
        let k = logits.shape[1]
        precondition(labels.count == logits.shape[0], "\(labels.count) labels for \(logits.shape[0]) rows")
        var target = Tensor.zeros(logits.shape)
        for (i, l) in labels.enumerated() {
            precondition(l >= 0 && l < k, "label \(l) out of range 0..<\(k)")
            target[i, l] = 1
        }
        return crossEntropy(logits, probabilities: target, labelSmoothing: labelSmoothing, classWeights: classWeights,
                            sampleWeights: classWeights.map { w in labels.map { w.scalars[$0] } }, reduction: reduction)
    }

    /// Softmax cross-entropy with target distributions (one-hot or soft) [N, K]: −Σ_k t_k log softmax(z)_k.
    public static func crossEntropy(_ logits: Variable, probabilities t: Tensor, labelSmoothing: Float = 0, classWeights: Tensor? = nil,
                                    sampleWeights: [Float]? = nil, reduction: Reduction = .mean) -> Variable {
        precondition(logits.shape.count == 2 && t.shape == logits.shape, "cross-entropy needs logits and targets [N, K], got \(logits.shape) and \(t.shape)")
        let k = Float(logits.shape[1])
        var target = labelSmoothing > 0 ? t * (1 - labelSmoothing) + labelSmoothing / k : t
        if let w = classWeights { target = target * w.reshaped([1, -1]) }
        let perSample = -(Functional.logSoftmax(logits, axis: 1) * target).sum(axes: [1])
        if reduction == .mean, let sw = sampleWeights { return perSample.sum() / sw.reduce(0, +) }
        return reduce(perSample, reduction)
    }

    /// Negative log-likelihood from log-probabilities [N, K] and class indices: −log p[label].
    public static func nll(_ logProbs: Variable, labels: [Int], reduction: Reduction = .mean) -> Variable {
        var mask = Tensor.zeros(logProbs.shape)
        for (i, l) in labels.enumerated() { mask[i, l] = 1 }
        return reduce(-(logProbs * mask).sum(axes: [1]), reduction)
    }

    /// Triplet loss (FaceNet): max(‖f(A) − f(P)‖² − ‖f(A) − f(N)‖² + α, 0) per row of [N, D] embeddings.
    public static func triplet(anchor a: Variable, positive p: Variable, negative n: Variable, margin: Float = 0.2,
                               reduction: Reduction = .mean) -> Variable {
        let dp = (a - p).squared().sum(axes: [1]), dn = (a - n).squared().sum(axes: [1])
        return reduce((dp - dn + margin).clampedMin(0), reduction)
    }

    /// Contrastive loss (Siamese verification): y·d² + (1 − y)·max(m − d, 0)², d = ‖a − b‖, y = 1 for "same".
    public static func contrastive(_ a: Variable, _ b: Variable, same y: Tensor, margin: Float = 1, reduction: Reduction = .mean) -> Variable {
        let d2 = (a - b).squared().sum(axes: [1])
        let d = (d2 + 1e-12).sqrt()
        let neg = (Variable(Tensor(repeating: margin, shape: d.shape)) - d).clampedMin(0).squared()
        return reduce(d2 * y + neg * (1 - y), reduction)
    }

    /// Localization loss for targets y = [p_c, b_x, b_y, b_h, b_w, c_1…c_n, …] per row: squared error on every
    /// component when p_c = 1, on p_c alone when p_c = 0 ("don't care" components contribute nothing).
    /// `weights` (one per component, default all 1) scale each component's squared error.
    public static func maskedLocalization(_ p: Variable, _ y: Tensor, weights: [Float]? = nil, reduction: Reduction = .mean) -> Variable {
        precondition(p.shape == y.shape && p.shape.count == 2, "localization loss needs [N, 5+classes], got \(p.shape) and \(y.shape)")
        precondition(weights == nil || weights!.count == y.shape[1], "one weight per target component")
        let n = y.shape[0], w = y.shape[1]
        let mask = Tensor(shape: y.shape) { m in
            for i in 0..<n { let present = y.scalars[i * w] > 0.5; for j in 0..<w { m[i * w + j] = (j == 0 || present) ? (weights?[j] ?? 1) : 0 } }
        }
        let perSample = ((p - y).squared() * mask).sum(axes: [1])
        return reduce(perSample, reduction)
    }
}

extension Variable {
    public static func - (s: Float, a: Variable) -> Variable { -a + s }
}
