import ConvKit

/// The operator table: ONNX op type (default domain) → kernel. Version differences are handled inside each
/// kernel from the node's opset (attributes that became inputs, Softmax's 2-D coercion, Resize's modes).
enum ONNXOperators {
    static let table: [String: ONNXKernel] = {
        var t = [String: ONNXKernel]()
        typealias E = ONNXElementwise
        for op in ["Add", "Sub", "Mul", "Div"] { t[op] = E.arithmetic(op) }
        for op in ["Max", "Min", "Sum", "Mean"] { t[op] = E.variadic(op) }
        for op in ["Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual"] { t[op] = E.comparison(op) }
        for op in ["And", "Or", "Xor", "Not"] { t[op] = E.logic(op) }
        for op in ["Abs", "Neg", "Sqrt", "Exp", "Log", "Reciprocal", "Floor", "Ceil", "Round", "Sign", "Sin", "Cos", "Tan",
                   "Asin", "Acos", "Atan", "Sinh", "Cosh", "Asinh", "Acosh", "Atanh", "Erf"] { t[op] = E.unary(op) }
        for op in ["IsNaN", "IsInf"] { t[op] = E.classify(op) }
        t["Pow"] = E.pow
        t["Where"] = E.where
        t["Mod"] = E.mod

        for op in ["Relu", "Sigmoid", "Tanh", "Softplus", "LeakyRelu", "Elu", "HardSwish", "Gelu", "Selu", "Celu",
                   "HardSigmoid", "Softsign", "Mish", "ThresholdedRelu", "Shrink"] { t[op] = ONNXActivations.activation(op) }
        t["PRelu"] = ONNXActivations.prelu
        for op in ["Softmax", "LogSoftmax", "Hardmax"] { t[op] = ONNXActivations.softmax(op) }
        t["Clip"] = ONNXClip.run

        t["Conv"] = ONNXConvolution.conv
        t["ConvTranspose"] = ONNXConvolution.convTranspose
        t["MaxPool"] = ONNXPooling.maxPool
        t["AveragePool"] = ONNXPooling.averagePool
        t["GlobalAveragePool"] = ONNXPooling.global("GlobalAveragePool")
        t["GlobalMaxPool"] = ONNXPooling.global("GlobalMaxPool")
        t["BatchNormalization"] = ONNXNormalization.batchNorm
        t["InstanceNormalization"] = ONNXNormalization.instanceNorm
        t["LayerNormalization"] = ONNXNormalization.layerNorm
        t["LRN"] = ONNXNormalization.lrn
        t["Gemm"] = ONNXLinear.gemm
        t["MatMul"] = ONNXLinear.matmul

        typealias S = ONNXShapeOps
        t["Reshape"] = S.reshape; t["Flatten"] = S.flatten; t["Transpose"] = S.transpose
        t["Squeeze"] = S.squeeze; t["Unsqueeze"] = S.unsqueeze; t["Concat"] = S.concat; t["Split"] = S.split
        t["Slice"] = S.slice; t["Expand"] = S.expand; t["Tile"] = S.tile; t["Gather"] = S.gather
        t["GatherElements"] = S.gatherElements
        t["Shape"] = S.shape; t["Size"] = S.size; t["ConstantOfShape"] = S.constantOfShape; t["Constant"] = S.constant
        t["Identity"] = S.identity; t["Dropout"] = S.dropout; t["Cast"] = S.cast; t["CastLike"] = S.cast; t["Range"] = S.range
        t["DepthToSpace"] = S.depthToSpace; t["SpaceToDepth"] = S.spaceToDepth; t["Pad"] = S.pad

        for op in ["ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
                   "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"] { t[op] = ONNXReductions.reduce(op) }
        t["ArgMax"] = ONNXReductions.argExtreme("ArgMax")
        t["ArgMin"] = ONNXReductions.argExtreme("ArgMin")
        t["TopK"] = ONNXReductions.topK

        t["Resize"] = ONNXResize.resize
        t["Upsample"] = ONNXResize.upsample
        t["NonMaxSuppression"] = ONNXNonMaxSuppression.run
        return t
    }()

    /// The operator names, sorted (for `convkit onnx ops` and the conformance table).
    public static var supported: [String] { table.keys.sorted() }
}

/// Clip: bounds as attributes before opset 11, optional inputs after; integer tensors too.
enum ONNXClip {
    static func run(_ ctx: ONNXNodeContext) throws -> [ONNXValue] {
        var lo: Float = -.infinity, hi: Float = .infinity
        if ctx.opset < 11 {
            lo = try ctx.attributes.float("min") ?? -.infinity
            hi = try ctx.attributes.float("max") ?? .infinity
        } else {
            lo = try ctx.scalar(1) ?? -.infinity
            hi = try ctx.scalar(2) ?? .infinity
        }
        switch try ctx.value(0) {
        case .float(let x, let t):
            if lo > hi { return [.float(Tensor(repeating: hi, shape: x.shape), type: t)] }
            return [.float(x.clamped(min: lo, max: hi), t)]
        case .integer(var i):
            let l = Int64(saturating: lo), h = Int64(saturating: hi)
            i.values = i.values.map { l > h ? h : Swift.min(Swift.max($0, l), h) }
            return [.integer(i)]
        }
    }
}
