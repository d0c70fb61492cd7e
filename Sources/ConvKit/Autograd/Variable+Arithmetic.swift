import Foundation

/// Elementwise arithmetic with broadcasting; gradients are summed back to each operand's shape.
extension Variable {
    public static func + (a: Variable, b: Variable) -> Variable {
        Variable(a.value + b.value, parents: [a, b], label: "add") { g in [g.sumToShape(a.shape), g.sumToShape(b.shape)] }
    }
    public static func - (a: Variable, b: Variable) -> Variable {
        Variable(a.value - b.value, parents: [a, b], label: "sub") { g in [g.sumToShape(a.shape), (-g).sumToShape(b.shape)] }
    }
    public static func * (a: Variable, b: Variable) -> Variable {
        Variable(a.value * b.value, parents: [a, b], label: "mul") { g in
            [a.requiresGrad ? (g * b.value).sumToShape(a.shape) : nil, b.requiresGrad ? (g * a.value).sumToShape(b.shape) : nil]
        }
    }
    public static func / (a: Variable, b: Variable) -> Variable {
        Variable(a.value / b.value, parents: [a, b], label: "div") { g in
            [a.requiresGrad ? (g / b.value).sumToShape(a.shape) : nil,
             b.requiresGrad ? (-g * a.value / (b.value * b.value)).sumToShape(b.shape) : nil]
        }
    }
    public static prefix func - (a: Variable) -> Variable { Variable(-a.value, parents: [a], label: "neg") { g in [-g] } }
    public static func + (a: Variable, s: Float) -> Variable {
        let v = Variable(a.value + s, parents: [a], label: "adds") { g in [g] }
        Tracer.annotate(v, ["scalar": s]); return v
    }
    public static func - (a: Variable, s: Float) -> Variable {
        let v = Variable(a.value - s, parents: [a], label: "subs") { g in [g] }
        Tracer.annotate(v, ["scalar": s]); return v
    }
    public static func * (a: Variable, s: Float) -> Variable {
        let v = Variable(a.value * s, parents: [a], label: "muls") { g in [g * s] }
        Tracer.annotate(v, ["scalar": s]); return v
    }
    public static func * (s: Float, a: Variable) -> Variable { a * s }
    public static func / (a: Variable, s: Float) -> Variable { a * (1 / s) }
    public static func + (a: Variable, b: Tensor) -> Variable { a + Variable(b) }
    public static func - (a: Variable, b: Tensor) -> Variable { a - Variable(b) }
    public static func * (a: Variable, b: Tensor) -> Variable { a * Variable(b) }

    /// eˣ
    public func exp() -> Variable {
        let y = value.exp()
        return Variable(y, parents: [self], label: "exp") { g in [g * y] }
    }
    /// ln x
    public func log() -> Variable { Variable(value.log(), parents: [self], label: "log") { [x = value] g in [g / x] } }
    /// x²
    public func squared() -> Variable { Variable(value.squared(), parents: [self], label: "square") { [x = value] g in [g * x * 2] } }
    /// √x
    public func sqrt() -> Variable {
        let y = value.sqrt()
        return Variable(y, parents: [self], label: "sqrt") { g in [g / (y * 2)] }
    }
    /// |x| (subgradient 0 at 0)
    public func abs() -> Variable { Variable(value.abs(), parents: [self], label: "abs") { [x = value] g in [g * x.sign()] } }
    /// xᵉ
    public func pow(_ e: Float) -> Variable {
        let v = Variable(value.pow(e), parents: [self], label: "pow") { [x = value] g in [g * x.pow(e - 1) * e] }
        Tracer.annotate(v, ["exponent": e]); return v
    }
    /// max(x, lo) elementwise with a constant (gradient passes where x > lo).
    public func clampedMin(_ lo: Float) -> Variable {
        let v = Variable(value.clamped(min: lo), parents: [self], label: "clampMin") { [x = value] g in [g * x.gt(Tensor(lo))] }
        Tracer.annotate(v, ["min": lo]); return v
    }
    /// min(max(x, lo), hi) (gradient passes strictly inside).
    public func clamped(min lo: Float, max hi: Float) -> Variable {
        let v = Variable(value.clamped(min: lo, max: hi), parents: [self], label: "clamp") { [x = value] g in
            [g * x.gt(Tensor(lo)) * x.lt(Tensor(hi))]
        }
        Tracer.annotate(v, ["min": lo, "max": hi]); return v
    }

    /// Σ over `axes` (all when nil).
    public func sum(axes: [Int]? = nil, keepingDims: Bool = false) -> Variable {
        let inShape = shape
        let ax = (axes ?? Array(0..<inShape.count)).map { $0 < 0 ? $0 + inShape.count : $0 }
        let v = Variable(value.sum(axes: axes, keepingDims: keepingDims), parents: [self], label: "sum") { g in
            var kept = inShape
            for a in ax { kept[a] = 1 }
            return [g.reshaped(kept).broadcast(to: inShape)]
        }
        Tracer.annotate(v, ["axes": ax, "keepDims": keepingDims]); return v
    }
    /// Mean over `axes` (all when nil).
    public func mean(axes: [Int]? = nil, keepingDims: Bool = false) -> Variable {
        let n = (axes ?? Array(0..<shape.count)).map { shape[$0 < 0 ? $0 + shape.count : $0] }.reduce(1, *)
        return sum(axes: axes, keepingDims: keepingDims) * (1 / Float(Swift.max(n, 1)))
    }

    /// Matrix product over the last two axes (batched, broadcasting).
    public static func matmul(_ a: Variable, _ b: Variable) -> Variable {
        Variable(Tensor.matmul(a.value, b.value), parents: [a, b], label: "matmul") { g in
            [a.requiresGrad ? Tensor.matmul(g, b.value, transposeB: true).sumToShape(a.shape) : nil,
             b.requiresGrad ? Tensor.matmul(a.value, g, transposeA: true).sumToShape(b.shape) : nil]
        }
    }
}
