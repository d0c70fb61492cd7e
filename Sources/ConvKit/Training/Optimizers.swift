import Foundation

/// Parameters that share hyperparameters (PyTorch's param groups), e.g. a smaller learning rate for a
/// pretrained backbone than for a new head.
public struct ParameterGroup {
    public var parameters: [(String, Parameter)]
    public var learningRate: Float
    public var weightDecay: Float
    public init(_ parameters: [(String, Parameter)], learningRate: Float, weightDecay: Float = 0) {
        self.parameters = parameters; self.learningRate = learningRate; self.weightDecay = weightDecay
    }
}

/// The update rules. Each is written as the seeds (and PyTorch) write it; `t` is the 1-based step.
public enum OptimizerRule: Equatable {
    /// p ← p − lr·g; with momentum μ: b ← μb + g (b₁ = g), step along b, or g + μb with Nesterov.
    case sgd(momentum: Float = 0, nesterov: Bool = false)
    /// s ← s + g²; p ← p − lr·g/(√s + ε)
    case adagrad(epsilon: Float = 1e-10)
    /// s ← αs + (1 − α)g²; p ← p − lr·g/(√s + ε)
    case rmsprop(alpha: Float = 0.99, epsilon: Float = 1e-8)
    /// m ← β₁m + (1 − β₁)g; v ← β₂v + (1 − β₂)g²; p ← p − lr·(m/(1 − β₁ᵗ))/(√(v/(1 − β₂ᵗ)) + ε).
    /// Weight decay is added to the gradient (L2).
    case adam(beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8)
    /// Adam with decoupled weight decay: p ← p·(1 − lr·wd) before the Adam step.
    case adamW(beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8)

    /// Names of the per-parameter state tensors this rule keeps.
    var stateNames: [String] {
        switch self {
        case .sgd(let m, _): return m == 0 ? [] : ["momentum_buffer"]
        case .adagrad: return ["sum"]
        case .rmsprop: return ["square_avg"]
        case .adam, .adamW: return ["exp_avg", "exp_avg_sq", "step"]
        }
    }
}

/// A first-order optimizer over parameter groups. `step()` applies one update to every parameter that
/// requires a gradient and has one; `zeroGrad()` clears them. State is kept by parameter name so it can be
/// checkpointed and resumed exactly.
public final class Optimizer {
    public var rule: OptimizerRule
    public var groups: [ParameterGroup]
    /// Number of steps taken (Adam's t).
    public private(set) var stepCount = 0
    /// Per-parameter state by "name.stateName".
    public private(set) var state = [String: Tensor]()

    public init(_ rule: OptimizerRule, groups: [ParameterGroup]) { self.rule = rule; self.groups = groups }

    /// One group holding every parameter of `module`.
    public convenience init(_ rule: OptimizerRule, module: Module, learningRate: Float, weightDecay: Float = 0) {
        self.init(rule, groups: [ParameterGroup(module.namedParameters(), learningRate: learningRate, weightDecay: weightDecay)])
    }

    public static func sgd(_ m: Module, lr: Float, momentum: Float = 0, nesterov: Bool = false, weightDecay: Float = 0) -> Optimizer {
        Optimizer(.sgd(momentum: momentum, nesterov: nesterov), module: m, learningRate: lr, weightDecay: weightDecay)
    }
    public static func adam(_ m: Module, lr: Float = 1e-3, weightDecay: Float = 0) -> Optimizer {
        Optimizer(.adam(), module: m, learningRate: lr, weightDecay: weightDecay)
    }

    /// Sets every group's learning rate (schedules call this).
    public func setLearningRate(_ lr: Float) { for i in groups.indices { groups[i].learningRate = lr } }

    public func zeroGrad() { for g in groups { for (_, p) in g.parameters { p.grad = nil } } }

    public func step() {
        stepCount += 1
        for group in groups {
            let lr = group.learningRate, wd = group.weightDecay
            for (name, p) in group.parameters where p.requiresGrad {
                guard var g = p.grad else { continue }
                if wd != 0, rule.isL2 { g = g + p.value * wd }
                var value = p.value
                switch rule {
                case let .sgd(mu, nesterov):
                    if mu != 0 {
                        let key = name + ".momentum_buffer"
                        let b = state[key].map { $0 * mu + g } ?? g
                        state[key] = b
                        g = nesterov ? g + b * mu : b
                    }
                    value = value - g * lr
                case let .adagrad(eps):
                    let key = name + ".sum"
                    let s = (state[key] ?? .zeros(g.shape)) + g.squared()
                    state[key] = s
                    value = value - g / (s.sqrt() + eps) * lr
                case let .rmsprop(alpha, eps):
                    let key = name + ".square_avg"
                    let s = (state[key] ?? .zeros(g.shape)) * alpha + g.squared() * (1 - alpha)
                    state[key] = s
                    value = value - g / (s.sqrt() + eps) * lr
                case let .adam(b1, b2, eps), let .adamW(b1, b2, eps):
                    if case .adamW = rule, wd != 0 { value = value * (1 - lr * wd) }
                    let mk = name + ".exp_avg", vk = name + ".exp_avg_sq", sk = name + ".step"
                    // Bias correction counts this parameter's own updates (PyTorch's state['step']): a parameter
                    // unfrozen late starts at t = 1. State saved before per-parameter counts fall back to the global one.
                    let t = (state[sk]?.scalar ?? (state[mk] != nil ? Float(stepCount - 1) : 0)) + 1
                    let m = (state[mk] ?? .zeros(g.shape)) * b1 + g * (1 - b1)
                    let v = (state[vk] ?? .zeros(g.shape)) * b2 + g.squared() * (1 - b2)
                    state[mk] = m; state[vk] = v; state[sk] = Tensor(t)
                    let mhat = m / (1 - Foundation.pow(b1, t)), vhat = v / (1 - Foundation.pow(b2, t))
                    value = value - mhat / (vhat.sqrt() + eps) * lr
                }
                p.value = value
            }
        }
    }

    /// State for a checkpoint: tensors by "name.stateName" plus the step count.
    public func stateDict() -> (tensors: [String: Tensor], step: Int) { (state, stepCount) }

    /// Throws unless every state tensor belongs to one of this optimizer's parameters under a state name of its
    /// rule, with the parameter's shape (one element for the step counter).
    public func validate(tensors: [String: Tensor], path: String = "optimizer state") throws {
        let shapes = Dictionary(groups.flatMap { $0.parameters.map { ($0.0, $0.1.shape) } }, uniquingKeysWith: { a, _ in a })
        for (key, t) in tensors {
            guard let dot = key.lastIndex(of: "."), let shape = shapes[String(key[..<dot])] else {
                throw ConvKitError.shapeMismatch(expected: "\(path): optimizer state for one of this model's parameters", found: key)
            }
            let kind = String(key[key.index(after: dot)...])
            guard rule.stateNames.contains(kind) else {
                throw ConvKitError.shapeMismatch(expected: "\(path): state \(rule.stateNames.joined(separator: ", ")) for this optimizer", found: key)
            }
            guard kind == "step" ? t.count == 1 : t.shape == shape else {
                throw ConvKitError.shapeMismatch(expected: "\(path): \(key) of shape \(kind == "step" ? [] : shape)", found: "\(t.shape)")
            }
        }
    }

    /// Restores state saved by `stateDict()`; names must match this optimizer's parameters.
    public func load(tensors: [String: Tensor], step: Int) throws {
        try validate(tensors: tensors)
        state = tensors; stepCount = step
    }
}

extension OptimizerRule {
    /// Whether weight decay is L2 (added to the gradient) rather than decoupled.
    var isL2: Bool { if case .adamW = self { return false } else { return true } }
}

/// Gradient clipping.
public enum GradientClipping {
    /// Scales all gradients so their joint L2 norm is at most `maxNorm`; returns the norm before clipping.
    @discardableResult
    public static func clipNorm(_ params: [Parameter], maxNorm: Float) -> Float {
        let total = params.compactMap(\.grad).reduce(Float(0)) { $0 + $1.squared().sum().scalar }.squareRoot()
        if total > maxNorm {
            let s = maxNorm / (total + 1e-6)
            for p in params where p.grad != nil { p.grad! *= s }
        }
        return total
    }

    /// Clamps every gradient element to [−v, v].
    public static func clipValue(_ params: [Parameter], _ v: Float) {
        for p in params where p.grad != nil { p.grad = p.grad!.clamped(min: -v, max: v) }
    }
}

/// Learning-rate schedules: the rate for a 0-based epoch (or step) given the base rate.
public enum LearningRateSchedule: Equatable {
    case constant
    /// base·γ^⌊e/stepSize⌋
    case step(size: Int, gamma: Float)
    /// base·γ^e
    case exponential(gamma: Float)
    /// η_min + (base − η_min)(1 + cos(π e/T))/2
    case cosine(period: Int, minimum: Float = 0)
    /// Linear warm-up from base/warmup to base over `warmup` epochs, then `then`.
    indirect case warmup(Int, then: LearningRateSchedule)

    public func rate(at e: Int, base: Float) -> Float {
        switch self {
        case .constant: return base
        case let .step(size, gamma): return base * Foundation.pow(gamma, Float(e / Swift.max(size, 1)))
        case let .exponential(gamma): return base * Foundation.pow(gamma, Float(e))
        case let .cosine(period, minimum):
            let x = Float(Swift.min(e, period)) / Float(Swift.max(period, 1))
            return minimum + (base - minimum) * (1 + Foundation.cos(Float.pi * x)) / 2
        case let .warmup(w, then):
            return e < w ? base * Float(e + 1) / Float(w) : then.rate(at: e - w, base: base)
        }
    }
}
