import ConvKit

/// The float CNN operator set of TFLite, each translated to ONNX operators (see `TFLiteGraphBuilder` for layouts).
/// Option tables are read by field index as in schema.fbs (`Conv2DOptions{padding, stride_w, stride_h,
/// fused_activation_function, dilation_w_factor, dilation_h_factor}`, `Pool2DOptions{padding, stride_w, stride_h,
/// filter_width, filter_height, fused_activation_function}`, …).
extension TFLiteGraphBuilder {
    typealias B = TFLiteBuiltin

    static let supportedBuiltins: Set<Int> = [
        B.add, B.sub, B.mul, B.div, B.maximum, B.minimum, B.averagePool2D, B.maxPool2D, B.concatenation, B.conv2D,
        B.depthwiseConv2D, B.transposeConv, B.fullyConnected, B.dequantize, B.relu, B.relu6, B.reluN1To1,
        B.logistic, B.tanh, B.hardSwish, B.leakyRelu, B.prelu, B.softmax, B.logSoftmax, B.reshape, B.squeeze,
        B.expandDims, B.transpose, B.pad, B.padV2, B.mirrorPad, B.resizeBilinear, B.resizeNearest, B.mean, B.sum,
        B.reduceMax, B.depthToSpace, B.spaceToDepth, B.exp, B.abs, B.sqrt, B.rsqrt, B.localResponseNorm,
        B.squaredDifference,
    ]

    mutating func translate(_ op: TFLiteOperator, builtin code: Int) throws {
        let o = op.options
        switch code {
        case B.conv2D: try convolution(op, depthwise: false)
        case B.depthwiseConv2D: try convolution(op, depthwise: true)
        case B.transposeConv: try transposedConvolution(op)
        case B.fullyConnected: try fullyConnected(op)
        case B.maxPool2D, B.averagePool2D: try pooling(op, max: code == B.maxPool2D)
        case B.add, B.sub, B.mul, B.div, B.maximum, B.minimum, B.squaredDifference:
            let names = [B.add: "Add", B.sub: "Sub", B.mul: "Mul", B.div: "Div", B.maximum: "Max", B.minimum: "Min",
                         B.squaredDifference: "Sub"]
            let act = [B.add, B.sub, B.mul, B.div].contains(code) ? try activation(o, field: 0) : .none
            try binary(op, names[code]!, activation: act, square: code == B.squaredDifference)
        case B.concatenation: try concatenation(op)
        case B.dequantize: try dequantize(op)
        case B.relu: try unary(op, "Relu")
        case B.logistic: try unary(op, "Sigmoid")
        case B.tanh: try unary(op, "Tanh")
        case B.hardSwish: try unary(op, "HardSwish")
        case B.exp: try unary(op, "Exp")
        case B.abs: try unary(op, "Abs")
        case B.sqrt: try unary(op, "Sqrt")
        case B.rsqrt:
            let x = try currentValue(try requiredInput(op, 0, "input"))
            let s = fresh(tensor(try output(op)).name + "/sqrt")
            emit("Sqrt", [x.name], [s])
            try emitDefining(try output(op), x.layout, "Reciprocal", [s])
        case B.leakyRelu: try unary(op, "LeakyRelu", ["alpha": .float(try o?.f32(0) ?? 0.2)])
        case B.relu6, B.reluN1To1:
            let x = try currentValue(try requiredInput(op, 0, "input"))
            let out = try output(op)
            let lo: Float = code == B.relu6 ? 0 : -1, hi: Float = code == B.relu6 ? 6 : 1
            try emitDefining(out, x.layout, "Clip", [x.name, addScalar(tensor(out).name + "/min", lo), addScalar(tensor(out).name + "/max", hi)])
        case B.prelu:
            let xi = try requiredInput(op, 0, "input"), ai = try requiredInput(op, 1, "alpha")
            let x = try currentValue(xi)
            let slope = try broadcastOperand(ai, channelsFirst: x.layout == .channelsFirst)
            try emitDefining(try output(op), x.layout, "PRelu", [x.name, slope])
        case B.softmax, B.logSoftmax: try softmax(op, log: code == B.logSoftmax)
        case B.reshape, B.squeeze, B.expandDims: try reshape(op)
        case B.transpose: try transpose(op)
        case B.pad, B.padV2, B.mirrorPad: try pad(op, code: code)
        case B.resizeBilinear, B.resizeNearest: try resize(op, bilinear: code == B.resizeBilinear)
        case B.mean, B.sum, B.reduceMax: try reduce(op, code == B.mean ? "ReduceMean" : code == B.sum ? "ReduceSum" : "ReduceMax")
        case B.depthToSpace, B.spaceToDepth:
            let x = try channelsFirst(try requiredInput(op, 0, "input"))
            let block = Int(try o?.i32(0) ?? 0)
            guard block >= 1 else { throw opError("block_size \(block) is not positive") }
            try emitDefining(try output(op), .channelsFirst, code == B.depthToSpace ? "DepthToSpace" : "SpaceToDepth", [x],
                             code == B.depthToSpace ? ["blocksize": .int(block), "mode": .string("DCR")] : ["blocksize": .int(block)])
        case B.localResponseNorm:
            // LocalResponseNormalizationOptions{radius, bias, alpha, beta}: x / (bias + alpha·Σ_{|d|≤r} x²)^β;
            // ONNX's LRN divides alpha by the window size.
            let x = try channelsFirst(try requiredInput(op, 0, "input"))
            let radius = Int(try o?.i32(0) ?? 0), bias = try o?.f32(1) ?? 0, alpha = try o?.f32(2) ?? 0, beta = try o?.f32(3) ?? 0
            let size = 2 * radius + 1
            try emitDefining(try output(op), .channelsFirst, "LRN", [x],
                             ["size": .int(size), "bias": .float(bias), "alpha": .float(alpha * Float(size)), "beta": .float(beta)])
        default:
            reportUnsupported()
        }
    }

    func activation(_ options: FlatTable?, field: Int) throws -> TFLiteActivation {
        let raw = Int(try options?.i8(field) ?? 0)
        guard let a = TFLiteActivation(rawValue: raw) else { throw opError("unknown fused activation \(raw)") }
        return a
    }

    /// `SAME` (0) or `VALID` (1).
    func isSame(_ options: FlatTable?) throws -> Bool {
        let p = Int(try options?.i8(0) ?? 0)
        guard p == 0 || p == 1 else { throw opError("unknown padding \(p) (expected SAME 0 or VALID 1)") }
        return p == 0
    }

    func positive(_ v: Int32, _ what: String) throws -> Int {
        guard v >= 1, v <= 1 << 16 else { throw opError("\(what) \(v) is not in 1…65536") }
        return Int(v)
    }

    // MARK: convolution family

    private mutating func convolution(_ op: TFLiteOperator, depthwise: Bool) throws {
        let xi = try requiredInput(op, 0, "input"), wi = try requiredInput(op, 1, "filter"), out = try output(op)
        let o = op.options
        let xs = shape(xi), ws = shape(wi)
        guard xs.count == 4, ws.count == 4 else { throw opError("needs a rank-4 input and filter, found \(xs) and \(ws)") }
        let sw = try positive(try o?.i32(1) ?? 1, "stride_w"), sh = try positive(try o?.i32(2) ?? 1, "stride_h")
        let (actField, dwField, dhField) = depthwise ? (4, 5, 6) : (3, 4, 5)
        let dw = try positive(try o?.i32(dwField, default: 1) ?? 1, "dilation_w_factor")
        let dh = try positive(try o?.i32(dhField, default: 1) ?? 1, "dilation_h_factor")
        let act = try activation(o, field: actField)
        let w = try floatConstant(wi, "filter")
        let kh = ws[1], kw = ws[2], cin = xs[3]
        let weightName: String, cout: Int, groups: Int
        if depthwise {
            // [1, kh, kw, C·M] → [C·M, 1, kh, kw]; output channel c·M + m reads input channel c.
            cout = ws[3]
            guard ws[0] == 1, cin > 0, cout % cin == 0 else { throw opError("depthwise filter \(ws) does not fit \(cin) input channels") }
            groups = cin
            weightName = addInitializer(tensor(wi).name, shape: [cout, 1, kh, kw], data: Self.permute(w, ws, [3, 0, 1, 2]))
        } else {
            // OHWI → OIHW; grouped when the input has a multiple of the filter's channels.
            cout = ws[0]
            guard ws[3] > 0, cin >= ws[3], cin % ws[3] == 0, cout % (cin / ws[3]) == 0 else {
                throw opError("filter \(ws) does not fit an input of \(cin) channels")
            }
            groups = cin / ws[3]
            weightName = addInitializer(tensor(wi).name, shape: [cout, ws[3], kh, kw], data: Self.permute(w, ws, [0, 3, 1, 2]))
        }
        var inputs = [try channelsFirst(xi), weightName]
        if let bi = try input(op, 2) {
            let b = try floatConstant(bi, "bias")
            guard b.count == cout else { throw opError("bias has \(b.count) values for \(cout) output channels") }
            inputs.append(addInitializer(tensor(bi).name, shape: [cout], data: b))
        }
        let same = try isSame(o)
        let (pt, pb) = same ? Self.samePadding(size: xs[1], kernel: kh, stride: sh, dilation: dh) : (0, 0)
        let (pl, pr) = same ? Self.samePadding(size: xs[2], kernel: kw, stride: sw, dilation: dw) : (0, 0)
        try emitDefining(out, .channelsFirst, activation: act, "Conv", inputs, [
            "kernel_shape": .ints([kh, kw]), "strides": .ints([sh, sw]), "dilations": .ints([dh, dw]),
            "pads": .ints([pt, pl, pb, pr]), "group": .int(groups),
        ])
    }

    /// TRANSPOSE_CONV(output_shape, filter OHWI, input[, bias]): the adjoint of a SAME/VALID convolution from an
    /// `output_shape` map to the input; padding as TFLite computes it, `total = max((in−1)·s + k − out, 0)`, the
    /// smaller half before.
    private mutating func transposedConvolution(_ op: TFLiteOperator) throws {
        let si = try requiredInput(op, 0, "output_shape"), wi = try requiredInput(op, 1, "filter")
        let xi = try requiredInput(op, 2, "input"), out = try output(op)
        let o = op.options
        let target = try intConstant(si, "output_shape")
        let xs = shape(xi), ws = shape(wi)
        guard xs.count == 4, ws.count == 4, target.count == 4 else { throw opError("needs rank-4 input, filter and output_shape, found \(xs), \(ws), \(target)") }
        guard ws[3] == xs[3] else { throw opError("filter \(ws) expects \(ws[3]) input channels, the input has \(xs[3])") }
        let sw = try positive(try o?.i32(1) ?? 1, "stride_w"), sh = try positive(try o?.i32(2) ?? 1, "stride_h")
        let act = try activation(o, field: 3)
        let same = try isSame(o)
        let w = try floatConstant(wi, "filter")
        let cout = ws[0], kh = ws[1], kw = ws[2]
        var inputs = [try channelsFirst(xi), addInitializer(tensor(wi).name, shape: [ws[3], cout, kh, kw], data: Self.permute(w, ws, [3, 0, 1, 2]))]
        if let bi = try input(op, 3) {
            let b = try floatConstant(bi, "bias")
            guard b.count == cout else { throw opError("bias has \(b.count) values for \(cout) output channels") }
            inputs.append(addInitializer(tensor(bi).name, shape: [cout], data: b))
        }
        var pads = [Int](repeating: 0, count: 4), extra = [0, 0]
        for (axis, (n, k, s)) in [(xs[1], kh, sh), (xs[2], kw, sw)].enumerated() {
            let full = (n - 1) * s + k
            let total = same ? max(full - target[axis + 1], 0) : 0
            pads[axis] = total / 2; pads[axis + 2] = total - total / 2
            extra[axis] = target[axis + 1] - (full - total)
            guard extra[axis] >= 0, extra[axis] < max(s, 1) || !same else {
                throw opError("output_shape \(target) does not fit an input of \(xs) with stride \(s) and kernel \(k)")
            }
        }
        try emitDefining(out, .channelsFirst, activation: act, "ConvTranspose", inputs, [
            "kernel_shape": .ints([kh, kw]), "strides": .ints([sh, sw]), "pads": .ints(pads), "output_padding": .ints(extra),
        ])
    }

    /// FULLY_CONNECTED(x, W[O, I], b): x flattened to [−1, I] in its declared (NHWC) order, then x·Wᵀ + b.
    private mutating func fullyConnected(_ op: TFLiteOperator) throws {
        let xi = try requiredInput(op, 0, "input"), wi = try requiredInput(op, 1, "weights"), out = try output(op)
        let o = op.options
        let ws = shape(wi)
        guard ws.count == 2 else { throw opError("weights have shape \(ws), expected [out, in]") }
        guard try (o?.i8(1) ?? 0) == 0 else { throw opError("only the DEFAULT weights format is supported") }
        let act = try activation(o, field: 0)
        let x = try declared(xi)
        let flat = fresh(tensor(xi).name + "/2d")
        emit("Reshape", [x, addInt64(tensor(out).name + "/in_shape", [-1, Int64(ws[1])])], [flat])
        var inputs = [flat, addInitializer(tensor(wi).name, shape: ws, data: try floatConstant(wi, "weights"))]
        if let bi = try input(op, 2) {
            let b = try floatConstant(bi, "bias")
            guard b.count == ws[0] else { throw opError("bias has \(b.count) values for \(ws[0]) outputs") }
            inputs.append(addInitializer(tensor(bi).name, shape: [ws[0]], data: b))
        }
        let os = shape(out)
        if os.count == 2 {
            try emitDefining(out, .declared, activation: act, "Gemm", inputs, ["transB": .int(1)])
        } else {
            let gemm = fresh(tensor(out).name + "/2d")
            emit("Gemm", inputs, [gemm], ["transB": .int(1)])
            let target = os.enumerated().map { $0.offset == 0 ? Int64(-1) : Int64($0.element) }
            try emitDefining(out, .declared, activation: act, "Reshape", [gemm, addInt64(tensor(out).name + "/shape", target)])
        }
    }

    private mutating func pooling(_ op: TFLiteOperator, max: Bool) throws {
        let xi = try requiredInput(op, 0, "input"), out = try output(op)
        let o = op.options
        let xs = shape(xi)
        guard xs.count == 4 else { throw opError("needs a rank-4 input, found \(xs)") }
        let sw = try positive(try o?.i32(1) ?? 1, "stride_w"), sh = try positive(try o?.i32(2) ?? 1, "stride_h")
        let fw = try positive(try o?.i32(3) ?? 1, "filter_width"), fh = try positive(try o?.i32(4) ?? 1, "filter_height")
        let act = try activation(o, field: 5)
        let same = try isSame(o)
        let (pt, pb) = same ? Self.samePadding(size: xs[1], kernel: fh, stride: sh, dilation: 1) : (0, 0)
        let (pl, pr) = same ? Self.samePadding(size: xs[2], kernel: fw, stride: sw, dilation: 1) : (0, 0)
        // TFLite averages over the window's in-image elements only: count_include_pad = 0.
        try emitDefining(out, .channelsFirst, activation: act, max ? "MaxPool" : "AveragePool", [try channelsFirst(xi)], [
            "kernel_shape": .ints([fh, fw]), "strides": .ints([sh, sw]), "pads": .ints([pt, pl, pb, pr]),
        ])
    }
}
