extension PlanLowering {
    /// A convolution — or a batch norm on its own, which is the 1×1 depthwise convolution y = x·s + (β − μ·s) —
    /// with what follows it absorbed: a batch norm folded into its weights, a residual sum, a ReLU/ReLU6.
    func lowerConvolution(_ i: Int) throws {
        let node = graph.nodes[i], x = node.inputs[0]
        var (weight, bias, geometry, groups) = try convolutionSeed(node)
        var last = node.output
        if node.op == "conv", let j = soleReader(last), graph.nodes[j].op == "batchNormEval" {
            (weight, bias) = try foldBatchNorm(graph.nodes[j], weight: weight, bias: bias)
            absorbed.insert(j)
            last = graph.nodes[j].output
        }
        var residual: PlanValue? = nil
        if let j = soleReader(last), graph.nodes[j].op == "add", graph.nodes[j].inputs.count == 2 {
            let a = graph.nodes[j].inputs[0], b = graph.nodes[j].inputs[1]
            let other = a === last ? b : a
            if other !== last, shape(other) == shape(last), let r = values[ObjectIdentifier(other)], r.shape.count > 2 {
                residual = try blocked(r)
                absorbed.insert(j)
                last = graph.nodes[j].output
            }
        }
        let clamp = absorbClamp(after: last)
        if let clamp { last = clamp.output }
        let (lower, upper) = (clamp?.lower ?? -.infinity, clamp?.upper ?? .infinity)
        let options = ConvOptions(stride: geometry.stride, padding: .explicit(before: geometry.padBefore, after: geometry.padAfter),
                                  dilation: geometry.dilation, groups: groups)
        let plan = ConvPlan(input: shape(x), weight: weight.shape, options: options)
        guard plan.geometry.rank <= 2 else {
            throw InferencePlanError(op: node.op, reason: "over \(plan.geometry.rank) spatial axes (the plan runs 1-D and 2-D)")
        }
        let out = newBlocked(for: last, shape: plan.outputShape)
        values[ObjectIdentifier(last)] = out
        let tail = (residual != nil ? " + residual" : "") + (clamp != nil ? " → clamp[\(lower), \(upper)]" : "")
        if BlockedDepthwise.supports(plan) && plan.inChannels > 1 {
            let kernel = BlockedDepthwise(weight: weight, bias: bias, plan: plan)
            let input = try blocked(value(x))
            append("depthwise \(shape(x)) * \(weight.shape) s\(geometry.stride) → \(plan.outputShape)\(tail)",
                   reads: [input] + (residual.map { [$0] } ?? []), writes: [out]) { m in
                kernel.run(m.pointer(input), inImageStride: input.imageStride, batch: plan.batch,
                           residual: residual.map { m.pointer($0) }, residualImageStride: residual?.imageStride,
                           lower: lower, upper: upper, m.pointer(out), outImageStride: out.imageStride)
            }
            return
        }
        let source = try value(x)
        // First layers (a few channels, still plain) read the input as it is: 16-channel blocks would be padding.
        let plainInput = source.layout == .plain && plan.inChannels <= 4 && plan.groups == 1
        guard BlockedConvolution.supports(plan, plainInput: plainInput) else {
            throw InferencePlanError(op: node.op, reason: "with \(plan.groups) groups of \(plan.inChannels / plan.groups) channels (whole 16-channel blocks needed)")
        }
        if plainInput {
            let kernel = BlockedConvolution(weight: weight, bias: bias, plan: plan, plainInput: true)
            let input = padded(source, kernel.plainPadding)
            append("conv \(shape(x)) * \(weight.shape) s\(geometry.stride) d\(geometry.dilation) → \(plan.outputShape)\(tail) (plain input)",
                   reads: [input] + (residual.map { [$0] } ?? []), writes: [out]) { m in
                kernel.run(m.pointer(input), inImageStride: input.imageStride, batch: plan.batch,
                           residual: residual.map { m.pointer($0) }, residualImageStride: residual?.imageStride,
                           lower: lower, upper: upper, m.pointer(out), outImageStride: out.imageStride)
            }
            return
        }
        let input = try blocked(source)
        let (kernel, times) = BlockedConvolutionKernel.choose(weight: weight, bias: bias, plan: plan, tuning: ConvAlgorithm.tuning)
        let scratch = kernel.scratchElements > 0 ? PlanValue(shape: [1, kernel.scratchElements], layout: .plain) : nil
        let measured = times.isEmpty ? "" : " (" + times.sorted { $0.value < $1.value }.map { String(format: "%@ %.3f ms", $0.key, $0.value) }.joined(separator: ", ") + ")"
        append("conv \(shape(x)) * \(weight.shape) s\(geometry.stride) d\(geometry.dilation) g\(groups) → \(plan.outputShape)\(tail): \(kernel.name)\(measured)",
               reads: [input] + (residual.map { [$0] } ?? []) + (scratch.map { [$0] } ?? []), writes: [out]) { m in
            kernel.run(m.pointer(input), inImageStride: input.imageStride, batch: plan.batch,
                       residual: residual.map { m.pointer($0) }, residualImageStride: residual?.imageStride ?? 0,
                       lower: lower, upper: upper, m.pointer(out), outImageStride: out.imageStride, scratch: scratch.map { m.pointer($0) })
        }
    }

    /// Weights [Cout, Cin/g, k…], bias, window and groups of a convolution node, or of a batch norm as a 1×1
    /// depthwise convolution.
    private func convolutionSeed(_ node: Node) throws -> (Tensor, Tensor?, WindowGeometry, Int) {
        if node.op == "conv" {
            guard let g = node.attributes["geometry"] as? WindowGeometry, let groups = node.attributes["groups"] as? Int else {
                throw InferencePlanError(op: "conv", reason: "was captured without its geometry")
            }
            if let fill = node.attributes["paddingFill"] as? PaddingFill, fill != .zeros,
               g.padBefore.contains(where: { $0 > 0 }) || g.padAfter.contains(where: { $0 > 0 }) {
                throw InferencePlanError(op: "conv", reason: "pads with \(fill), not zeros")
            }
            return (node.inputs[1].value, node.inputs.count > 2 ? node.inputs[2].value : nil, g, groups)
        }
        let x = node.inputs[0]
        guard shape(x).count >= 3 else {
            throw InferencePlanError(op: "batchNormEval", reason: "on \(shape(x)) (the plan normalizes maps, not feature vectors)")
        }
        let c = shape(x)[1], spatial = Array(shape(x)[2...])
        let ones = Tensor.ones([c, 1] + spatial.map { _ in 1 })
        let (w, b) = try foldBatchNorm(node, weight: ones, bias: nil)
        return (w, b, WindowGeometry(input: spatial, kernel: spatial.map { _ in 1 }), c)
    }

    private func foldBatchNorm(_ bn: Node, weight: Tensor, bias: Tensor?) throws -> (Tensor, Tensor) {
        guard let mean = bn.attributes["mean"] as? Tensor, let variance = bn.attributes["variance"] as? Tensor,
              let epsilon = bn.attributes["epsilon"] as? Float, bn.inputs.count == 3 else {
            throw InferencePlanError(op: "batchNormEval", reason: "was captured without its statistics")
        }
        return ConvKit.foldBatchNorm(weight: weight, bias: bias, gamma: bn.inputs[1].value, beta: bn.inputs[2].value,
                                     mean: mean, variance: variance, epsilon: epsilon)
    }
}
