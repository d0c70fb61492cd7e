import ConvKit
import Foundation

/// BatchNormalization, InstanceNormalization, LayerNormalization, LRN.
enum ONNXNormalization {
    typealias H = ONNXTensorHelpers

    /// Inference uses the running statistics (inputs 3 and 4). In training mode (the model's `train()` or
    /// `training_mode = 1`) it uses batch statistics and, when the statistics are the model's buffers, updates
    /// them: r ← momentum·r + (1 − momentum)·batch (ONNX's momentum, default 0.9; biased batch variance).
    static func batchNorm(_ ctx: ONNXNodeContext) throws -> [ONNXValue] {
        let x = try ctx.float(0), gamma = try ctx.float(1), beta = try ctx.float(2)
        let mean = try ctx.float(3).value, variance = try ctx.float(4).value
        let s = x.shape
        try ctx.require(s.count >= 2, "expected X [N, C, …], found \(s)")
        let c = s[1]
        for (n, v) in [("scale", gamma.shape), ("B", beta.shape), ("mean", mean.shape), ("var", variance.shape)] {
            try ctx.require(v == [c], "\(n) has shape \(v), expected [\(c)] for X \(s)")
        }
        let eps = try ctx.attributes.float("epsilon", default: 1e-5)
        let momentum = try ctx.attributes.float("momentum", default: 0.9)
        let trainingMode = try ctx.attributes.int("training_mode", default: 0) != 0
        let t = try ctx.floatType(0)
        guard ctx.isTraining || trainingMode else {
            return [.float(Functional.batchNorm(x, gamma: gamma, beta: beta, mean: mean, variance: variance, epsilon: eps), t)]
        }
        let (y, bm, bv) = Functional.batchNorm(x, gamma: gamma, beta: beta, epsilon: eps)
        // ONNX's definition: the batch variance is the biased one (PyTorch's running_var uses the unbiased).
        let newMean = mean * momentum + bm * (1 - momentum)
        let newVar = variance * momentum + bv * (1 - momentum)
        if ctx.isTraining {
            ctx.buffer(3)?.value = newMean
            ctx.buffer(4)?.value = newVar
        }
        return [.float(y, t), .float(newMean, type: t), .float(newVar, type: t)]
    }

    static func instanceNorm(_ ctx: ONNXNodeContext) throws -> [ONNXValue] {
        let x = try ctx.float(0), gamma = try ctx.float(1), beta = try ctx.float(2)
        try ctx.require(x.shape.count >= 3 && gamma.shape == [x.shape[1]] && beta.shape == [x.shape[1]],
                        "expected X [N, C, spatial…] with scale and B of [C]; found \(x.shape), \(gamma.shape), \(beta.shape)")
        return [.float(Functional.instanceNorm(x, gamma: gamma, beta: beta, epsilon: try ctx.attributes.float("epsilon", default: 1e-5)), try ctx.floatType(0))]
    }

    /// LayerNormalization (17): normalize over axes [axis, rank); outputs Y, Mean, InvStdDev (kept dims).
    static func layerNorm(_ ctx: ONNXNodeContext) throws -> [ONNXValue] {
        let x = try ctx.float(0), scale = try ctx.float(1), t = try ctx.floatType(0)
        let bias = ctx.optional(2) == nil ? nil : try ctx.float(2)
        let r = x.shape.count
        let axis = try ctx.axis(try ctx.attributes.int("axis", default: -1), rank: r)
        let eps = try ctx.attributes.float("epsilon", default: 1e-5)
        let axes = Array(axis..<r)
        let normalized = Array(x.shape[axis...])
        _ = try H.broadcastShape(ctx, normalized, scale.shape)
        let mean = x.mean(axes: axes, keepingDims: true)
        let centered = x - mean
        let variance = centered.squared().mean(axes: axes, keepingDims: true)
        let inv = H.unary(variance, "rsqrt", { 1 / ($0 + eps).squareRoot() }, { v, _ in -0.5 * Foundation.pow(v + eps, -1.5) })
        var y = centered * inv * scale
        if let bias { _ = try H.broadcastShape(ctx, y.shape, bias.shape); y = y + bias }
        return [.float(y, t), .float(mean, t), .float(inv, t)]
    }

    /// LRN: y = x / (bias + α/size · Σ x²)^β over channels [c − ⌊(size−1)/2⌋, c + ⌈(size−1)/2⌉].
    static func lrn(_ ctx: ONNXNodeContext) throws -> [ONNXValue] {
        let x = try ctx.float(0), a = ctx.attributes
        guard let size = try a.int("size") else { throw ctx.fail("attribute size is required") }
        try ctx.require(size > 0 && size < 1 << 16, "size must be positive, found \(size)")
        try ctx.require(x.shape.count >= 3, "expected X [N, C, spatial…], found \(x.shape)")
        let o = LRNOptions(size: size, alpha: try a.float("alpha", default: 1e-4), beta: try a.float("beta", default: 0.75), k: try a.float("bias", default: 1))
        // ConvKit's window is [c − ⌊n/2⌋, c + ⌊(n−1)/2⌋]: the same for odd n, mirrored for even n (reverse channels).
        guard size % 2 == 0 else { return [.float(Functional.localResponseNorm(x, o), try ctx.floatType(0))] }
        let c = x.shape[1], inner = x.shape[2...].reduce(1, *), n = x.shape[0]
        var index = [Int]()
        index.reserveCapacity(x.value.count)
        for b in 0..<n { for ch in 0..<c { let src = (b * c + (c - 1 - ch)) * inner; for i in 0..<inner { index.append(src + i) } } }
        guard case .float(let rev, _) = H.gather(.float(x, .float), shape: x.shape, index: index),
              case .float(let back, _) = H.gather(.float(Functional.localResponseNorm(rev, o), .float), shape: x.shape, index: index) else {
            fatalError("floats stay floats")
        }
        return [.float(back, try ctx.floatType(0))]
    }
}
