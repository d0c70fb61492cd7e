import ConvKit
import Foundation

/// Reduce* (axes as attribute before opset 13 for ReduceSum and 18 for the others, as input after), ArgMax/ArgMin, TopK.
enum ONNXReductions {
    typealias H = ONNXTensorHelpers

    static func reduce(_ op: String) -> ONNXKernel {
        { ctx in
            let x = try ctx.value(0), s = x.shape
            let since = op == "ReduceSum" ? 13 : 18
            let raw = try ONNXShapeOps.listArgument(ctx, input: 1, since: since, attribute: "axes")
            let keep = try ctx.attributes.int("keepdims", default: 1) != 0
            let noop = try ctx.attributes.int("noop_with_empty_axes", default: 0) != 0
            if (raw ?? []).isEmpty && ctx.opset >= since && noop { return [x] }
            let axes = (raw ?? []).isEmpty ? Array(0..<s.count) : try H.axes(ctx, raw!, rank: s.count)
            var outShape = s
            for a in axes { outShape[a] = 1 }
            let finalShape = keep ? outShape : s.enumerated().filter { !axes.contains($0.offset) }.map(\.element)
            if case .integer(let t) = x { return [.integer(reduceIntegers(op, t, axes: axes, keptShape: outShape).reshapedTo(finalShape))] }
            guard case .float(let v, let type) = x else { fatalError() }
            if (op == "ReduceMax" || op == "ReduceMin") && axes.contains(where: { s[$0] == 0 }) {
                // The identity of max (min) over an empty set: −∞ (+∞).
                return [.float(Tensor(repeating: op == "ReduceMax" ? -.infinity : .infinity, shape: finalShape), type: type)]
            }
            var y: Variable
            switch op {
            case "ReduceSum": y = v.sum(axes: axes, keepingDims: true)
            case "ReduceMean": y = v.mean(axes: axes, keepingDims: true)
            case "ReduceSumSquare": y = v.squared().sum(axes: axes, keepingDims: true)
            case "ReduceL1": y = v.abs().sum(axes: axes, keepingDims: true)
            case "ReduceL2": y = v.squared().sum(axes: axes, keepingDims: true).sqrt()
            case "ReduceLogSum": y = v.sum(axes: axes, keepingDims: true).log()
            case "ReduceLogSumExp":
                let m = Variable(v.value.max(axes: axes, keepingDims: true).map { $0.isFinite ? $0 : 0 })
                y = (v - m).exp().sum(axes: axes, keepingDims: true).log() + m
            case "ReduceMax", "ReduceMin":
                let ext = op == "ReduceMax" ? v.value.max(axes: axes, keepingDims: true) : v.value.min(axes: axes, keepingDims: true)
                let mask = v.value.eq(ext)
                y = Variable(ext, parents: [v], label: op) { g in [g.broadcast(to: s) * mask] }
            default: // ReduceProd
                let p = prod(v.value, axes: axes)
                y = Variable(p, parents: [v], label: op) { g in [(g * p).broadcast(to: s) / v.value] }
            }
            if y.shape != finalShape { y = y.reshaped(finalShape) }
            return [.float(y, type)]
        }
    }

    static func prod(_ x: Tensor, axes: [Int]) -> Tensor {
        var kept = x.shape
        for a in axes { kept[a] = 1 }
        return Tensor(shape: kept, scalars: fold(x.scalars, shape: x.shape, kept: kept, initial: 1, *))
    }

    /// Folds `values` of `shape` into `kept` (the shape with reduced axes set to 1).
    static func fold<T>(_ values: [T], shape s: [Int], kept: [Int], initial: T, _ f: (T, T) -> T) -> [T] {
        let st = H.strides(s), ost = H.strides(kept)
        var out = [T](repeating: initial, count: kept.reduce(1, *))
        for k in 0..<values.count {
            var rem = k, o = 0
            for d in 0..<s.count { let i = rem / st[d]; rem %= st[d]; if kept[d] != 1 { o += i * ost[d] } }
            out[o] = f(out[o], values[k])
        }
        return out
    }

    static func reduceIntegers(_ op: String, _ t: IntegerTensor, axes: [Int], keptShape: [Int]) -> IntegerTensor {
        let fold = { (initial: Int64, f: (Int64, Int64) -> Int64) in ONNXReductions.fold(t.values, shape: t.shape, kept: keptShape, initial: initial, f) }
        var out: [Int64]
        switch op {
        case "ReduceMax": out = fold(.min) { Swift.max($0, $1) }
        case "ReduceMin": out = fold(.max) { Swift.min($0, $1) }
        case "ReduceProd": out = fold(1) { $0 &* $1 }
        case "ReduceSumSquare": out = fold(0) { $0 &+ $1 &* $1 }
        case "ReduceL1": out = fold(0) { $0 &+ Swift.abs($1) }
        default: out = fold(0) { $0 &+ $1 }
        }
        if op == "ReduceMean" {
            let m = Int64(Swift.max(1, t.count / Swift.max(out.count, 1)))
            out = out.map { $0 / m }
        }
        return IntegerTensor(shape: keptShape, values: out, type: t.type)
    }

    /// ArgMax, ArgMin → int64 (first occurrence, or last with select_last_index).
    static func argExtreme(_ op: String) -> ONNXKernel {
        { ctx in
            let x = try ctx.value(0).floatTensor, s = x.shape
            try ctx.require(!s.isEmpty, "expected a tensor of rank ≥ 1")
            let axis = try ctx.axis(try ctx.attributes.int("axis", default: 0), rank: s.count)
            let keep = try ctx.attributes.int("keepdims", default: 1) != 0
            let last = try ctx.attributes.int("select_last_index", default: 0) != 0
            try ctx.require(s[axis] > 0, "\(op) over an empty axis")
            let outer = s[..<axis].reduce(1, *), d = s[axis], inner = s[(axis + 1)...].reduce(1, *)
            var out = [Int64](repeating: 0, count: outer * inner)
            for o in 0..<outer { for i in 0..<inner {
                var best = 0, bv = x.scalars[o * d * inner + i]
                for j in 1..<d {
                    let v = x.scalars[(o * d + j) * inner + i]
                    let better = op == "ArgMax" ? (last ? v >= bv : v > bv) : (last ? v <= bv : v < bv)
                    if better { best = j; bv = v }
                }
                out[o * inner + i] = Int64(best)
            } }
            var shape = s
            if keep { shape[axis] = 1 } else { shape.remove(at: axis) }
            return [.integer(IntegerTensor(shape: shape, values: out, type: .int64))]
        }
    }

    /// TopK: the k largest (or smallest) along `axis`, sorted; ties keep the lower index first.
    static func topK(_ ctx: ONNXNodeContext) throws -> [ONNXValue] {
        let xv = try ctx.value(0), x = xv.floatTensor, s = x.shape
        let k = ctx.opset >= 10 ? (try ctx.ints(1)).first ?? -1 : try ctx.attributes.int("k") ?? -1
        let axis = try ctx.axis(try ctx.attributes.int("axis", default: -1), rank: s.count)
        let largest = try ctx.attributes.int("largest", default: 1) != 0
        try ctx.require(k >= 0 && k <= s[axis], "k = \(k) for an axis of extent \(s[axis])")
        let outer = s[..<axis].reduce(1, *), d = s[axis], inner = s[(axis + 1)...].reduce(1, *)
        var shape = s
        shape[axis] = k
        var index = [Int](repeating: 0, count: outer * k * inner), pos = [Int64](repeating: 0, count: outer * k * inner)
        for o in 0..<outer { for i in 0..<inner {
            let order = (0..<d).sorted { a, b in
                let va = x.scalars[(o * d + a) * inner + i], vb = x.scalars[(o * d + b) * inner + i]
                return va == vb ? a < b : (largest ? va > vb : va < vb)
            }
            for j in 0..<k {
                index[(o * k + j) * inner + i] = (o * d + order[j]) * inner + i
                pos[(o * k + j) * inner + i] = Int64(order[j])
            }
        } }
        return [H.gather(xv, shape: shape, index: index), .integer(IntegerTensor(shape: shape, values: pos, type: .int64))]
    }
}

extension IntegerTensor {
    func reshapedTo(_ s: [Int]) -> IntegerTensor { var c = self; c.shape = s; return c }
}

