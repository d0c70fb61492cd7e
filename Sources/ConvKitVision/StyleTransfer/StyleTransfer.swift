import Foundation
import ConvKit

/// Neural style transfer by optimizing the generated image itself (notes 004 §4.6):
///     J(G) = α·J_content(C, G) + β·Σ_l λ_l·J_style^[l](S, G) + γ·TV(G)
/// with the costs of `StyleCosts`, activations from a `StyleFeatureNetwork`, and G `[1, 3, H, W]` in [0, 1].
public struct StyleTransfer {
    public enum ImageOptimizer: Equatable {
        /// Adam on the pixels, each step followed by projection onto [0, 1] (projected gradient).
        case adam(learningRate: Float)
        /// Unconstrained L-BFGS; the result is clamped to [0, 1] only when it is returned.
        case lbfgs
        /// L-BFGS-B with the box [0, 1]: every iterate is a valid image, nothing is clamped.
        case lbfgsb
    }

    public enum Initialization: Equatable {
        case content
        /// Uniform noise in [0, 1].
        case noise(seed: UInt64)
    }

    public var network: any StyleFeatureNetwork
    public var contentLayer: String
    /// (layer, λ) pairs.
    public var styleLayers: [(String, Float)]
    public var contentWeight: Float
    public var styleWeight: Float
    public var totalVariationWeight: Float = 0
    public var optimizer: ImageOptimizer = .lbfgsb
    public var initialization: Initialization = .content
    public var iterations = 100

    /// Default layers of the network, λ = 1/L for each of the L style layers.
    public init(network: any StyleFeatureNetwork, contentWeight: Float = 1, styleWeight: Float = 1e3) {
        self.network = network
        contentLayer = network.defaultContentLayer
        let layers = network.defaultStyleLayers
        styleLayers = layers.map { ($0, 1 / Float(layers.count)) }
        self.contentWeight = contentWeight
        self.styleWeight = styleWeight
    }

    /// The unweighted parts of J at one image.
    public struct Costs: Equatable {
        public var content: Float
        public var style: Float
        public var totalVariation: Float
    }

    public struct Result {
        public var image: Tensor
        public var start: Costs
        public var end: Costs
        /// J_content(C, S): the content cost of an image that kept none of the content (the style image),
        /// the scale against which `end.content` says how much content was kept.
        public var contentCostOfStyleImage: Float
        public var iterations: Int
        public var evaluations: Int
        /// J after each iteration.
        public var history: [Float]
    }

    /// The fixed targets: a(C) at the content layer and the Gram matrices of S at the style layers.
    public struct Targets {
        var content: Tensor
        var grams: [String: Tensor]
    }

    func targets(content: Tensor, style: Tensor) -> Targets {
        Autograd.withoutGradients {
            let c = network.activations(Variable(content), at: [contentLayer])
            let s = network.activations(Variable(style), at: Set(styleLayers.map(\.0)))
            return Targets(content: c[contentLayer]!.value, grams: s.mapValues { StyleCosts.gram($0).value })
        }
    }

    /// J and its parts at `image` (a Variable that may require a gradient).
    func objective(_ image: Variable, _ t: Targets) -> (total: Variable, costs: Costs) {
        let a = network.activations(image, at: Set([contentLayer] + styleLayers.map(\.0)))
        let content = StyleCosts.content(a[contentLayer]!, target: t.content)
        var style = Variable(Tensor(0))
        for (layer, lambda) in styleLayers { style = style + StyleCosts.style(a[layer]!, targetGram: t.grams[layer]!) * lambda }
        var total = content * contentWeight + style * styleWeight
        var tv = Float(0)
        if totalVariationWeight != 0 {
            let v = StyleCosts.totalVariation(image)
            tv = v.value.scalar
            total = total + v * totalVariationWeight
        }
        return (total, Costs(content: content.value.scalar, style: style.value.scalar, totalVariation: tv))
    }

    /// The costs of `image` against the targets of `content` and `style` (no optimization).
    public func costs(of image: Tensor, content: Tensor, style: Tensor) throws -> Costs {
        try validate(content: content, style: style)
        let t = targets(content: content, style: resized(style, like: content))
        return Autograd.withoutGradients { objective(Variable(image), t).costs }
    }

    /// The targets of `content` and `style` (validated; the style image resized to the content's size), to
    /// evaluate many images against.
    public func prepare(content: Tensor, style: Tensor) throws -> Targets {
        try validate(content: content, style: style)
        return targets(content: content, style: resized(style, like: content))
    }

    /// J, its parts and ∂J/∂G at `image`: what one optimizer step sees.
    public func evaluate(_ image: Tensor, content: Tensor, style: Tensor) throws -> (total: Float, costs: Costs, gradient: Tensor) {
        let t = try prepare(content: content, style: style)
        guard image.shape == content.shape else {
            throw ConvKitError.shapeMismatch(expected: "generated image of the content's shape \(content.shape)", found: "\(image.shape)")
        }
        return evaluate(image, targets: t)
    }

    /// J, its parts and ∂J/∂G at `image` (of the content image's shape) against prepared targets.
    public func evaluate(_ image: Tensor, targets t: Targets) -> (total: Float, costs: Costs, gradient: Tensor) {
        let g = Variable(image, requiresGrad: true)
        let (total, costs) = objective(g, t)
        total.backward()
        return (total.value.scalar, costs, g.grad ?? .zeros(image.shape))
    }

    /// Runs the optimization. `content` and `style` are `[1, 3, H, W]` in [0, 1]; the style image is resized
    /// to the content's size first (its Gram matrices are then on the same scale as the generated image's).
    /// `progress(iteration, J)` is called after each iteration.
    public func run(content: Tensor, style styleImage: Tensor, progress: ((Int, Float) -> Void)? = nil) throws -> Result {
        try validate(content: content, style: styleImage)
        let style = resized(styleImage, like: content)
        let t = targets(content: content, style: style)
        var start: Tensor
        switch initialization {
        case .content: start = content
        case .noise(let seed):
            var rng = SeededGenerator(seed: seed)
            start = .uniform(content.shape, rng: &rng)
        }
        let startCosts = Autograd.withoutGradients { objective(Variable(start), t).costs }
        let contentOfStyle = Autograd.withoutGradients { objective(Variable(style), t).costs.content }
        let shape = content.shape
        var evaluations = 0
        let f: Objective = { x, gradient in
            let image = Variable(Tensor(shape: shape, scalars: x.map(Float.init)), requiresGrad: true)
            let (total, _) = objective(image, t)
            total.backward()
            evaluations += 1
            let g = image.grad ?? .zeros(shape)
            g.withUnsafeBufferPointer { p in for i in gradient.indices { gradient[i] = Double(p[i]) } }
            return Double(total.value.scalar)
        }
        var image: Tensor
        var history = [Float]()
        var iterationsRun = 0
        switch optimizer {
        case .adam(let lr):
            let p = Parameter(start, requiresGrad: true)
            let adam = Optimizer(.adam(), groups: [ParameterGroup([("image", p)], learningRate: lr)])
            for i in 1...max(iterations, 1) {
                adam.zeroGrad()
                let (total, _) = objective(p, t)
                total.backward()
                evaluations += 1
                adam.step()
                p.value = p.value.clamped(min: 0, max: 1)
                history.append(total.value.scalar)
                progress?(i, total.value.scalar)
            }
            iterationsRun = max(iterations, 1)
            image = p.value
        case .lbfgs, .lbfgsb:
            let x0 = start.scalars.map(Double.init)
            let report: (Int, Double) -> Void = { i, v in history.append(Float(v)); progress?(i, Float(v)) }
            let r: MinimizationResult
            if optimizer == .lbfgs {
                var solver = LBFGS(memory: 10, maxIterations: iterations)
                solver.maxEvaluations = iterations * 2 + 10
                solver.gradientTolerance = 0
                r = solver.minimize(f, from: x0, progress: report)
            } else {
                var solver = LBFGSB(memory: 10, maxIterations: iterations)
                solver.maxEvaluations = iterations * 2 + 10
                solver.gradientTolerance = 0
                r = solver.minimize(f, from: x0, lower: [Double](repeating: 0, count: x0.count),
                                    upper: [Double](repeating: 1, count: x0.count), progress: report)
            }
            iterationsRun = r.iterations
            image = Tensor(shape: shape, scalars: r.x.map { Float(min(max($0, 0), 1)) })
        }
        let endCosts = Autograd.withoutGradients { objective(Variable(image), t).costs }
        return Result(image: image, start: startCosts, end: endCosts, contentCostOfStyleImage: contentOfStyle,
                      iterations: iterationsRun, evaluations: evaluations, history: history)
    }

    func validate(content: Tensor, style: Tensor) throws {
        for (name, image) in [("content image", content), ("style image", style)] {
            guard image.shape.count == 4, image.shape[0] == 1, image.shape[1] == 3, image.shape[2] >= 8, image.shape[3] >= 8 else {
                throw ConvKitError.shapeMismatch(expected: "\(name) [1, 3, H, W] with H, W ≥ 8", found: "\(image.shape)")
            }
        }
        try network.validate([contentLayer] + styleLayers.map(\.0))
    }

    func resized(_ style: Tensor, like content: Tensor) -> Tensor {
        let size = (content.shape[2], content.shape[3])
        if style.shape[2] == size.0 && style.shape[3] == size.1 { return style }
        return Autograd.withoutGradients { Functional.resizeBilinear(Variable(style), to: size).value }
    }
}
