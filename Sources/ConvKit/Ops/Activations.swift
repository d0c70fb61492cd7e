import Foundation
import CConvKernels

/// Pointwise activation functions with their derivatives. Each case documents f(x).
public enum Activation: Equatable {
    /// max(x, 0)
    case relu
    /// min(max(x, 0), 6) (MobileNet)
    case relu6
    /// x for x > 0, αx otherwise
    case leakyRelu(Float)
    /// x for x > 0, α(eˣ − 1) otherwise
    case elu(Float)
    /// λ·elu(x, α) with λ ≈ 1.0507, α ≈ 1.67326 (self-normalizing)
    case selu
    /// 1 / (1 + e⁻ˣ)
    case sigmoid
    /// tanh x
    case tanh
    /// log(1 + eˣ), computed stably
    case softplus
    /// clamp(x/6 + 1/2, 0, 1) (PyTorch's definition)
    case hardSigmoid
    /// x · hardSigmoid(x)
    case hardSwish
    /// x · Φ(x), Φ the standard normal CDF (exact, with erf)
    case gelu
    /// x (no activation)
    case identity

    public static let seluLambda: Float = 1.0507009873554804934193349852946
    public static let seluAlpha: Float = 1.6732632423543772848170429916717

    /// f(x)
    @inlinable public func apply(_ x: Float) -> Float {
        switch self {
        case .relu: return x > 0 ? x : 0
        case .relu6: return Swift.min(Swift.max(x, 0), 6)
        case .leakyRelu(let a): return x > 0 ? x : a * x
        case .elu(let a): return x > 0 ? x : a * (Foundation.exp(x) - 1)
        case .selu: return Activation.seluLambda * (x > 0 ? x : Activation.seluAlpha * (Foundation.exp(x) - 1))
        case .sigmoid: return x >= 0 ? 1 / (1 + Foundation.exp(-x)) : Foundation.exp(x) / (1 + Foundation.exp(x))
        case .tanh: return Foundation.tanh(x)
        case .softplus: return Swift.max(x, 0) + Foundation.log1p(Foundation.exp(-Swift.abs(x)))
        case .hardSigmoid: return Swift.min(Swift.max(x / 6 + 0.5, 0), 1)
        case .hardSwish: return x * Swift.min(Swift.max(x / 6 + 0.5, 0), 1)
        case .gelu: return 0.5 * x * (1 + Foundation.erf(x / 2.0.squareRoot().float))
        case .identity: return x
        }
    }

    /// f′(x)
    @inlinable public func derivative(_ x: Float) -> Float {
        switch self {
        case .relu: return x > 0 ? 1 : 0
        case .relu6: return x > 0 && x < 6 ? 1 : 0
        case .leakyRelu(let a): return x > 0 ? 1 : a
        case .elu(let a): return x > 0 ? 1 : a * Foundation.exp(x)
        case .selu: return Activation.seluLambda * (x > 0 ? 1 : Activation.seluAlpha * Foundation.exp(x))
        case .sigmoid: let s = Activation.sigmoid.apply(x); return s * (1 - s)
        case .tanh: let t = Foundation.tanh(x); return 1 - t * t
        case .softplus: return Activation.sigmoid.apply(x)
        case .hardSigmoid: return x > -3 && x < 3 ? 1.0 / 6 : 0
        case .hardSwish: return x <= -3 ? 0 : (x >= 3 ? 1 : x / 3 + 0.5)
        case .gelu:
            let cdf = 0.5 * (1 + Foundation.erf(x / 2.0.squareRoot().float))
            let pdf = Foundation.exp(-0.5 * x * x) / (2 * Float.pi).squareRoot()
            return cdf + x * pdf
        case .identity: return 1
        }
    }
}

extension Double { @usableFromInline var float: Float { Float(self) } }

extension Tensor {
    /// Applies an activation elementwise.
    public func activated(_ a: Activation) -> Tensor {
        if a == .relu {
            return Tensor(shape: shape) { o in scalars.withUnsafeBufferPointer { x in
                Parallel.forRanges(count, align: 64, minChunk: 1 << 16) { r in
                    ck_relu_forward(x.baseAddress! + r.lowerBound, o.baseAddress! + r.lowerBound, r.count)
                }
            } }
        }
        return map { a.apply($0) }
    }

    /// ∂L/∂x = ∂L/∂y · f′(x) for y = f(x) elementwise (`self` is x).
    public func activationGradient(_ a: Activation, gradOutput gy: Tensor) -> Tensor {
        precondition(gy.shape == shape, "gradient \(gy.shape) for input \(shape)")
        if a == .relu {
            return Tensor(shape: shape) { o in scalars.withUnsafeBufferPointer { x in gy.scalars.withUnsafeBufferPointer { g in
                Parallel.forRanges(count, align: 64, minChunk: 1 << 16) { r in
                    ck_relu_backward(x.baseAddress! + r.lowerBound, g.baseAddress! + r.lowerBound, o.baseAddress! + r.lowerBound, r.count)
                }
            } } }
        }
        return Tensor(shape: shape) { o in for i in 0..<o.count { o[i] = gy.scalars[i] * a.derivative(scalars[i]) } }
    }
}

/// PReLU: y = x for x > 0, a_c·x otherwise, with one learned slope per channel (axis 1) or one shared.
/// - Shapes: x [N, C, …], slope [C] or [1].
public func prelu(_ x: Tensor, slope: Tensor) -> Tensor {
    let (c, inner) = preluLayout(x, slope)
    return Tensor(shape: x.shape) { o in
        x.withUnsafeBufferPointer { xp in slope.withUnsafeBufferPointer { sp in
            // One plane (sample, channel) at a time: the slope is a constant there, so the loop vectorizes.
            for start in stride(from: 0, to: o.count, by: inner) {
                let a = sp[slope.count == 1 ? 0 : (start / inner) % c]
                for i in start..<Swift.min(o.count, start + inner) { let v = xp[i]; o[i] = v > 0 ? v : a * v }
            }
        } }
    }
}

/// Gradients of `prelu` with respect to x and the slope.
public func preluBackward(_ x: Tensor, slope: Tensor, gradOutput gy: Tensor) -> (input: Tensor, slope: Tensor) {
    let (c, inner) = preluLayout(x, slope)
    var gs = Tensor.zeros(slope.shape)
    let gx = Tensor(shape: x.shape) { o in
        for i in 0..<o.count {
            let v = x.scalars[i], ch = slope.count == 1 ? 0 : (i / inner) % c
            if v > 0 { o[i] = gy.scalars[i] } else {
                o[i] = slope.scalars[ch] * gy.scalars[i]
                gs.scalars[ch] += v * gy.scalars[i]
            }
        }
    }
    return (gx, gs)
}

private func preluLayout(_ x: Tensor, _ slope: Tensor) -> (Int, Int) {
    let c = x.rank > 1 ? x.shape[1] : 1
    precondition(slope.count == 1 || slope.count == c, "PReLU slope \(slope.shape) for \(c) channels")
    return (c, x.rank > 2 ? x.shape[2...].reduce(1, *) : 1)
}
