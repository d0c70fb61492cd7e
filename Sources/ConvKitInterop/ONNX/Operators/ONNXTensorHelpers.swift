import ConvKit
import Foundation

/// Building blocks the operators share: index-map movement (one source index per output element, used for
/// float and integer tensors alike, with a scatter-add backward), broadcasting over integers, and elementwise
/// float ops with their derivatives.
enum ONNXTensorHelpers {
    /// Row-major strides of `shape`.
    static func strides(_ shape: [Int]) -> [Int] {
        var s = [Int](repeating: 1, count: shape.count), acc = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) { s[i] = acc; acc *= shape[i] }
        return s
    }

    /// Source offsets for an output of `shape` reading `source` at `offset + Σ index_i · stepStrides_i`
    /// (strides may be 0 for broadcast or negative for reversed slices).
    static func stridedIndices(shape: [Int], strides st: [Int], offset: Int) -> [Int] {
        let n = shape.reduce(1, *)
        var out = [Int](repeating: 0, count: n)
        guard n > 0 else { return out }
        var idx = [Int](repeating: 0, count: shape.count), off = offset
        for k in 0..<n {
            out[k] = off
            var d = shape.count - 1
            while d >= 0 {
                idx[d] += 1; off += st[d]
                if idx[d] < shape[d] { break }
                off -= st[d] * shape[d]; idx[d] = 0; d -= 1
            }
        }
        return out
    }

    /// y[k] = x[index[k]] with `shape` (an index of −1 reads `fill`); float values keep gradients (scatter-added back).
    static func gather(_ v: ONNXValue, shape: [Int], index: [Int], fill: Float = 0) -> ONNXValue {
        switch v {
        case .integer(let t):
            let f = Int64(saturating: fill)
            return .integer(IntegerTensor(shape: shape, values: index.map { $0 < 0 ? f : t.values[$0] }, type: t.type))
        case .float(let x, let type):
            let src = x.value.scalars
            let y = Tensor(shape: shape, scalars: index.map { $0 < 0 ? fill : src[$0] })
            let inShape = x.shape, n = src.count
            return .float(Variable(y, parents: [x], label: "gather") { g in
                var gx = [Float](repeating: 0, count: n)
                for (k, i) in index.enumerated() where i >= 0 { gx[i] += g.scalars[k] }
                return [Tensor(shape: inShape, scalars: gx)]
            }, type)
        }
    }

    /// Axes permuted: y.shape[i] = x.shape[perm[i]].
    static func permute(_ v: ONNXValue, _ perm: [Int]) -> ONNXValue {
        if case .float(let x, let t) = v { return .float(x.permuted(perm), t) }
        let s = v.shape, st = strides(s)
        return gather(v, shape: perm.map { s[$0] }, index: stridedIndices(shape: perm.map { s[$0] }, strides: perm.map { st[$0] }, offset: 0))
    }

    /// The value broadcast to `shape` (NumPy rules), gradients summed back.
    static func broadcast(_ v: ONNXValue, to shape: [Int]) -> ONNXValue {
        if v.shape == shape { return v }
        let s = v.shape, pad = shape.count - s.count, own = strides(s)
        let st = (0..<shape.count).map { i in i < pad || s[i - pad] == 1 ? 0 : own[i - pad] }
        return gather(v, shape: shape, index: stridedIndices(shape: shape, strides: st, offset: 0))
    }

    /// NumPy broadcasting of two shapes, or an error naming them.
    static func broadcastShape(_ ctx: ONNXNodeContext, _ a: [Int], _ b: [Int]) throws -> [Int] {
        guard let s = ConvKit.broadcastShape(a, b) else { throw ctx.fail("shapes \(a) and \(b) do not broadcast") }
        _ = try ctx.checkSize(s)
        return s
    }

    /// Elementwise f over two integer tensors after broadcasting.
    static func zip(_ ctx: ONNXNodeContext, _ a: IntegerTensor, _ b: IntegerTensor, type: ONNXElementType,
                    _ f: (Int64, Int64) throws -> Int64) throws -> IntegerTensor {
        let s = try broadcastShape(ctx, a.shape, b.shape)
        guard case .integer(let ab) = broadcast(.integer(a), to: s), case .integer(let bb) = broadcast(.integer(b), to: s) else { fatalError("integers stay integers") }
        var out = [Int64](repeating: 0, count: ab.count)
        for i in 0..<out.count { out[i] = type.wrap(try f(ab.values[i], bb.values[i])) }
        return IntegerTensor(shape: s, values: out, type: type)
    }

    /// y = f(x) elementwise with dy/dx = df(x, y) (recorded with f, so inference plans run it too).
    static func unary(_ x: Variable, _ label: String, _ f: @escaping (Float) -> Float, _ df: @escaping (Float, Float) -> Float) -> Variable {
        Functional.elementwise(x, label: label, f, derivative: df)
    }

    /// z = f(a, b) elementwise after broadcasting, with ∂z/∂a = da(a, b) and ∂z/∂b = db(a, b).
    static func binary(_ ctx: ONNXNodeContext, _ a: Variable, _ b: Variable, _ label: String, _ f: @escaping (Float, Float) -> Float,
                       da: @escaping (Float, Float) -> Float, db: @escaping (Float, Float) -> Float) throws -> Variable {
        let s = try broadcastShape(ctx, a.shape, b.shape)
        let av = a.value.broadcast(to: s), bv = b.value.broadcast(to: s)
        let z = Tensor.broadcastZip(av, bv, f)
        return Variable(z, parents: [a, b], label: label) { g in
            var ga = g.scalars, gb = g.scalars
            for i in 0..<ga.count {
                let (x, y) = (av.scalars[i], bv.scalars[i])
                ga[i] *= da(x, y); gb[i] *= db(x, y)
            }
            return [Tensor(shape: s, scalars: ga).sumToShape(a.shape), Tensor(shape: s, scalars: gb).sumToShape(b.shape)]
        }
    }

    /// Normalizes axes (ONNX allows negatives), rejecting out-of-range and repeated ones.
    static func axes(_ ctx: ONNXNodeContext, _ axes: [Int], rank: Int) throws -> [Int] {
        let r = try axes.map { try ctx.axis($0, rank: rank, name: "axis") }
        try ctx.require(Set(r).count == r.count, "axes \(axes) repeat an axis")
        return r
    }
}

extension ONNXValue {
    /// The same value with another shape (element count unchanged; checked by the caller).
    func reshaped(_ shape: [Int]) -> ONNXValue {
        switch self {
        case .float(let v, let t): return .float(v.reshaped(shape), t)
        case .integer(var i): i.shape = shape; return .integer(i)
        }
    }
}
