import ConvKit
import Foundation

/// Activations (each with its ONNX attributes and defaults) and Softmax/LogSoftmax/Hardmax.
enum ONNXActivations {
    typealias H = ONNXTensorHelpers

    static func activation(_ op: String) -> ONNXKernel {
        { ctx in
            let x = try ctx.float(0), t = try ctx.floatType(0), a = ctx.attributes
            let y: Variable
            switch op {
            case "Relu": y = x.relu()
            case "Sigmoid": y = x.sigmoid()
            case "Tanh": y = x.tanh()
            case "Softplus": y = x.activated(.softplus)
            case "LeakyRelu": y = x.activated(.leakyRelu(try a.float("alpha", default: 0.01)))
            case "Elu": y = x.activated(.elu(try a.float("alpha", default: 1)))
            case "HardSwish": y = x.activated(.hardSwish)
            case "Gelu":
                if try a.string("approximate", default: "none") == "tanh" {
                    let c = (2 / Float.pi).squareRoot()
                    y = H.unary(x, "geluTanh", { x in 0.5 * x * (1 + Foundation.tanh(c * (x + 0.044715 * x * x * x))) }, { x, _ in
                        let u = c * (x + 0.044715 * x * x * x), th = Foundation.tanh(u)
                        return 0.5 * (1 + th) + 0.5 * x * (1 - th * th) * c * (1 + 3 * 0.044715 * x * x)
                    })
                } else {
                    y = x.activated(.gelu)
                }
            case "Selu":
                let alpha = try a.float("alpha", default: 1.67326319217681884765625), gamma = try a.float("gamma", default: 1.05070102214813232421875)
                y = H.unary(x, "selu", { $0 > 0 ? gamma * $0 : gamma * alpha * (Foundation.exp($0) - 1) },
                            { x, _ in x > 0 ? gamma : gamma * alpha * Foundation.exp(x) })
            case "Celu":
                let alpha = try a.float("alpha", default: 1)
                try ctx.require(alpha != 0, "alpha must not be 0")
                y = H.unary(x, "celu", { Swift.max(0, $0) + Swift.min(0, alpha * (Foundation.exp($0 / alpha) - 1)) },
                            { x, _ in x > 0 ? 1 : Foundation.exp(x / alpha) })
            case "HardSigmoid":
                let alpha = try a.float("alpha", default: 0.2), beta = try a.float("beta", default: 0.5)
                y = H.unary(x, "hardSigmoid", { Swift.max(0, Swift.min(1, alpha * $0 + beta)) },
                            { x, _ in (alpha * x + beta > 0 && alpha * x + beta < 1) ? alpha : 0 })
            case "Softsign": y = H.unary(x, "softsign", { $0 / (1 + Swift.abs($0)) }, { x, _ in 1 / ((1 + Swift.abs(x)) * (1 + Swift.abs(x))) })
            case "Mish":
                y = H.unary(x, "mish", { x in x * Foundation.tanh(Activation.softplus.apply(x)) }, { x, _ in
                    let sp = Activation.softplus.apply(x), th = Foundation.tanh(sp), sg = 1 / (1 + Foundation.exp(-x))
                    return th + x * (1 - th * th) * sg
                })
            case "ThresholdedRelu":
                let alpha = try a.float("alpha", default: 1)
                y = H.unary(x, "thresholdedRelu", { $0 > alpha ? $0 : 0 }, { x, _ in x > alpha ? 1 : 0 })
            case "Shrink":
                let bias = try a.float("bias", default: 0), lambd = try a.float("lambd", default: 0.5)
                y = H.unary(x, "shrink", { $0 < -lambd ? $0 + bias : ($0 > lambd ? $0 - bias : 0) }, { x, _ in Swift.abs(x) > lambd ? 1 : 0 })
            default: throw ctx.fail("unknown activation")
            }
            return [.float(y, t)]
        }
    }

    /// PRelu: slope broadcast to X (unidirectionally); a slope of [C] that does not broadcast is per channel (the
    /// pre-opset-7 reading, which old exporters wrote).
    static func prelu(_ ctx: ONNXNodeContext) throws -> [ONNXValue] {
        let x = try ctx.float(0)
        var s = try ctx.float(1)
        if ConvKit.broadcastShape(x.shape, s.shape) != x.shape, s.shape.count == 1, x.shape.count >= 2, s.shape[0] == x.shape[1] {
            s = s.reshaped([x.shape[1]] + Array(repeating: 1, count: x.shape.count - 2))
        }
        try ctx.require(ConvKit.broadcastShape(x.shape, s.shape) == x.shape, "slope \(s.shape) does not broadcast to X \(x.shape)")
        // One slope per channel (or one in all): ConvKit's PReLU kernel, plane by plane.
        let r = x.shape.count
        let aligned = [Int](repeating: 1, count: r - s.shape.count) + s.shape
        if r >= 2, s.value.count == 1 || (aligned[1] == x.shape[1] && aligned.enumerated().allSatisfy { $0.offset == 1 || $0.element == 1 }) {
            return [.float(Functional.prelu(x, slope: s.reshaped([s.value.count])), try ctx.floatType(0))]
        }
        return [.float(try H.binary(ctx, x, s, "prelu", { x, s in x > 0 ? x : x * s }, da: { x, s in x > 0 ? 1 : s }, db: { x, _ in x > 0 ? 0 : x }), try ctx.floatType(0))]
    }

    /// Softmax, LogSoftmax, Hardmax. Before opset 13 the input is coerced to 2-D [Π d<axis, Π d≥axis] (axis default 1)
    /// and normalized over the second axis; from 13 one axis (default −1).
    static func softmax(_ op: String) -> ONNXKernel {
        { ctx in
            let x = try ctx.float(0), t = try ctx.floatType(0), s = x.shape
            let legacy = ctx.opset < 13
            let axis = try ctx.axis(try ctx.attributes.int("axis", default: legacy ? 1 : -1), rank: Swift.max(s.count, 1))
            guard !s.isEmpty, !s.contains(0) else { throw ctx.fail("expected a non-empty tensor of rank ≥ 1, found shape \(s)") }
            let input = legacy ? x.reshaped([s[..<axis].reduce(1, *), s[axis...].reduce(1, *)]) : x
            let ax = legacy ? 1 : axis
            var y: Variable
            switch op {
            case "Softmax": y = Functional.softmax(input, axis: ax)
            case "LogSoftmax": y = Functional.logSoftmax(input, axis: ax)
            default:
                let v = input.value, n = v.shape[ax]
                let moved = v.permuted(moveLast(v.rank, ax))
                var out = [Float](repeating: 0, count: v.count)
                for (row, j) in moved.reshaped([-1, n]).argmax(axis: 1).enumerated() { out[row * n + j] = 1 }
                y = Variable(Tensor(shape: moved.shape, scalars: out).permuted(inverse(moveLast(v.rank, ax))))
            }
            if legacy { y = y.reshaped(s) }
            return [.float(y, t)]
        }
    }

    static func moveLast(_ rank: Int, _ axis: Int) -> [Int] { (0..<rank).filter { $0 != axis } + [axis] }
    static func inverse(_ p: [Int]) -> [Int] {
        var r = [Int](repeating: 0, count: p.count)
        for (i, v) in p.enumerated() { r[v] = i }
        return r
    }
}
