import ConvKit

/// Window attributes of Conv, ConvTranspose and the pooling operators, resolved for one input shape.
struct ONNXWindow {
    var kernel: [Int], strides: [Int], dilations: [Int], padBefore: [Int], padAfter: [Int]
    var autoPad: String

    /// Reads kernel_shape (or `kernel` from the weight), strides, dilations, pads and auto_pad, checking counts
    /// and signs against `spatial` (the input's spatial extents).
    init(_ ctx: ONNXNodeContext, spatial: [Int], kernel weightKernel: [Int]?) throws {
        let a = ctx.attributes, r = spatial.count
        let k = try a.ints("kernel_shape") ?? weightKernel
        guard let k else { throw ctx.fail("kernel_shape is required") }
        try ctx.require(k.count == r, "kernel_shape \(k) for \(r) spatial axes")
        if let wk = weightKernel { try ctx.require(wk == k, "kernel_shape \(k) differs from the weight's \(wk)") }
        kernel = k
        strides = try a.ints("strides") ?? Array(repeating: 1, count: r)
        dilations = try a.ints("dilations") ?? Array(repeating: 1, count: r)
        let pads = try a.ints("pads") ?? Array(repeating: 0, count: 2 * r)
        try ctx.require(strides.count == r && dilations.count == r && pads.count == 2 * r,
                        "strides \(strides), dilations \(dilations), pads \(pads) for \(r) spatial axes")
        try ctx.require((kernel + strides + dilations).allSatisfy { $0 > 0 && $0 <= 1 << 16 },
                        "kernel_shape, strides and dilations must be positive, found \(kernel), \(strides), \(dilations)")
        try ctx.require(pads.allSatisfy { $0 >= 0 && $0 <= 1 << 16 }, "pads must be non-negative, found \(pads)")
        padBefore = Array(pads[..<r]); padAfter = Array(pads[r...])
        autoPad = try a.string("auto_pad", default: "NOTSET")
        try ctx.require(["NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"].contains(autoPad), "auto_pad '\(autoPad)' is not NOTSET, SAME_UPPER, SAME_LOWER or VALID")
        switch autoPad {
        case "VALID": padBefore = Array(repeating: 0, count: r); padAfter = padBefore
        case "SAME_UPPER", "SAME_LOWER":
            for i in 0..<r {
                let out = (spatial[i] + strides[i] - 1) / strides[i]
                let total = Swift.max((out - 1) * strides[i] + dilations[i] * (kernel[i] - 1) + 1 - spatial[i], 0)
                let small = total / 2
                padBefore[i] = autoPad == "SAME_UPPER" ? small : total - small
                padAfter[i] = total - padBefore[i]
            }
        default: break
        }
    }

    var padding: Padding { .explicit(before: padBefore, after: padAfter) }
}

enum ONNXConvolution {
    /// Conv (opset 1, 11): X [N, C, *S], W [M, C/group, *k], B [M] → Y [N, M, *O].
    static func conv(_ ctx: ONNXNodeContext) throws -> [ONNXValue] {
        let x = try ctx.float(0), w = try ctx.float(1)
        let b = ctx.optional(2) == nil ? nil : try ctx.float(2)
        let options = try options(ctx, input: x.shape, weight: w.shape, bias: b?.shape)
        return [.float(Functional.conv(x, weight: w, bias: b, options: options), try ctx.floatType(0))]
    }

    /// Checks every shape a convolution needs and returns its options.
    static func options(_ ctx: ONNXNodeContext, input s: [Int], weight ws: [Int], bias: [Int]?) throws -> ConvOptions {
        try ctx.require((3...5).contains(s.count) && ws.count == s.count,
                        "expected X [N, C, spatial…] (1–3 spatial axes) and W of the same rank, found X \(s) and W \(ws)")
        let group = try ctx.attributes.int("group", default: 1)
        try ctx.require(group > 0 && s[1] % group == 0 && ws[0] % group == 0 && ws[1] * group == s[1],
                        "group \(group): X has \(s[1]) channels, W \(ws) expects \(ws[1]) per group and \(ws[0]) filters")
        if let bias { try ctx.require(bias == [ws[0]], "B has shape \(bias), expected [\(ws[0])]") }
        let win = try ONNXWindow(ctx, spatial: Array(s[2...]), kernel: Array(ws[2...]))
        for i in 0..<win.kernel.count {
            let span = s[2 + i] + win.padBefore[i] + win.padAfter[i] - win.dilations[i] * (win.kernel[i] - 1) - 1
            try ctx.require(span >= 0, "the dilated kernel \(win.kernel) (dilations \(win.dilations)) does not fit the padded input \(s)")
        }
        _ = try ctx.checkSize([s[0], ws[0]] + (0..<win.kernel.count).map { i in
            (s[2 + i] + win.padBefore[i] + win.padAfter[i] - win.dilations[i] * (win.kernel[i] - 1) - 1) / win.strides[i] + 1 })
        return ConvOptions(stride: win.strides, padding: win.padding, dilation: win.dilations, groups: group)
    }

    /// ConvTranspose (opset 1, 11): X [N, C, *S], W [C, M/group, *k] → Y [N, M, *O] with
    /// O = s·(S − 1) + output_padding + d·(k − 1) + 1 − pads, or the pads implied by `output_shape`.
    static func convTranspose(_ ctx: ONNXNodeContext) throws -> [ONNXValue] {
        let x = try ctx.float(0), w = try ctx.float(1)
        let b = ctx.optional(2) == nil ? nil : try ctx.float(2)
        let s = x.shape, ws = w.shape
        try ctx.require((3...5).contains(s.count) && ws.count == s.count, "expected X [N, C, spatial…] and W of the same rank, found \(s) and \(ws)")
        let group = try ctx.attributes.int("group", default: 1)
        try ctx.require(group > 0 && ws[0] == s[1] && s[1] % group == 0, "group \(group): X has \(s[1]) channels, W \(ws)")
        let cout = ws[1] * group
        if let b { try ctx.require(b.shape == [cout], "B has shape \(b.shape), expected [\(cout)]") }
        let spatial = Array(s[2...]), r = spatial.count
        var win = try ONNXWindow(ctx, spatial: spatial, kernel: Array(ws[2...]))
        var outPad = try ctx.attributes.ints("output_padding") ?? Array(repeating: 0, count: r)
        try ctx.require(outPad.count == r && outPad.allSatisfy { $0 >= 0 }, "output_padding \(outPad) for \(r) spatial axes")
        let outputShape = try ctx.attributes.ints("output_shape").map { $0.count == r + 2 ? Array($0[2...]) : $0 }
        if outputShape != nil || win.autoPad.hasPrefix("SAME") {
            let target = outputShape ?? spatial.enumerated().map { $1 * win.strides[$0] }
            try ctx.require(target.count == r, "output_shape \(target) for \(r) spatial axes")
            for i in 0..<r {
                let total = win.strides[i] * (spatial[i] - 1) + outPad[i] + (win.kernel[i] - 1) * win.dilations[i] + 1 - target[i]
                if total >= 0 {
                    let half = total / 2
                    win.padBefore[i] = win.autoPad == "SAME_UPPER" ? half : total - half
                    win.padAfter[i] = total - win.padBefore[i]
                } else {
                    win.padBefore[i] = 0; win.padAfter[i] = 0; outPad[i] += -total
                }
            }
        }
        var out = [Int]()
        for i in 0..<r {
            out.append(win.strides[i] * (spatial[i] - 1) + outPad[i] + win.dilations[i] * (win.kernel[i] - 1) + 1 - win.padBefore[i] - win.padAfter[i])
            try ctx.require(outPad[i] < Swift.max(win.strides[i], win.dilations[i]),
                            "output padding \(outPad) must be smaller than the stride or dilation")
        }
        try ctx.require(out.allSatisfy { $0 > 0 }, "the output \(out) would be empty")
        _ = try ctx.checkSize([s[0], cout] + out)
        let o = ConvTransposeOptions(stride: win.strides, padding: win.padding, outputPadding: outPad, dilation: win.dilations, groups: group)
        return [.float(Functional.convTranspose(x, weight: w, bias: b, options: o), try ctx.floatType(0))]
    }
}

/// Conv → BatchNormalization? → Add? → Relu/Clip? run as one convolution in evaluation (`Conv.fused`, which folds the
/// norm into the weights and applies the residual and clamp in the epilogue; it runs the layers one by one while
/// training or recording gradients).
struct ONNXConvFusion {
    let conv: Conv
    let norm: BatchNorm?
    /// The other operand of the absorbed Add.
    let residual: String?
    let activation: Activation

    func run(_ ctx: ONNXNodeContext, residual value: ONNXValue?) throws -> ONNXValue {
        let x = try ctx.float(0)
        _ = try ONNXConvolution.options(ctx, input: x.shape, weight: conv.weight.shape, bias: conv.bias?.shape)
        var r: Variable?
        if residual != nil {
            guard case .float(let v, _)? = value else { throw ctx.fail("the residual operand of the fused Add is missing or not floating-point") }
            r = v
        }
        let outShape = ConvPlan(input: x.shape, weight: conv.weight.shape, options: conv.options).outputShape
        if let r {
            try ctx.require(broadcastShape(outShape, r.shape) == outShape,
                            "Add: the convolution's output \(outShape) and \(r.shape) do not broadcast to \(outShape)")
        }
        norm?.train(ctx.isTraining)
        return .float(conv.fused(x, norm: norm, adding: r, activation: activation), try ctx.floatType(0))
    }
}

/// Finds the chains `ONNXConvFusion` runs: a Conv with initializer weights whose output feeds only the next node of
/// the chain. The fused node takes the place of the chain's last node, so the residual is ready when it runs.
struct ONNXFusionPlanner {
    let parameters: [String: Parameter]
    let buffers: [String: Buffer]
    let constants: [String: ONNXValue]
    let graphOutputs: Set<String>

    func fuse(_ nodes: [ONNXCompiledNode]) -> [ONNXCompiledNode] {
        var uses = [String: Int]()
        for n in nodes { for v in n.inputs where !v.isEmpty { uses[v, default: 0] += 1 } }
        var consumer = [String: Int]()
        for (i, n) in nodes.enumerated() { for v in n.inputs where !v.isEmpty { consumer[v] = i } }
        var out = nodes.map { Optional($0) }
        // A node joins one chain only (both convolutions of a ResNet block feed the same Add).
        var claimed = Set<Int>()
        func soleConsumer(_ v: String) -> Int? {
            guard uses[v] == 1, !graphOutputs.contains(v), let j = consumer[v], !claimed.contains(j) else { return nil }
            return j
        }
        for (i, n) in nodes.enumerated() where n.op == "Conv" && !claimed.contains(i) {
            guard let conv = makeConv(n) else { continue }
            var chain = [i], value = n.outputs[0]
            var norm: BatchNorm?, residual: String?, activation = Activation.identity
            if let j = soleConsumer(value), let bn = makeNorm(nodes[j], input: value) {
                norm = bn; chain.append(j); value = nodes[j].outputs[0]
            }
            if let j = soleConsumer(value), nodes[j].op == "Add", nodes[j].inputs.count == 2 {
                let other = nodes[j].inputs[0] == value ? nodes[j].inputs[1] : nodes[j].inputs[0]
                if other != value && constants[other] == nil && parameters[other] == nil {
                    residual = other; chain.append(j); value = nodes[j].outputs[0]
                }
            }
            if let j = soleConsumer(value), let a = clampActivation(nodes[j]) {
                activation = a; chain.append(j); value = nodes[j].outputs[0]
            }
            guard chain.count > 1 else { continue }
            claimed.formUnion(chain)
            // Run where the chain's last node ran (the residual is ready there); drop the absorbed nodes.
            for k in chain { out[k] = nil }
            out[chain.last!] = ONNXCompiledNode(op: n.op, name: n.name, opset: n.opset, inputs: n.inputs, outputs: [value],
                                                attributes: n.attributes, kernel: n.kernel,
                                                fusion: ONNXConvFusion(conv: conv, norm: norm, residual: residual, activation: activation))
        }
        return out.compactMap { $0 }
    }

    /// A parameter, or a constant float tensor as a frozen one (weights that constant folding produced).
    private func weight(_ name: String) -> Parameter? {
        if let p = parameters[name] { return p }
        guard case .float(let v, _)? = constants[name] else { return nil }
        return Parameter(v.value, requiresGrad: false, label: name)
    }

    private func statistics(_ name: String) -> Buffer? {
        if let b = buffers[name] { return b }
        guard case .float(let v, _)? = constants[name] else { return nil }
        return Buffer(v.value)
    }

    private func makeConv(_ n: ONNXCompiledNode) -> Conv? {
        guard n.inputs.count >= 2, let w = weight(n.inputs[1]), (3...5).contains(w.shape.count) else { return nil }
        var bias: Parameter?
        if n.inputs.count > 2 && !n.inputs[2].isEmpty {
            guard let b = weight(n.inputs[2]), b.shape == [w.shape[0]] else { return nil }
            bias = b
        }
        let a = n.attributes, r = w.shape.count - 2
        guard let group = try? a.int("group", default: 1), group > 0, w.shape[0] % group == 0,
              let autoPad = try? a.string("auto_pad", default: "NOTSET"), autoPad != "SAME_LOWER" else { return nil }
        let strides = (try? a.ints("strides")) ?? nil ?? Array(repeating: 1, count: r)
        let dilations = (try? a.ints("dilations")) ?? nil ?? Array(repeating: 1, count: r)
        let pads = (try? a.ints("pads")) ?? nil ?? Array(repeating: 0, count: 2 * r)
        guard strides.count == r, dilations.count == r, pads.count == 2 * r, (strides + dilations).allSatisfy({ $0 > 0 }),
              pads.allSatisfy({ $0 >= 0 }) else { return nil }
        let padding: Padding
        switch autoPad {
        case "SAME_UPPER": padding = .same
        case "VALID": padding = .valid
        default: padding = .explicit(before: Array(pads[..<r]), after: Array(pads[r...]))
        }
        return Conv(weight: w, bias: bias, options: ConvOptions(stride: strides, padding: padding, dilation: dilations, groups: group))
    }

    private func makeNorm(_ n: ONNXCompiledNode, input: String) -> BatchNorm? {
        guard n.op == "BatchNormalization", n.inputs.count == 5, n.inputs[0] == input, n.outputs.count == 1 || n.outputs[1...].allSatisfy(\.isEmpty),
              let gamma = weight(n.inputs[1]), let beta = weight(n.inputs[2]),
              let mean = statistics(n.inputs[3]), let variance = statistics(n.inputs[4]),
              gamma.shape.count == 1, beta.shape == gamma.shape, mean.value.shape == gamma.shape, variance.value.shape == gamma.shape,
              (try? n.attributes.int("training_mode", default: 0)) == 0 else { return nil }
        let eps = (try? n.attributes.float("epsilon", default: 1e-5)) ?? 1e-5
        let momentum = (try? n.attributes.float("momentum", default: 0.9)) ?? 0.9
        return BatchNorm(weight: gamma, bias: beta, runningMean: mean, runningVar: variance, momentum: 1 - momentum, epsilon: eps)
    }

    /// Relu, or Clip whose bounds are constants 0 and 6 (ReLU6) or 0 and +∞.
    private func clampActivation(_ n: ONNXCompiledNode) -> Activation? {
        if n.op == "Relu" { return .relu }
        guard n.op == "Clip" else { return nil }
        var lo: Float = -.infinity, hi: Float = .infinity
        if n.opset < 11 {
            lo = (try? n.attributes.float("min")) ?? nil ?? -.infinity
            hi = (try? n.attributes.float("max")) ?? nil ?? .infinity
        } else {
            func bound(_ i: Int) -> Float?? {
                guard i < n.inputs.count, !n.inputs[i].isEmpty else { return .some(nil) }
                guard let c = constants[n.inputs[i]], c.count == 1 else { return nil }
                return .some(c.floatTensor.scalars[0])
            }
            guard let l = bound(1), let h = bound(2) else { return nil }
            lo = l ?? -.infinity; hi = h ?? .infinity
        }
        if lo == 0 && hi == 6 { return .relu6 }
        if lo == 0 && hi == .infinity { return .relu }
        return nil
    }
}
