import ConvKit

/// Each captured op as ONNX (opset 17) nodes.
extension ONNXExportTranslation {
    mutating func translate(_ node: CapturedGraph.Node) throws {
        let a = node.attributes
        func input(_ k: Int) throws -> String { try value(node.inputs[k]) }
        switch node.op {
        case "conv": try convolution(node)
        case "convTranspose": try transposedConvolution(node)
        case "linear":
            let out = outputName(node)
            writer.emit("Gemm", try node.inputs.indices.map(input), [out], ["transB": .int(1)])
        case "matmul": writer.emit("MatMul", [try input(0), try input(1)], [outputName(node)])
        case "maxPool", "avgPool":
            guard let g = a["geometry"] as? WindowGeometry else { return missing(node, "geometry") }
            var attrs = window(g)
            attrs["ceil_mode"] = .int((a["ceilMode"] as? Bool ?? false) ? 1 : 0)
            if node.op == "avgPool" {
                attrs["count_include_pad"] = .int((a["countIncludePad"] as? Bool ?? true) ? 1 : 0)
                attrs["dilations"] = nil
            }
            writer.emit(node.op == "maxPool" ? "MaxPool" : "AveragePool", [try input(0)], [outputName(node)], attrs)
        case "globalAvgPool", "globalMaxPool":
            let pooled = writer.fresh(node.op + "/pooled")
            writer.emit(node.op == "globalAvgPool" ? "GlobalAveragePool" : "GlobalMaxPool", [try input(0)], [pooled])
            writer.emit("Flatten", [pooled], [outputName(node)], ["axis": .int(1)])
        case "adaptiveAvgPool":
            let x = node.inputs[0].shape, o = node.output.shape
            let spatial = Array(x.dropFirst(2)), target = Array(o.dropFirst(2))
            if target.allSatisfy({ $0 == 1 }) {
                writer.emit("GlobalAveragePool", [try input(0)], [outputName(node)])
            } else if zip(spatial, target).allSatisfy({ $1 > 0 && $0 % $1 == 0 }) {
                let k = zip(spatial, target).map { $0 / $1 }
                writer.emit("AveragePool", [try input(0)], [outputName(node)], ["kernel_shape": .ints(k), "strides": .ints(k)])
            } else {
                unsupported.append("adaptive average pooling from \(spatial) to \(target) (bins of unequal size)")
            }
        case "activation":
            guard let act = a["activation"] as? Activation else { return missing(node, "activation") }
            try activation(act, try input(0), node)
        case "prelu":
            // ConvKit's slope is [C]; ONNX broadcasts from the last axis, so it becomes [C, 1, …, 1].
            let rank = node.inputs[0].shape.count, slope = node.inputs[1]
            var s = try input(1)
            if rank > 2, slope.shape.count == 1 {
                let r = writer.fresh(s + "/channels")
                writer.emit("Reshape", [s, writer.addInt64(r + "_shape", [Int64(slope.shape[0])] + [Int64](repeating: 1, count: rank - 2))], [r])
                s = r
            }
            writer.emit("PRelu", [try input(0), s], [outputName(node)])
        case "softmax", "logSoftmax":
            writer.emit(node.op == "softmax" ? "Softmax" : "LogSoftmax", [try input(0)], [outputName(node)], ["axis": .int(a["axis"] as? Int ?? -1)])
        case "batchNormEval":
            guard let mean = a["mean"] as? Tensor, let variance = a["variance"] as? Tensor else { return missing(node, "statistics") }
            let owner = owner(node)
            let m = writer.addInitializer(owner + ".running_mean", mean), v = writer.addInitializer(owner + ".running_var", variance)
            writer.emit("BatchNormalization", [try input(0), try input(1), try input(2), m, v], [outputName(node)],
                        ["epsilon": .float(a["epsilon"] as? Float ?? 1e-5)])
        case "instanceNorm":
            let c = node.inputs[0].shape[1]
            let scale = node.inputs.count > 1 ? try input(1) : writer.addInitializer("instance_norm_scale", Tensor(repeating: 1, shape: [c]))
            let bias = node.inputs.count > 2 ? try input(2) : writer.addInitializer("instance_norm_bias", Tensor(repeating: 0, shape: [c]))
            writer.emit("InstanceNormalization", [try input(0), scale, bias], [outputName(node)], ["epsilon": .float(a["epsilon"] as? Float ?? 1e-5)])
        case "lrn":
            guard let o = a["options"] as? LRNOptions else { return missing(node, "options") }
            writer.emit("LRN", [try input(0)], [outputName(node)], ["size": .int(o.size), "alpha": .float(o.alpha), "beta": .float(o.beta), "bias": .float(o.k)])
        case "dropout": writer.emit("Identity", [try input(0)], [outputName(node)])
        case "upsample":
            guard let s = a["scale"] as? [Int] else { return missing(node, "scale") }
            let scales = writer.addInitializer("upsample_scales", shape: [4], data: [1, 1, Float(s[0]), Float(s[1])])
            writer.emit("Resize", [try input(0), "", scales], [outputName(node)],
                        ["mode": .string("nearest"), "coordinate_transformation_mode": .string("asymmetric"), "nearest_mode": .string("floor")])
        case "bilinear":
            // sizes = [N, C] of the input (so any batch runs) ++ the fixed spatial size.
            let x = try input(0)
            let shape = writer.fresh("bilinear_input_shape"), lead = writer.fresh("bilinear_batch_channels"), sizes = writer.fresh("bilinear_sizes")
            writer.emit("Shape", [x], [shape])
            writer.emit("Slice", [shape, writer.addInt64("zero", [0]), writer.addInt64("two", [2])], [lead])
            writer.emit("Concat", [lead, writer.addInt64("bilinear_spatial", node.output.shape.dropFirst(2).map(Int64.init))], [sizes], ["axis": .int(0)])
            let align = a["alignCorners"] as? Bool ?? false
            writer.emit("Resize", [x, "", "", sizes], [outputName(node)],
                        ["mode": .string("linear"), "coordinate_transformation_mode": .string(align ? "align_corners" : "pytorch_half_pixel")])
        default:
            try elementwiseOrShape(node)
        }
    }

    mutating func missing(_ node: CapturedGraph.Node, _ what: String) {
        unsupported.append("\(node.op) (its \(what) was not recorded)")
    }

    /// kernel_shape, strides, dilations and pads of a window.
    func window(_ g: WindowGeometry) -> [String: A] {
        ["kernel_shape": .ints(g.kernel), "strides": .ints(g.stride), "dilations": .ints(g.dilation), "pads": .ints(g.padBefore + g.padAfter)]
    }

    mutating func convolution(_ node: CapturedGraph.Node) throws {
        guard let g = node.attributes["geometry"] as? WindowGeometry else { return missing(node, "geometry") }
        var x = try value(node.inputs[0])
        var attrs = window(g)
        attrs["group"] = .int(node.attributes["groups"] as? Int ?? 1)
        let fill = node.attributes["paddingFill"] as? PaddingFill ?? .zeros
        if fill != .zeros && (g.padBefore + g.padAfter).contains(where: { $0 > 0 }) {
            // Reflect/replicate padding: an explicit Pad, then an unpadded convolution.
            let padded = writer.fresh(x + "/padded")
            let pads = [Int64(0), 0] + g.padBefore.map(Int64.init) + [0, 0] + g.padAfter.map(Int64.init)
            writer.emit("Pad", [x, writer.addInt64("pads", pads)], [padded], ["mode": .string(fill == .reflect ? "reflect" : "edge")])
            x = padded
            attrs["pads"] = .ints([Int](repeating: 0, count: 2 * g.kernel.count))
        }
        let inputs = [x] + (try node.inputs.dropFirst().map { try value($0) })
        writer.emit("Conv", inputs, [outputName(node)], attrs)
    }

    mutating func transposedConvolution(_ node: CapturedGraph.Node) throws {
        guard let o = node.attributes["options"] as? ConvTransposeOptions else { return missing(node, "options") }
        let x = node.inputs[0].shape, w = node.inputs[1].shape
        let kernel = Array(w.dropFirst(2))
        let r = o.resolvedPadding(spatial: Array(x.dropFirst(2)), kernel: kernel)
        let inputs = try node.inputs.map { try value($0) }
        writer.emit("ConvTranspose", inputs, [outputName(node)], [
            "kernel_shape": .ints(kernel), "strides": .ints(r.stride), "dilations": .ints(r.dilation),
            "pads": .ints(r.before + r.after), "output_padding": .ints(r.outputPadding), "group": .int(o.groups),
        ])
    }

    mutating func activation(_ act: Activation, _ x: String, _ node: CapturedGraph.Node) throws {
        let out = outputName(node)
        switch act {
        case .relu: writer.emit("Relu", [x], [out])
        case .relu6: writer.emit("Clip", [x, writer.addScalar("zero", 0), writer.addScalar("six", 6)], [out])
        case .leakyRelu(let alpha): writer.emit("LeakyRelu", [x], [out], ["alpha": .float(alpha)])
        case .elu(let alpha): writer.emit("Elu", [x], [out], ["alpha": .float(alpha)])
        case .selu: writer.emit("Selu", [x], [out])
        case .sigmoid: writer.emit("Sigmoid", [x], [out])
        case .tanh: writer.emit("Tanh", [x], [out])
        case .softplus: writer.emit("Softplus", [x], [out])
        case .hardSigmoid: writer.emit("HardSigmoid", [x], [out], ["alpha": .float(1 / 6), "beta": .float(0.5)])
        case .hardSwish: writer.emit("HardSwish", [x], [out])
        case .identity: writer.emit("Identity", [x], [out])
        case .gelu:
            // x·½(1 + erf(x/√2)): Gelu is an operator only from opset 20.
            let scaled = writer.fresh(out + "/scaled"), erf = writer.fresh(out + "/erf"), plus = writer.fresh(out + "/plus1"), half = writer.fresh(out + "/half")
            writer.emit("Mul", [x, writer.addScalar("inv_sqrt2", Float(0.5).squareRoot())], [scaled])
            writer.emit("Erf", [scaled], [erf])
            writer.emit("Add", [erf, writer.addScalar("one", 1)], [plus])
            writer.emit("Mul", [x, writer.addScalar("half", 0.5)], [half])
            writer.emit("Mul", [half, plus], [out])
        }
    }
}
