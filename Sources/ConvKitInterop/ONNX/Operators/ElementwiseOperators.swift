import ConvKit
import Foundation

/// Elementwise arithmetic, comparisons, logic and math functions with NumPy broadcasting (ONNX opset 7+ rules).
enum ONNXElementwise {
    typealias H = ONNXTensorHelpers

    /// Add, Sub, Mul, Div (and integer versions), gradients through ConvKit's broadcasting ops.
    static func arithmetic(_ op: String) -> ONNXKernel {
        { ctx in
            let a = try ctx.value(0), b = try ctx.value(1)
            switch (a, b) {
            case (.float(let x, let t), .float(let y, _)):
                _ = try H.broadcastShape(ctx, x.shape, y.shape)
                switch op {
                case "Add": return [.float(x + y, t)]
                case "Sub": return [.float(x - y, t)]
                case "Mul": return [.float(x * y, t)]
                default: return [.float(x / y, t)]
                }
            case (.integer(let x), .integer(let y)):
                return [.integer(try H.zip(ctx, x, y, type: x.type) { p, q in
                    switch op {
                    case "Add": return p &+ q
                    case "Sub": return p &- q
                    case "Mul": return p &* q
                    default:
                        guard q != 0 else { throw ctx.fail("integer division by zero") }
                        return p == .min && q == -1 ? p : p / q
                    }
                })]
            default:
                throw ctx.fail("operands must both be floating-point or both integer, found \(a.elementType) and \(b.elementType)")
            }
        }
    }

    /// Pow: X^Y (Y may be an integer tensor for float X).
    static func pow(_ ctx: ONNXNodeContext) throws -> [ONNXValue] {
        let a = try ctx.value(0), b = try ctx.value(1)
        if case .integer(let x) = a, case .integer(let y) = b {
            return [.integer(try H.zip(ctx, x, y, type: x.type) { p, q in
                guard q >= 0 else { return p == 1 ? 1 : 0 }
                var r: Int64 = 1
                for _ in 0..<Swift.min(q, 64) { r = r &* p }
                return r
            })]
        }
        if case .integer(let x) = a, case .float(let e, _) = b {
            let s = try H.broadcastShape(ctx, x.shape, e.shape)
            let base = H.broadcast(.integer(x), to: s).floatTensor, exps = e.value.broadcast(to: s)
            let v = Swift.zip(base.scalars, exps.scalars).map { x.type.wrap(Int64(saturating: Foundation.pow($0, $1))) }
            return [.integer(IntegerTensor(shape: s, values: v, type: x.type))]
        }
        guard case .float(let x, let t) = a else { throw ctx.fail("Pow needs a numeric base") }
        let y: Variable
        switch b {
        case .float(let v, _): y = v
        case .integer(let i): y = Variable(Tensor(shape: i.shape, scalars: i.values.map { Float($0) }))
        }
        return [.float(try H.binary(ctx, x, y, "pow", { Foundation.pow($0, $1) },
                                    da: { $1 * Foundation.pow($0, $1 - 1) },
                                    db: { $0 > 0 ? Foundation.pow($0, $1) * Foundation.log($0) : 0 }), t)]
    }

    /// Max, Min, Sum, Mean over any number of inputs (variadic, broadcasting).
    static func variadic(_ op: String) -> ONNXKernel {
        { ctx in
            try ctx.require(!ctx.inputs.isEmpty, "needs at least one input")
            var acc = try ctx.value(0)
            for i in 1..<Swift.max(ctx.inputs.count, 1) {
                let b = try ctx.value(i)
                switch (acc, b) {
                case (.float(let x, let t), .float(let y, _)):
                    switch op {
                    case "Sum", "Mean": _ = try H.broadcastShape(ctx, x.shape, y.shape); acc = .float(x + y, t)
                    case "Max": acc = .float(try H.binary(ctx, x, y, "max", { Swift.max($0, $1) }, da: { $0 >= $1 ? 1 : 0 }, db: { $0 >= $1 ? 0 : 1 }), t)
                    default: acc = .float(try H.binary(ctx, x, y, "min", { Swift.min($0, $1) }, da: { $0 <= $1 ? 1 : 0 }, db: { $0 <= $1 ? 0 : 1 }), t)
                    }
                case (.integer(let x), .integer(let y)):
                    acc = .integer(try H.zip(ctx, x, y, type: x.type) { p, q in
                        switch op {
                        case "Max": return Swift.max(p, q)
                        case "Min": return Swift.min(p, q)
                        default: return p &+ q
                        }
                    })
                default: throw ctx.fail("inputs mix floating-point and integer tensors")
                }
            }
            if op == "Mean", case .float(let x, let t) = acc { acc = .float(x * (1 / Float(ctx.inputs.count)), t) }
            if op == "Mean", case .integer(var x) = acc { x.values = x.values.map { $0 / Int64(ctx.inputs.count) }; acc = .integer(x) }
            return [acc]
        }
    }

    /// Equal, Less, Greater, LessOrEqual, GreaterOrEqual → bool.
    static func comparison(_ op: String) -> ONNXKernel {
        { ctx in
            let a = try ctx.value(0), b = try ctx.value(1)
            let s = try H.broadcastShape(ctx, a.shape, b.shape)
            func test<T: Comparable>(_ p: T, _ q: T) -> Bool {
                switch op {
                case "Equal": return p == q
                case "Less": return p < q
                case "Greater": return p > q
                case "LessOrEqual": return p <= q
                default: return p >= q
                }
            }
            var out = [Int64]()
            switch (H.broadcast(a, to: s), H.broadcast(b, to: s)) {
            case (.integer(let x), .integer(let y)): out = Swift.zip(x.values, y.values).map { test($0, $1) ? 1 : 0 }
            case let (x, y): out = Swift.zip(x.floatTensor.scalars, y.floatTensor.scalars).map { test($0, $1) ? 1 : 0 }
            }
            return [.integer(IntegerTensor(shape: s, values: out, type: .bool))]
        }
    }

    /// And, Or, Xor over booleans; Not.
    static func logic(_ op: String) -> ONNXKernel {
        { ctx in
            if op == "Not" {
                let x = try ctx.integer(0)
                return [.integer(IntegerTensor(shape: x.shape, values: x.values.map { $0 == 0 ? 1 : 0 }, type: .bool))]
            }
            return [.integer(try H.zip(ctx, try ctx.integer(0), try ctx.integer(1), type: .bool) { p, q in
                let (x, y) = (p != 0, q != 0)
                switch op {
                case "And": return x && y ? 1 : 0
                case "Or": return x || y ? 1 : 0
                default: return x != y ? 1 : 0
                }
            })]
        }
    }

    /// Where(condition, X, Y): X where condition, else Y (broadcasting all three).
    static func `where`(_ ctx: ONNXNodeContext) throws -> [ONNXValue] {
        let c = try ctx.integer(0), a = try ctx.value(1), b = try ctx.value(2)
        let s = try H.broadcastShape(ctx, try H.broadcastShape(ctx, c.shape, a.shape), b.shape)
        guard case .integer(let cb) = H.broadcast(.integer(c), to: s) else { fatalError("integers stay integers") }
        switch (H.broadcast(a, to: s), H.broadcast(b, to: s)) {
        case (.float(let x, let t), .float(let y, _)):
            let mask = Tensor(shape: s, scalars: cb.values.map { $0 != 0 ? 1 : 0 })
            return [.float(x * Variable(mask) + y * Variable(1 - mask), t)]
        case (.integer(let x), .integer(let y)):
            return [.integer(IntegerTensor(shape: s, values: (0..<cb.count).map { cb.values[$0] != 0 ? x.values[$0] : y.values[$0] }, type: x.type))]
        default: throw ctx.fail("X and Y must both be floating-point or both integer")
        }
    }

    /// Mod (fmod = 0: sign of the divisor, integers; fmod = 1: C fmod).
    static func mod(_ ctx: ONNXNodeContext) throws -> [ONNXValue] {
        let fmod = try ctx.attributes.int("fmod", default: 0)
        switch (try ctx.value(0), try ctx.value(1)) {
        case (.integer(let x), .integer(let y)):
            return [.integer(try H.zip(ctx, x, y, type: x.type) { p, q in
                guard q != 0 else { throw ctx.fail("integer modulo by zero") }
                let r = q == -1 ? 0 : p % q
                return fmod == 1 || r == 0 || (r < 0) == (q < 0) ? r : r + q
            })]
        case (.float(let x, let t), .float(let y, _)):
            return [.float(try H.binary(ctx, x, y, "mod", { p, q in
                let r = Foundation.fmod(p, q)
                return fmod == 1 || r == 0 || (r < 0) == (q < 0) ? r : r + q
            }, da: { _, _ in 1 }, db: { p, q in -(p / q).rounded(.down) }), t)]
        default: throw ctx.fail("operands must both be floating-point or both integer")
        }
    }

    /// Unary math on floats (Abs and Neg also on integers).
    static func unary(_ op: String) -> ONNXKernel {
        { ctx in
            if case .integer(let t) = try ctx.value(0) {
                let f: (Int64) -> Int64
                switch op {
                case "Abs": f = { $0 == .min ? $0 : Swift.abs($0) }
                case "Neg": f = { 0 &- $0 }
                case "Sign": f = { $0.signum() }
                case "Identity", "Floor", "Ceil", "Round": f = { $0 }
                default: throw ctx.fail("\(op) expects a floating-point tensor, found \(t.type)")
                }
                return [.integer(IntegerTensor(shape: t.shape, values: t.values.map { t.type.wrap(f($0)) }, type: t.type))]
            }
            let x = try ctx.float(0), t = try ctx.floatType(0)
            let y: Variable
            switch op {
            case "Abs": y = x.abs()
            case "Neg": y = -x
            case "Sqrt": y = x.sqrt()
            case "Exp": y = x.exp()
            case "Log": y = x.log()
            case "Reciprocal": y = H.unary(x, "reciprocal", { 1 / $0 }, { _, y in -y * y })
            case "Floor": y = H.unary(x, "floor", { $0.rounded(.down) }, { _, _ in 0 })
            case "Ceil": y = H.unary(x, "ceil", { $0.rounded(.up) }, { _, _ in 0 })
            case "Round": y = H.unary(x, "round", { $0.rounded(.toNearestOrEven) }, { _, _ in 0 })
            case "Sign": y = H.unary(x, "sign", { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) }, { _, _ in 0 })
            case "Sin": y = H.unary(x, "sin", { Foundation.sin($0) }, { x, _ in Foundation.cos(x) })
            case "Cos": y = H.unary(x, "cos", { Foundation.cos($0) }, { x, _ in -Foundation.sin(x) })
            case "Tan": y = H.unary(x, "tan", { Foundation.tan($0) }, { _, y in 1 + y * y })
            case "Asin": y = H.unary(x, "asin", { Foundation.asin($0) }, { x, _ in 1 / (1 - x * x).squareRoot() })
            case "Acos": y = H.unary(x, "acos", { Foundation.acos($0) }, { x, _ in -1 / (1 - x * x).squareRoot() })
            case "Atan": y = H.unary(x, "atan", { Foundation.atan($0) }, { x, _ in 1 / (1 + x * x) })
            case "Sinh": y = H.unary(x, "sinh", { Foundation.sinh($0) }, { x, _ in Foundation.cosh(x) })
            case "Cosh": y = H.unary(x, "cosh", { Foundation.cosh($0) }, { x, _ in Foundation.sinh(x) })
            case "Asinh": y = H.unary(x, "asinh", { Foundation.asinh($0) }, { x, _ in 1 / (x * x + 1).squareRoot() })
            case "Acosh": y = H.unary(x, "acosh", { Foundation.acosh($0) }, { x, _ in 1 / (x * x - 1).squareRoot() })
            case "Atanh": y = H.unary(x, "atanh", { Foundation.atanh($0) }, { x, _ in 1 / (1 - x * x) })
            case "Erf": y = H.unary(x, "erf", { Foundation.erf($0) }, { x, _ in 2 / Float.pi.squareRoot() * Foundation.exp(-x * x) })
            default: y = x
            }
            return [.float(y, t)]
        }
    }

    /// IsNaN, IsInf → bool.
    static func classify(_ op: String) -> ONNXKernel {
        { ctx in
            let x = try ctx.float(0).value
            let pos = try ctx.attributes.int("detect_positive", default: 1) != 0, neg = try ctx.attributes.int("detect_negative", default: 1) != 0
            let v: [Int64] = x.scalars.map { f in
                if op == "IsNaN" { return f.isNaN ? 1 : 0 }
                return f.isInfinite && ((f > 0 && pos) || (f < 0 && neg)) ? 1 : 0
            }
            return [.integer(IntegerTensor(shape: x.shape, values: v, type: .bool))]
        }
    }
}
