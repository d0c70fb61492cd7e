import ConvKit
import Foundation

/// Movement and shape operators: they work on float and integer tensors alike (integer tensors carry the shape
/// arithmetic of exported graphs). Before the opset where an argument became an input, it is read from the
/// attribute of the same name.
enum ONNXShapeOps {
    typealias H = ONNXTensorHelpers

    /// Integer list from input `i` (opset ≥ `since`) or attribute `name` (earlier), nil when absent.
    static func listArgument(_ ctx: ONNXNodeContext, input i: Int, since: Int, attribute name: String) throws -> [Int]? {
        if ctx.opset >= since {
            guard ctx.optional(i) != nil else { return nil }
            return try ctx.integer(i).values.map { Int(clamping: $0) }
        }
        return try ctx.attributes.ints(name)
    }

    static func reshape(_ ctx: ONNXNodeContext) throws -> [ONNXValue] {
        let x = try ctx.value(0)
        guard let target = try listArgument(ctx, input: 1, since: 5, attribute: "shape") else { throw ctx.fail("shape is required") }
        let allowZero = try ctx.attributes.int("allowzero", default: 0) != 0
        var shape = [Int](), inferred: Int?
        for (i, d) in target.enumerated() {
            if d == -1 {
                try ctx.require(inferred == nil, "shape \(target) has more than one -1")
                inferred = i; shape.append(1)
            } else if d == 0 && !allowZero {
                try ctx.require(i < x.shape.count, "shape \(target) copies axis \(i), but the input has rank \(x.shape.count)")
                shape.append(x.shape[i])
            } else {
                try ctx.require(d >= 0, "shape \(target) has a negative extent")
                shape.append(d)
            }
        }
        guard let known = ctx.limits.elementCount(shape) else { throw ctx.fail("shape \(target) is too large") }
        if let i = inferred {
            try ctx.require(known > 0 && x.count % known == 0, "cannot infer -1 in \(target) for \(x.count) elements \(x.shape)")
            shape[i] = x.count / known
        }
        try ctx.require(shape.reduce(1, *) == x.count, "cannot reshape \(x.shape) (\(x.count) elements) to \(target)")
        return [x.reshaped(shape)]
    }

    static func flatten(_ ctx: ONNXNodeContext) throws -> [ONNXValue] {
        let x = try ctx.value(0), s = x.shape
        var axis = try ctx.attributes.int("axis", default: 1)
        if axis < 0 { axis += s.count }
        try ctx.require(axis >= 0 && axis <= s.count, "axis \(axis) out of range for rank \(s.count)")
        return [x.reshaped([s[..<axis].reduce(1, *), s[axis...].reduce(1, *)])]
    }

    static func transpose(_ ctx: ONNXNodeContext) throws -> [ONNXValue] {
        let x = try ctx.value(0), r = x.shape.count
        let perm = try ctx.attributes.ints("perm") ?? Array((0..<r).reversed())
        try ctx.require(perm.count == r && Set(perm) == Set(0..<r), "perm \(perm) is not a permutation of \(r) axes")
        return [H.permute(x, perm)]
    }

    static func squeeze(_ ctx: ONNXNodeContext) throws -> [ONNXValue] {
        let x = try ctx.value(0), s = x.shape
        let axes = try listArgument(ctx, input: 1, since: 13, attribute: "axes").map { try H.axes(ctx, $0, rank: s.count) }
        if let axes { for a in axes { try ctx.require(s[a] == 1, "cannot squeeze axis \(a) of extent \(s[a]) in \(s)") } }
        let out = s.enumerated().filter { i, d in axes.map { !$0.contains(i) } ?? (d != 1) }.map(\.element)
        return [x.reshaped(out)]
    }

    static func unsqueeze(_ ctx: ONNXNodeContext) throws -> [ONNXValue] {
        let x = try ctx.value(0), s = x.shape
        guard let raw = try listArgument(ctx, input: 1, since: 13, attribute: "axes") else { throw ctx.fail("axes are required") }
        let r = s.count + raw.count
        let axes = Set(try H.axes(ctx, raw, rank: r))
        var out = [Int](), it = s.makeIterator()
        for i in 0..<r { out.append(axes.contains(i) ? 1 : it.next()!) }
        return [x.reshaped(out)]
    }

    static func concat(_ ctx: ONNXNodeContext) throws -> [ONNXValue] {
        let vs = try (0..<ctx.inputs.count).map { try ctx.value($0) }
        try ctx.require(!vs.isEmpty, "needs at least one input")
        guard let a = try ctx.attributes.int("axis") else { throw ctx.fail("attribute axis is required") }
        let r = vs[0].shape.count
        let axis = try ctx.axis(a, rank: r)
        for v in vs {
            try ctx.require(v.shape.count == r && (0..<r).allSatisfy { $0 == axis || v.shape[$0] == vs[0].shape[$0] },
                            "cannot concatenate \(v.shape) with \(vs[0].shape) along axis \(a)")
        }
        var total = vs[0].shape
        total[axis] = vs.reduce(0) { $0 + $1.shape[axis] }
        _ = try ctx.checkSize(total)
        if vs.allSatisfy({ if case .float = $0 { return true } else { return false } }) {
            let xs = vs.map { v -> Variable in if case .float(let x, _) = v { return x }; fatalError() }
            return [.float(Variable.concatenate(xs, axis: axis), vs[0].elementType)]
        }
        var ints = [IntegerTensor]()
        for v in vs {
            guard case .integer(let t) = v else { throw ctx.fail("inputs mix floating-point and integer tensors") }
            ints.append(t)
        }
        let outer = total[..<axis].reduce(1, *), inner = total[(axis + 1)...].reduce(1, *)
        var values = [Int64]()
        values.reserveCapacity(total.reduce(1, *))
        for o in 0..<outer { for t in ints { let n = t.shape[axis] * inner; values += t.values[(o * n)..<(o * n + n)] } }
        return [.integer(IntegerTensor(shape: total, values: values, type: ints[0].type))]
    }

    static func split(_ ctx: ONNXNodeContext) throws -> [ONNXValue] {
        let x = try ctx.value(0), s = x.shape
        let axis = try ctx.axis(try ctx.attributes.int("axis", default: 0), rank: s.count)
        let outputs = ctx.node.outputs.count
        var sizes = try listArgument(ctx, input: 1, since: 13, attribute: "split")
        if sizes == nil {
            let parts = try ctx.attributes.int("num_outputs") ?? outputs
            try ctx.require(parts > 0, "num_outputs must be positive")
            let chunk = (s[axis] + parts - 1) / parts
            sizes = (0..<parts).map { Swift.max(0, Swift.min(chunk, s[axis] - $0 * chunk)) }
        }
        let sz = sizes!
        try ctx.require(sz.count == outputs && sz.allSatisfy { $0 >= 0 } && sz.reduce(0, +) == s[axis],
                        "split \(sz) does not divide extent \(s[axis]) into \(outputs) outputs")
        var start = 0
        return sz.map { n in defer { start += n }; return sliceAxis(x, axis: axis, start: start, count: n, step: 1) }
    }

    /// Elements start, start+step, … (count of them) along one axis.
    static func sliceAxis(_ v: ONNXValue, axis: Int, start: Int, count: Int, step: Int) -> ONNXValue {
        if case .float(let x, let t) = v, step == 1 { return .float(x.slice(axis: axis, start..<start + count), t) }
        var shape = v.shape
        let st = H.strides(shape)
        shape[axis] = count
        var steps = st
        steps[axis] = st[axis] * step
        return H.gather(v, shape: shape, index: H.stridedIndices(shape: shape, strides: steps, offset: start * st[axis]))
    }

    static func slice(_ ctx: ONNXNodeContext) throws -> [ONNXValue] {
        let x = try ctx.value(0), s = x.shape
        let starts: [Int], ends: [Int], axesArg: [Int]?, stepsArg: [Int]?
        if ctx.opset >= 10 {
            starts = try ctx.integer(1).values.map { Int(clamping: $0) }
            ends = try ctx.integer(2).values.map { Int(clamping: $0) }
            axesArg = ctx.optional(3) == nil ? nil : try ctx.integer(3).values.map { Int(clamping: $0) }
            stepsArg = ctx.optional(4) == nil ? nil : try ctx.integer(4).values.map { Int(clamping: $0) }
        } else {
            guard let st = try ctx.attributes.ints("starts"), let en = try ctx.attributes.ints("ends") else { throw ctx.fail("starts and ends are required") }
            starts = st; ends = en; axesArg = try ctx.attributes.ints("axes"); stepsArg = nil
        }
        let axes = try H.axes(ctx, axesArg ?? Array(0..<starts.count), rank: s.count)
        let steps = stepsArg ?? Array(repeating: 1, count: starts.count)
        try ctx.require(ends.count == starts.count && axes.count == starts.count && steps.count == starts.count,
                        "starts \(starts), ends \(ends), axes \(axes), steps \(steps) differ in length")
        var shape = s, offset = 0
        let st = H.strides(s)
        var strides = st
        for (k, a) in axes.enumerated() {
            let d = s[a]
            try ctx.require(steps[k] != 0, "step 0 on axis \(a)")
            let step = Swift.min(Swift.max(steps[k], -Swift.max(d, 1)), Swift.max(d, 1))
            var b = starts[k] < 0 ? starts[k] &+ d : starts[k], e = ends[k] < 0 ? ends[k] &+ d : ends[k]
            if step > 0 { b = Swift.min(Swift.max(b, 0), d); e = Swift.min(Swift.max(e, 0), d) }
            else { b = Swift.min(Swift.max(b, -1), d - 1); e = Swift.min(Swift.max(e, -1), d - 1) }
            let n = step > 0 ? Swift.max(0, (e - b + step - 1) / step) : Swift.max(0, (b - e + (-step) - 1) / (-step))
            shape[a] = n
            offset += n > 0 ? b * st[a] : 0
            strides[a] = st[a] * step
        }
        if shape == s && steps.allSatisfy({ $0 == 1 }) { return [x] }
        return [H.gather(x, shape: shape, index: H.stridedIndices(shape: shape, strides: strides, offset: offset))]
    }

    static func expand(_ ctx: ONNXNodeContext) throws -> [ONNXValue] {
        let x = try ctx.value(0)
        let target = try ctx.integer(1).values.map { Int(clamping: $0) }
        try ctx.require(target.allSatisfy { $0 >= 0 }, "shape \(target) has a negative extent")
        let s = try H.broadcastShape(ctx, x.shape, target)
        return [H.broadcast(x, to: s)]
    }

    static func tile(_ ctx: ONNXNodeContext) throws -> [ONNXValue] {
        let x = try ctx.value(0), s = x.shape
        let reps = try ctx.integer(1).values.map { Int(clamping: $0) }
        try ctx.require(reps.count == s.count && reps.allSatisfy { $0 >= 0 }, "repeats \(reps) for rank \(s.count)")
        let out = zip(s, reps).map { $0.multipliedReportingOverflow(by: $1) }
        try ctx.require(out.allSatisfy { !$0.overflow }, "repeats \(reps) overflow the shape \(s)")
        let n = try ctx.checkSize(out.map(\.partialValue))
        let outShape = out.map(\.partialValue)
        let st = H.strides(s), ost = H.strides(outShape)
        let index = (0..<n).map { k -> Int in
            var src = 0, rem = k
            for d in 0..<outShape.count { let i = rem / ost[d]; rem %= ost[d]; src += (i % s[d]) * st[d] }
            return src
        }
        return [H.gather(x, shape: outShape, index: index)]
    }

    /// Gather (axis; negative indices count from the end).
    static func gather(_ ctx: ONNXNodeContext) throws -> [ONNXValue] {
        let x = try ctx.value(0), idx = try ctx.integer(1), s = x.shape
        try ctx.require(!s.isEmpty, "cannot gather from a scalar")
        let axis = try ctx.axis(try ctx.attributes.int("axis", default: 0), rank: s.count)
        let d = s[axis]
        let out = Array(s[..<axis]) + idx.shape + Array(s[(axis + 1)...])
        _ = try ctx.checkSize(out)
        let outer = s[..<axis].reduce(1, *), inner = s[(axis + 1)...].reduce(1, *)
        var index = [Int]()
        index.reserveCapacity(out.reduce(1, *))
        let resolved = try idx.values.map { v -> Int in
            let i = v < 0 ? Int(v) + d : Int(clamping: v)
            try ctx.require(i >= 0 && i < d, "index \(v) out of range for extent \(d)")
            return i
        }
        for o in 0..<outer { for i in resolved { let base = (o * d + i) * inner; for j in 0..<inner { index.append(base + j) } } }
        return [H.gather(x, shape: out, index: index)]
    }

    /// GatherElements: out[i…] = x[…, index[i…] on axis, …].
    static func gatherElements(_ ctx: ONNXNodeContext) throws -> [ONNXValue] {
        let x = try ctx.value(0), idx = try ctx.integer(1), s = x.shape
        let axis = try ctx.axis(try ctx.attributes.int("axis", default: 0), rank: s.count)
        try ctx.require(idx.shape.count == s.count, "indices rank \(idx.shape.count) differs from data rank \(s.count)")
        let st = H.strides(s), ist = H.strides(idx.shape)
        let index = try (0..<idx.count).map { k -> Int in
            var rem = k, src = 0
            for dim in 0..<s.count {
                var i = rem / ist[dim]; rem %= ist[dim]
                if dim == axis {
                    let v = idx.values[k]
                    i = v < 0 ? Int(v) + s[dim] : Int(clamping: v)
                }
                try ctx.require(i >= 0 && i < s[dim], "index out of range on axis \(dim) (extent \(s[dim]))")
                src += i * st[dim]
            }
            return src
        }
        return [H.gather(x, shape: idx.shape, index: index)]
    }

    static func shape(_ ctx: ONNXNodeContext) throws -> [ONNXValue] {
        let s = try ctx.value(0).shape, r = s.count
        var start = try ctx.attributes.int("start", default: 0), end = try ctx.attributes.int("end", default: r)
        if start < 0 { start += r }
        if end < 0 { end += r }
        start = Swift.min(Swift.max(start, 0), r); end = Swift.min(Swift.max(end, start), r)
        return [.integer(IntegerTensor(s[start..<end].map(Int64.init)))]
    }

    static func size(_ ctx: ONNXNodeContext) throws -> [ONNXValue] {
        [.integer(IntegerTensor(shape: [], values: [Int64(try ctx.value(0).count)]))]
    }

    static func constantOfShape(_ ctx: ONNXNodeContext) throws -> [ONNXValue] {
        let shape = try ctx.integer(0).values.map { Int(clamping: $0) }
        let n = try ctx.checkSize(shape)
        guard let p = try ctx.attributes.tensor("value") else { return [.float(Tensor.zeros(shape))] }
        let v = try ONNXTensorCoding.decode(p)
        try ctx.require(v.count == 1, "value must hold one element, found \(v.shape)")
        switch v {
        case .float(let x, let t): return [.float(Tensor(repeating: x.value.scalars[0], shape: shape), type: t)]
        case .integer(let t): return [.integer(IntegerTensor(shape: shape, values: Array(repeating: t.values[0], count: n), type: t.type))]
        }
    }

    static func constant(_ ctx: ONNXNodeContext) throws -> [ONNXValue] {
        let a = ctx.attributes
        if let t = try a.tensor("value") { return [try ONNXTensorCoding.decode(t, limits: ctx.limits)] }
        if let f = try a.float("value_float") { return [.float(Tensor(shape: [], scalars: [f]))] }
        if let fs = try a.floats("value_floats") { return [.float(Tensor(fs))] }
        if let i = try a.int("value_int") { return [.integer(IntegerTensor(shape: [], values: [Int64(i)]))] }
        if let is_ = try a.ints("value_ints") { return [.integer(IntegerTensor(is_.map(Int64.init)))] }
        throw ctx.fail("needs one of value, value_float(s), value_int(s) (strings and sparse tensors are not supported); found \(a.names)")
    }

    static func identity(_ ctx: ONNXNodeContext) throws -> [ONNXValue] { [try ctx.value(0)] }

    /// Dropout: identity in evaluation (mask all true); in training mode, zeroes with probability `ratio` and scales by 1/(1 − ratio).
    static func dropout(_ ctx: ONNXNodeContext) throws -> [ONNXValue] {
        let x = try ctx.float(0), t = try ctx.floatType(0)
        let ratio = ctx.opset >= 12 ? (try ctx.scalar(1) ?? 0.5) : try ctx.attributes.float("ratio", default: 0.5)
        let trainingMode = ctx.opset >= 12 ? ((try ctx.scalar(2)).map { $0 != 0 } ?? false) : false
        try ctx.require(ratio >= 0 && ratio < 1, "ratio must be in [0, 1), found \(ratio)")
        guard (ctx.isTraining || trainingMode) && ratio > 0 else {
            return [.float(x, t), .integer(IntegerTensor(shape: x.shape, values: Array(repeating: 1, count: x.value.count), type: .bool))]
        }
        let y = Functional.dropout(x, p: ratio, rng: &ctx.model.dropoutGenerator)
        let mask = y.value.scalars.map { Int64($0 != 0 ? 1 : 0) }
        return [.float(y, t), .integer(IntegerTensor(shape: x.shape, values: mask, type: .bool))]
    }

    /// Cast (and CastLike): float → integer truncates toward zero (saturating; NaN → 0), integer → float rounds,
    /// to float16/bfloat16 rounds through the half type.
    static func cast(_ ctx: ONNXNodeContext) throws -> [ONNXValue] {
        let x = try ctx.value(0)
        let raw = ctx.node.op == "CastLike" ? (try ctx.value(1)).elementType.rawValue : Int32(clamping: try ctx.attributes.int("to") ?? -1)
        guard let to = ONNXElementType(rawValue: raw), to != .string else { throw ctx.fail("cannot cast to element type \(raw)") }
        let saturate = try ctx.attributes.int("saturate", default: 1) != 0
        let roundMode = try ctx.attributes.string("round_mode", default: "up")
        return [castValue(x, to: to, saturate: saturate, roundMode: roundMode)]
    }

    static func castValue(_ x: ONNXValue, to: ONNXElementType, saturate: Bool = true, roundMode: String = "up") -> ONNXValue {
        if let f = ONNXLowPrecision.minifloat(to) {
            let top = f.maxFinite
            return .float(x.floatTensor.map { f.round($0, saturate: saturate, top: top) }, type: to)
        }
        if to == .float8e8m0 { return .float(x.floatTensor.map { ONNXLowPrecision.roundE8M0($0, saturate: saturate, mode: roundMode) }, type: to) }
        if ONNXLowPrecision.packedBits(to) != nil {
            switch x {
            case .float(let v, _): return .integer(IntegerTensor(shape: v.shape, values: v.value.scalars.map { ONNXLowPrecision.integerFromFloat($0, to) }, type: to))
            case .integer(let t): return .integer(IntegerTensor(shape: t.shape, values: t.values.map { to.wrap($0) }, type: to))
            }
        }
        switch (x, to.isFloatingPoint) {
        case (.float(let v, _), true):
            switch to {
            case .float16: return .float(v.value.map { Float(Float16($0)) }, type: to)
            case .bfloat16: return .float(v.value.map { f in
                let b = f.bitPattern, rounded = b &+ 0x7FFF &+ ((b >> 16) & 1)
                return f.isNaN ? f : Float(bitPattern: rounded & 0xFFFF_0000)
            }, type: to)
            default: return .float(v, to)
            }
        case (.float(let v, _), false):
            let values = v.value.scalars.map { f -> Int64 in
                if to == .bool { return f != 0 ? 1 : 0 }
                guard f.isFinite else { return f.isNaN ? 0 : (f > 0 ? .max : .min) }
                return to.wrap(Int64(exactly: f.rounded(.towardZero)) ?? (f > 0 ? .max : .min))
            }
            return .integer(IntegerTensor(shape: v.shape, values: values, type: to))
        case (.integer(let t), true):
            return .float(Tensor(shape: t.shape, scalars: t.values.map { Float($0) }), type: to)
        case (.integer(let t), false):
            return .integer(IntegerTensor(shape: t.shape, values: t.values.map { to.wrap($0) }, type: to))
        }
    }

    static func range(_ ctx: ONNXNodeContext) throws -> [ONNXValue] {
        switch (try ctx.value(0), try ctx.value(1), try ctx.value(2)) {
        case (.integer(let a), .integer(let b), .integer(let c)):
            try ctx.require(a.count == 1 && b.count == 1 && c.count == 1, "start, limit and delta must be scalars")
            let (s, l, d) = (a.values[0], b.values[0], c.values[0])
            try ctx.require(d != 0 && d != .min, "delta must be non-zero, found \(d)")
            let span = (d > 0 ? l : s).subtractingReportingOverflow(d > 0 ? s : l)
            try ctx.require(!span.overflow, "start \(s), limit \(l): the range overflows int64")
            let n = span.partialValue <= 0 ? 0 : (span.partialValue - 1) / Swift.abs(d) + 1
            _ = try ctx.checkSize([Int(clamping: n)])
            return [.integer(IntegerTensor(shape: [Int(n)], values: (0..<n).map { s + $0 * d }, type: a.type))]
        default:
            guard let s = try ctx.scalar(0), let l = try ctx.scalar(1), let d = try ctx.scalar(2) else { throw ctx.fail("start, limit and delta are required") }
            try ctx.require(d != 0 && s.isFinite && l.isFinite && d.isFinite, "delta must be non-zero and all three finite")
            let steps = ((l - s) / d).rounded(.up)
            try ctx.require(steps.isFinite && steps <= Float(ctx.limits.maxElements), "the range \(s) ..< \(l) by \(d) has too many elements")
            let n = Swift.max(0, Int(steps))
            _ = try ctx.checkSize([n])
            return [.float(Tensor(shape: [n], scalars: (0..<n).map { s + Float($0) * d }), type: try ctx.value(0).elementType)]
        }
    }

    /// DepthToSpace (DCR or CRD) and SpaceToDepth, as reshape–transpose–reshape.
    static func depthToSpace(_ ctx: ONNXNodeContext) throws -> [ONNXValue] {
        let x = try ctx.value(0), s = x.shape
        guard let b = try ctx.attributes.int("blocksize"), b > 0, b <= 1 << 15 else { throw ctx.fail("blocksize must be in 1…32768") }
        try ctx.require(s.count == 4 && s[1] % (b * b) == 0, "expected X [N, C, H, W] with C divisible by \(b * b), found \(s)")
        let (n, c, h, w) = (s[0], s[1], s[2], s[3])
        let crd = try ctx.attributes.string("mode", default: "DCR") == "CRD"
        let moved = crd ? H.permute(x.reshaped([n, c / (b * b), b, b, h, w]), [0, 1, 4, 2, 5, 3])
                        : H.permute(x.reshaped([n, b, b, c / (b * b), h, w]), [0, 3, 4, 1, 5, 2])
        return [moved.reshaped([n, c / (b * b), h * b, w * b])]
    }

    static func spaceToDepth(_ ctx: ONNXNodeContext) throws -> [ONNXValue] {
        let x = try ctx.value(0), s = x.shape
        guard let b = try ctx.attributes.int("blocksize"), b > 0, b <= 1 << 15 else { throw ctx.fail("blocksize must be in 1…32768") }
        try ctx.require(s.count == 4 && s[2] % b == 0 && s[3] % b == 0, "expected X [N, C, H, W] with H and W divisible by \(b), found \(s)")
        let (n, c, h, w) = (s[0], s[1], s[2], s[3])
        let moved = H.permute(x.reshaped([n, c, h / b, b, w / b, b]), [0, 3, 5, 1, 2, 4])
        return [moved.reshaped([n, c * b * b, h / b, w / b])]
    }

    /// Visits the rows (last axis) of a padded output of shape `out` in order: `body(k, base)` with `k` the row's
    /// first output offset and `base` the source offset its leading indices map to, nil when a leading axis is in
    /// the constant border. `maps[d][i]` is output position i's source position on axis d (−1: the constant).
    static func forEachPaddedRow(out: [Int], maps: [[Int]], strides st: [Int], _ body: (Int, Int?) -> Void) {
        let r = out.count, inner = out[r - 1], n = out.reduce(1, *)
        var lead = [Int](repeating: 0, count: r - 1)
        var k = 0
        while k < n {
            var base = 0, inside = true
            for d in 0..<(r - 1) {
                let m = maps[d][lead[d]]
                if m < 0 { inside = false; break }
                base += m * st[d]
            }
            body(k, inside ? base : nil)
            k += inner
            var d = r - 2
            while d >= 0 { lead[d] += 1; if lead[d] < out[d] { break }; lead[d] = 0; d -= 1 }
        }
    }

    /// Padding in inference: rows filled from the source maps, runs of consecutive source positions copied in bulk.
    static func padRows(_ x: Tensor, out: [Int], maps: [[Int]], strides st: [Int], fill: Float) -> Tensor {
        let inner = out[out.count - 1], innerMap = maps[out.count - 1]
        return Tensor(shape: out) { o in
            x.withUnsafeBufferPointer { src in
                forEachPaddedRow(out: out, maps: maps, strides: st) { k, base in
                    guard let base else { (o.baseAddress! + k).update(repeating: fill, count: inner); return }
                    var j = 0
                    while j < inner {
                        let m = innerMap[j]
                        if m < 0 { o[k + j] = fill; j += 1; continue }
                        var run = 1   // consecutive source positions: one copy
                        while j + run < inner && innerMap[j + run] == m + run { run += 1 }
                        (o.baseAddress! + k + j).update(from: src.baseAddress! + base + m, count: run)
                        j += run
                    }
                }
            }
        }
    }

    /// Pad: constant, reflect, edge, wrap; negative pads crop. Pads [b_1…b_r, e_1…e_r] (on `axes` from opset 18).
    static func pad(_ ctx: ONNXNodeContext) throws -> [ONNXValue] {
        let x = try ctx.value(0), s = x.shape, r = s.count
        let mode = try ctx.attributes.string("mode", default: "constant")
        try ctx.require(["constant", "reflect", "edge", "wrap"].contains(mode), "mode '\(mode)' is not constant, reflect, edge or wrap")
        var pads: [Int], value: Float
        if ctx.opset >= 11 {
            pads = try ctx.integer(1).values.map { Int(clamping: $0) }
            value = try ctx.scalar(2) ?? 0
            if ctx.optional(3) != nil {
                let axes = try H.axes(ctx, try ctx.ints(3), rank: r)
                try ctx.require(pads.count == 2 * axes.count, "pads \(pads) for axes \(axes)")
                var full = [Int](repeating: 0, count: 2 * r)
                for (k, a) in axes.enumerated() { full[a] = pads[k]; full[r + a] = pads[axes.count + k] }
                pads = full
            }
        } else {
            pads = try ctx.attributes.ints("pads") ?? ctx.attributes.ints("paddings") ?? []
            value = try ctx.attributes.float("value", default: 0)
        }
        try ctx.require(pads.count == 2 * r && pads.allSatisfy { Swift.abs($0) <= 1 << 30 }, "pads \(pads) for rank \(r) (each within ±2^30)")
        let out = (0..<r).map { s[$0] + pads[$0] + pads[r + $0] }
        try ctx.require(out.allSatisfy { $0 >= 0 }, "pads \(pads) crop \(s) below zero")
        let n = try ctx.checkSize(out)
        if mode == "reflect" { for d in 0..<r where pads[d] > 0 || pads[r + d] > 0 {
            try ctx.require(s[d] > 1 && pads[d] < s[d] && pads[r + d] < s[d], "reflect padding \(pads) needs more than the pad on each axis of \(s)")
        } }
        if mode == "edge" || mode == "wrap" { for d in 0..<r where (pads[d] > 0 || pads[r + d] > 0) {
            try ctx.require(s[d] > 0, "\(mode) padding of an empty axis")
        } }
        // Per axis, the source position of each output position (−1: the constant), then rows of the last axis.
        let maps: [[Int]] = (0..<r).map { d in
            (0..<out[d]).map { o -> Int in
                var i = o - pads[d]
                if i >= 0 && i < s[d] { return i }
                switch mode {
                case "reflect": i = i < 0 ? -i : 2 * (s[d] - 1) - i
                case "edge": i = Swift.min(Swift.max(i, 0), s[d] - 1)
                case "wrap": i = ((i % s[d]) + s[d]) % s[d]
                default: return -1
                }
                return i
            }
        }
        let st = H.strides(s)
        if case .float(let xv, let type) = x, !(Autograd.isRecording && xv.requiresGrad), n > 0, r > 0 {
            return [.float(Variable(Self.padRows(xv.value, out: out, maps: maps, strides: st, fill: value)), type)]
        }
        var index = [Int](repeating: -1, count: n)
        if n > 0 && r > 0 {
            let innerMap = maps[r - 1]
            index.withUnsafeMutableBufferPointer { idx in
                Self.forEachPaddedRow(out: out, maps: maps, strides: st) { k, base in
                    guard let base else { return }
                    for (j, m) in innerMap.enumerated() where m >= 0 { idx[k + j] = base + m }
                }
            }
        } else if n > 0 {
            index[0] = 0   // a scalar
        }
        return [H.gather(x, shape: out, index: index, fill: value)]
    }
}
