import ConvKit

/// Elementwise, shape and resampling operators of TFLite, translated to ONNX. NHWC axis `a` of a rank-4 tensor is
/// NCHW axis `[0, 2, 3, 1][a]` of its channels-first value.
extension TFLiteGraphBuilder {
    static let channelsFirstAxis = [0, 2, 3, 1]

    func normalizedAxis(_ a: Int, rank: Int) throws -> Int {
        let axis = a < 0 ? a + rank : a
        guard axis >= 0, axis < rank else { throw opError("axis \(a) is outside a rank-\(rank) tensor") }
        return axis
    }

    mutating func unary(_ op: TFLiteOperator, _ onnx: String, _ attributes: [String: Attribute] = [:]) throws {
        let x = try currentValue(try requiredInput(op, 0, "input"))
        try emitDefining(try output(op), x.layout, onnx, [x.name], attributes)
    }

    /// Broadcasting arithmetic; a rank-4 result is computed channels-first.
    mutating func binary(_ op: TFLiteOperator, _ onnx: String, activation: TFLiteActivation, square: Bool = false) throws {
        let ai = try requiredInput(op, 0, "first operand"), bi = try requiredInput(op, 1, "second operand"), out = try output(op)
        let nchw = shape(out).count == 4 && (layout(of: ai) == .channelsFirst || layout(of: bi) == .channelsFirst)
        let a = try broadcastOperand(ai, channelsFirst: nchw), b = try broadcastOperand(bi, channelsFirst: nchw)
        let layout: Layout = nchw ? .channelsFirst : .declared
        if square {
            let d = fresh(tensor(out).name + "/difference")
            emit("Sub", [a, b], [d])
            try emitDefining(out, layout, "Mul", [d, d])
        } else {
            try emitDefining(out, layout, activation: activation, onnx, [a, b])
        }
    }

    /// CONCATENATION{axis, fused_activation_function}.
    mutating func concatenation(_ op: TFLiteOperator) throws {
        let out = try output(op), rank = shape(out).count
        let axis = try normalizedAxis(Int(try op.options?.i32(0) ?? 0), rank: rank)
        let act = try activation(op.options, field: 1)
        let parts = try (0..<op.inputs.count).compactMap { try input(op, $0) }
        let nchw = rank == 4 && parts.contains { layout(of: $0) == .channelsFirst }
        let names = try parts.map { nchw ? try channelsFirst($0) : try declared($0) }
        try emitDefining(out, nchw ? .channelsFirst : .declared, activation: act, "Concat", names,
                         ["axis": .int(nchw ? Self.channelsFirstAxis[axis] : axis)])
    }

    /// DEQUANTIZE: float16 weights become float32 constants; int8/uint8 constants `scale·(q − zero_point)`, per
    /// channel along `quantized_dimension`. A run-time input is cast.
    mutating func dequantize(_ op: TFLiteOperator) throws {
        let xi = try requiredInput(op, 0, "input"), out = try output(op)
        let t = tensor(xi)
        guard shape(out).reduce(1, *) == t.shape.reduce(1, *) else {
            throw opError("dequantizes \(t.shape) into a tensor of shape \(shape(out))")
        }
        if let f = floatConstants[xi] { floatConstants[out] = f; return }
        if let q = intConstants[xi], let quant = t.quantization {
            let s = t.shape, n = q.count
            let dim = quant.scale.count > 1 ? (t.quantizationDimension ?? 0) : 0
            guard quant.scale.count == 1 || (dim < s.count && s[dim] == quant.scale.count) else {
                throw opError("has \(quant.scale.count) scales for shape \(s) along dimension \(dim)")
            }
            let inner = dim + 1 < s.count ? s[(dim + 1)...].reduce(1, *) : 1
            let channels = quant.scale.count
            floatConstants[out] = (0..<n).map { k in
                let c = channels == 1 ? 0 : (k / inner) % channels
                let zero = c < quant.zeroPoint.count ? quant.zeroPoint[c] : 0
                return quant.scale[c] * Float(q[k] - zero)
            }
            return
        }
        let x = try currentValue(xi)
        try emitDefining(out, x.layout, "Cast", [x.name], ["to": .int(1)])
    }

    /// SOFTMAX{beta} / LOG_SOFTMAX over the last (NHWC) axis: channels of a channels-first value.
    mutating func softmax(_ op: TFLiteOperator, log: Bool) throws {
        let xi = try requiredInput(op, 0, "input"), out = try output(op)
        var x = try currentValue(xi)
        let beta = log ? 1 : try op.options?.f32(0, default: 1) ?? 1
        if beta != 1 {
            let scaled = fresh(tensor(out).name + "/scaled")
            emit("Mul", [x.name, addScalar(tensor(out).name + "/beta", beta)], [scaled])
            x.name = scaled
        }
        try emitDefining(out, x.layout, log ? "LogSoftmax" : "Softmax", [x.name],
                         ["axis": .int(x.layout == .channelsFirst ? 1 : -1)])
    }

    /// RESHAPE / SQUEEZE / EXPAND_DIMS: the declared form reshaped to the output's declared shape (the batch
    /// extent copied from the input when it is unchanged, so other batch sizes run).
    mutating func reshape(_ op: TFLiteOperator) throws {
        let xi = try requiredInput(op, 0, "input"), out = try output(op)
        let xs = shape(xi), os = shape(out)
        guard xs.reduce(1, *) == os.reduce(1, *) else { throw opError("reshapes \(xs) into \(os)") }
        var target = os.map(Int64.init)
        if let first = xs.first, !os.isEmpty, os[0] == first, tensor(xi).signature.first == -1 || first == 1 { target[0] = 0 }
        let x = try declared(xi)
        try emitDefining(out, .declared, "Reshape", [x, addInt64(tensor(out).name + "/shape", target)])
    }

    mutating func transpose(_ op: TFLiteOperator) throws {
        let xi = try requiredInput(op, 0, "input"), pi = try requiredInput(op, 1, "permutation"), out = try output(op)
        let perm = try intConstant(pi, "permutation")
        guard perm.sorted() == Array(0..<shape(xi).count) else { throw opError("permutation \(perm) for rank \(shape(xi).count)") }
        try emitDefining(out, .declared, "Transpose", [try declared(xi)], ["perm": .ints(perm)])
    }

    /// PAD / PADV2 (constant value) / MIRROR_PAD{mode: REFLECT 0, SYMMETRIC 1}; paddings `[rank, 2]`.
    mutating func pad(_ op: TFLiteOperator, code: Int) throws {
        let xi = try requiredInput(op, 0, "input"), pi = try requiredInput(op, 1, "paddings"), out = try output(op)
        let r = shape(xi).count
        let p = try intConstant(pi, "paddings")
        guard p.count == 2 * r, p.allSatisfy({ $0 >= 0 && $0 <= 1 << 20 }) else { throw opError("paddings \(p) for a rank-\(r) input") }
        var mode = "constant"
        if code == B.mirrorPad {
            let m = try op.options?.i8(0) ?? 0
            guard m == 0 else { throw opError("MIRROR_PAD mode SYMMETRIC has no ONNX equivalent") }
            mode = "reflect"
        }
        let x = try currentValue(xi)
        let nchw = x.layout == .channelsFirst
        let order = nchw ? [0, 3, 1, 2] : Array(0..<r)
        let pads = order.map { Int64(p[2 * $0]) } + order.map { Int64(p[2 * $0 + 1]) }
        var inputs = [x.name, addInt64(tensor(out).name + "/pads", pads)]
        if code == B.padV2, let vi = try input(op, 2) {
            let v = try floatConstant(vi, "constant value")
            guard v.count == 1 else { throw opError("constant value has \(v.count) elements") }
            inputs.append(addScalar(tensor(out).name + "/value", v[0]))
        }
        try emitDefining(out, x.layout, "Pad", inputs, ["mode": .string(mode)])
    }

    /// RESIZE_BILINEAR{align_corners (field 2), half_pixel_centers (3)} / RESIZE_NEAREST_NEIGHBOR{align_corners (0),
    /// half_pixel_centers (1)} to the size `[newH, newW]`, as ONNX Resize on the spatial axes.
    mutating func resize(_ op: TFLiteOperator, bilinear: Bool) throws {
        let xi = try requiredInput(op, 0, "input"), si = try requiredInput(op, 1, "size"), out = try output(op)
        let size = try intConstant(si, "size")
        guard size.count == 2, size.allSatisfy({ $0 >= 1 && $0 <= 1 << 16 }) else { throw opError("size \(size) is not two positive extents") }
        let o = op.options
        let align = try o?.bool(bilinear ? 2 : 0) ?? false, half = try o?.bool(bilinear ? 3 : 1) ?? false
        var attributes: [String: Attribute] = ["axes": .ints([2, 3])]
        if bilinear {
            attributes["mode"] = .string("linear")
            attributes["coordinate_transformation_mode"] = .string(align ? "align_corners" : half ? "half_pixel" : "asymmetric")
        } else {
            attributes["mode"] = .string("nearest")
            attributes["coordinate_transformation_mode"] = .string(align ? "align_corners" : half ? "tf_half_pixel_for_nn" : "asymmetric")
            attributes["nearest_mode"] = .string(align ? "round_prefer_ceil" : "floor")
        }
        let x = try channelsFirst(xi)
        try emitDefining(out, .channelsFirst, "Resize", [x, "", "", addInt64(tensor(out).name + "/sizes", size.map(Int64.init))], attributes)
    }

    /// MEAN / SUM / REDUCE_MAX{keep_dims} over constant axes. Kept dims on a channels-first value stay
    /// channels-first; otherwise the declared form is reduced.
    mutating func reduce(_ op: TFLiteOperator, _ onnx: String) throws {
        let xi = try requiredInput(op, 0, "input"), ai = try requiredInput(op, 1, "axes"), out = try output(op)
        let r = shape(xi).count
        let axes = try intConstant(ai, "axes").map { try normalizedAxis($0, rank: r) }
        let keep = try op.options?.bool(0) ?? false
        if keep, r == 4, layout(of: xi) == .channelsFirst {
            let mapped = axes.map { Int64(Self.channelsFirstAxis[$0]) }
            try emitDefining(out, .channelsFirst, onnx, [try channelsFirst(xi), addInt64(tensor(out).name + "/axes", mapped)], ["keepdims": .int(1)])
        } else {
            try emitDefining(out, .declared, onnx, [try declared(xi), addInt64(tensor(out).name + "/axes", axes.map(Int64.init))],
                             ["keepdims": .int(keep ? 1 : 0)])
        }
    }

}
