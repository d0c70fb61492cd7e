import CConvKernels

extension PlanLowering {
    /// An activation on its own: a clamp (ReLU, ReLU6, Clip) in place when nothing else reads its input, any other
    /// activation through the Tensor implementation, a recorded scalar function (`Functional.elementwise`) applied
    /// value by value (elementwise, so in either layout).
    func lowerActivation(_ node: Node) throws {
        let clamp = clampRange(node)
        let function = node.attributes["function"] as? (Float) -> Float
        guard clamp != nil || function != nil || node.attributes["activation"] is Activation else {
            throw InferencePlanError(op: node.op, reason: "was captured without its function or bounds")
        }
        let input = try value(node.inputs[0])
        let inPlace = soleReader(node.inputs[0]) != nil && !input.buffer.isInput && holders(of: input.buffer) == 1
        let out = inPlace ? input : PlanValue(shape: input.shape, layout: input.layout)
        values[ObjectIdentifier(node.output)] = out
        let count = input.batch * input.imageStride
        guard input.imageStride == PlanValue.elementsPerImage(input.shape, input.layout) else {
            throw InferencePlanError(op: "activation", reason: "on a view into a concatenation")
        }
        if let range = clamp {
            append("clamp[\(range.lower), \(range.upper)] \(input.shape)", reads: [input], writes: [out]) { m in
                let src = m.pointer(input), dst = m.pointer(out)
                Parallel.forRanges(count, align: 16, minChunk: 16_384) { r in
                    if src != dst { (dst + r.lowerBound).update(from: src + r.lowerBound, count: r.count) }
                    ck_conv_epilogue(dst + r.lowerBound, 1, Int32(r.count), r.count, nil, nil, 0, range.lower, range.upper)
                }
            }
            return
        }
        if let f = function {
            append("\(node.op) \(input.shape)", reads: [input], writes: [out]) { m in
                let src = m.pointer(input), dst = m.pointer(out)
                Parallel.forRanges(count, minChunk: 16_384) { r in for i in r { dst[i] = f(src[i]) } }
            }
            return
        }
        let a = node.attributes["activation"] as! Activation
        append("\(a) \(input.shape)", reads: [input], writes: [out]) { m in
            let src = m.pointer(input), dst = m.pointer(out)
            let y = Tensor(shape: [count]) { $0.baseAddress!.update(from: src, count: count) }.activated(a)
            y.withUnsafeBufferPointer { dst.update(from: $0.baseAddress!, count: count) }
        }
    }

    /// A sum of two values of one shape (a residual the convolution before it could not absorb), with a following
    /// ReLU/ReLU6.
    func lowerAdd(_ i: Int) throws {
        let node = graph.nodes[i]
        guard node.inputs.count == 2, shape(node.inputs[0]) == shape(node.inputs[1]) else {
            throw InferencePlanError(op: "add", reason: "with broadcasting (\(node.inputs.map(shape)))")
        }
        var a = try value(node.inputs[0]), b = try value(node.inputs[1])
        if a.layout != b.layout { a = try blocked(a); b = try blocked(b) }
        let clamp = absorbClamp(after: node.output)
        let last = clamp?.output ?? node.output
        let out = a.layout == .blocked ? newBlocked(for: last, shape: a.shape) : PlanValue(shape: a.shape, layout: .plain)
        values[ObjectIdentifier(last)] = out
        let (lo, hi) = (clamp?.lower ?? -.infinity, clamp?.upper ?? .infinity)
        let per = PlanValue.elementsPerImage(a.shape, a.layout)
        append("add \(a.shape)" + (clamp != nil ? " → clamp[\(lo), \(hi)]" : ""), reads: [a, b], writes: [out]) { m in
            let pa = m.pointer(a), pb = m.pointer(b), po = m.pointer(out)
            for n in 0..<a.batch {
                let x = pa + n * a.imageStride, y = pb + n * b.imageStride, z = po + n * out.imageStride
                let vectors = per / 16
                Parallel.forRanges(vectors, minChunk: 1024) { r in
                    ck_blocked_add(x + r.lowerBound * 16, y + r.lowerBound * 16, lo, hi, r.count, z + r.lowerBound * 16)
                }
                for k in (vectors * 16)..<per { z[k] = Swift.min(Swift.max(x[k] + y[k], lo), hi) }
            }
        }
    }

    func lowerPooling(_ node: Node) throws {
        guard let g = node.attributes["geometry"] as? WindowGeometry else {
            throw InferencePlanError(op: node.op, reason: "was captured without its window")
        }
        let countPad = node.attributes["countIncludePad"] as? Bool ?? true
        let mode: BlockedPooling.Mode = node.op == "maxPool" ? .max : (countPad ? .averageCountingPadding : .average)
        guard BlockedPooling.supports(g, mode: mode) else {
            throw InferencePlanError(op: node.op, reason: "over \(g.rank) spatial axes or with a dilated average")
        }
        try appendPooling(input: node.inputs[0], output: node.output, geometry: g, mode: mode)
    }

    private func appendPooling(input x: Variable, output: Variable, geometry g: WindowGeometry, mode: BlockedPooling.Mode) throws {
        let input = try blocked(value(x))
        let pool = BlockedPooling(g, channels: input.channels, mode: mode)
        let out = newBlocked(for: output, shape: Array(input.shape[..<2]) + g.output)
        values[ObjectIdentifier(output)] = out
        append("\(mode) pool \(input.shape) k\(g.kernel) s\(g.stride) → \(out.shape)", reads: [input], writes: [out]) { m in
            pool.run(m.pointer(input), inImageStride: input.imageStride, batch: input.batch, m.pointer(out), outImageStride: out.imageStride)
        }
    }

    /// [N, C, spatial…] → the mean of each channel times `scale`, kept blocked (its shape is the output's: [N, C] or
    /// [N, C, 1, 1]).
    func lowerGlobalAverage(_ x: Variable, _ output: Variable, scale: Float = 1) throws {
        let input = try blocked(value(x))
        let out = PlanValue(shape: shape(output), layout: .blocked)
        values[ObjectIdentifier(output)] = out
        let (p, cb) = (input.positions, input.blocks)
        append("global average \(input.shape) → \(shape(output))" + (scale != 1 ? " × \(scale)" : ""), reads: [input], writes: [out]) { m in
            let src = m.pointer(input), dst = m.pointer(out)
            Parallel.forEach(input.batch) { n in
                let o = dst + n * out.imageStride
                ck_blocked_global_average(src + n * input.imageStride, p, 0, Int32(cb), o)
                if scale != 1 { for i in 0..<(cb * BlockedLayout.lanes) { o[i] *= scale } }
            }
        }
    }

    /// A sum over every spatial axis (ONNX's ReduceMean and ReduceSum on maps): a global average, scaled back by the
    /// number of positions unless a multiplication by a constant alone follows it (the mean's 1/n), which is absorbed.
    func lowerSpatialSum(_ node: Node) throws {
        let x = node.inputs[0], rank = shape(x).count
        guard let axes = node.attributes["axes"] as? [Int], rank > 2, axes.sorted() == Array(2..<rank) else {
            throw InferencePlanError(op: "sum", reason: "over axes other than all the spatial ones")
        }
        let positions = Float(shape(x)[2...].reduce(1, *))
        if let j = soleReader(node.output), graph.nodes[j].op == "muls", let s = graph.nodes[j].attributes["scalar"] as? Float {
            absorbed.insert(j)
            try lowerGlobalAverage(x, graph.nodes[j].output, scale: s * positions)
            return
        }
        try lowerGlobalAverage(x, node.output, scale: positions)
    }

    /// x·s, x + s or x − s for a constant s, in either layout.
    func lowerScalarOperation(_ node: Node) throws {
        guard let s = node.attributes["scalar"] as? Float else {
            throw InferencePlanError(op: node.op, reason: "was captured without its constant")
        }
        let input = try value(node.inputs[0])
        guard input.imageStride == PlanValue.elementsPerImage(input.shape, input.layout) else {
            throw InferencePlanError(op: node.op, reason: "on a view into a concatenation")
        }
        let out = PlanValue(shape: input.shape, layout: input.layout)
        values[ObjectIdentifier(node.output)] = out
        let (scale, shift): (Float, Float) = node.op == "muls" ? (s, 0) : (1, node.op == "adds" ? s : -s)
        let count = input.batch * input.imageStride
        append("\(node.op) \(s) \(input.shape)", reads: [input], writes: [out]) { m in
            let src = m.pointer(input), dst = m.pointer(out)
            Parallel.forRanges(count, minChunk: 16_384) { r in
                for i in r { dst[i] = src[i] * scale + shift }
            }
        }
    }

    /// Adaptive average pooling to the input's own size (VGG's and AlexNet's at 224²) is the identity; to 1×1 a global
    /// average; with bins that divide the input evenly an average pool.
    func lowerAdaptiveAverage(_ node: Node) throws {
        let x = node.inputs[0]
        guard let size = node.attributes["outputSize"] as? [Int], size.count == 2, shape(x).count == 4 else {
            throw InferencePlanError(op: "adaptiveAvgPool", reason: "was captured without its output size")
        }
        let (h, w) = (shape(x)[2], shape(x)[3])
        if size == [h, w] { values[ObjectIdentifier(node.output)] = try value(x); return }
        if size == [1, 1] { try lowerGlobalAverage(x, node.output); return }
        guard h % size[0] == 0, w % size[1] == 0 else {
            throw InferencePlanError(op: "adaptiveAvgPool", reason: "to \(size) from \(h)×\(w) (bins of unequal size)")
        }
        let k = [h / size[0], w / size[1]]
        try appendPooling(input: x, output: node.output, geometry: WindowGeometry(input: [h, w], kernel: k, stride: k), mode: .average)
    }

    /// Flatten and reshape keep the batch axis: the plain value under another shape, no copy.
    func lowerReshape(_ node: Node) throws {
        let input = try plain(value(node.inputs[0]))
        let shape = self.shape(node.output)
        guard shape.first == input.batch, input.imageStride == PlanValue.elementsPerImage(input.shape, .plain) else {
            throw InferencePlanError(op: node.op, reason: "from \(input.shape) to \(shape) (the batch axis must stay)")
        }
        values[ObjectIdentifier(node.output)] = PlanValue(shape: shape, layout: .plain, buffer: input.buffer, offset: input.offset)
    }

    /// y = clamp(x·Wᵀ + b) for x [N, K]: at small batch W streamed as stored once per 8 inputs, else a GEMM.
    func lowerLinear(_ i: Int) throws {
        let node = graph.nodes[i]
        let input = try plain(value(node.inputs[0]))
        let w = node.inputs[1].value, bias = node.inputs.count > 2 ? node.inputs[2].value : nil
        guard input.shape.count == 2, w.rank == 2, w.shape[1] == input.shape[1] else {
            throw InferencePlanError(op: "linear", reason: "on \(input.shape) with weights \(w.shape)")
        }
        let clamp = absorbClamp(after: node.output)
        let last = clamp?.output ?? node.output
        let (n, k, m) = (input.batch, w.shape[1], w.shape[0])
        let out = PlanValue(shape: [n, m], layout: .plain)
        values[ObjectIdentifier(last)] = out
        let (lo, hi) = (clamp?.lower ?? -.infinity, clamp?.upper ?? .infinity)
        append("dense [\(n), \(k)] → [\(n), \(m)]" + (clamp != nil ? " → clamp[\(lo), \(hi)]" : ""), reads: [input], writes: [out]) { mem in
            let x = mem.pointer(input), y = mem.pointer(out)
            w.withUnsafeBufferPointer { wb in
                if n <= Tensor.smallBatchRows {
                    Tensor.denseSmallBatch(weights: wb.baseAddress!, rows: m, k: k, x: x, batch: n, y: y)
                } else {
                    sgemm(m: n, n: m, k: k, a: x, rsa: k, csa: 1, b: wb.baseAddress!, rsb: 1, csb: k, c: y, ldc: m)
                }
            }
            for r in 0..<n {
                let row = y + r * m
                if let bias {
                    bias.withUnsafeBufferPointer { bb in for j in 0..<m { row[j] += bb[j] } }
                }
                if clamp != nil { for j in 0..<m { row[j] = Swift.min(Swift.max(row[j], lo), hi) } }
            }
        }
    }

    /// Softmax or log-softmax along one non-batch axis of a plain value (a classifier's last step).
    func lowerSoftmax(_ node: Node) throws {
        let rank = shape(node.inputs[0]).count, axis = (node.attributes["axis"] as? Int) ?? -1
        let a = axis < 0 ? axis + rank : axis
        guard (1..<rank).contains(a) else {
            throw InferencePlanError(op: node.op, reason: "along axis \(axis) of \(shape(node.inputs[0])) (the batch axis must stay)")
        }
        let log = node.op == "logSoftmax"
        try appendImageByImage(node, "\(node.op) axis \(a)") { log ? $0.logSoftmax(axis: a) : $0.softmax(axis: a) }
    }

    /// Local response normalization across channels (AlexNet's, GoogLeNet's as ONNX has them).
    func lowerLocalResponseNorm(_ node: Node) throws {
        guard let o = node.attributes["options"] as? LRNOptions else {
            throw InferencePlanError(op: "lrn", reason: "was captured without its options")
        }
        try appendImageByImage(node, "lrn") { ConvKit.localResponseNorm($0, o) }
    }

    /// A permutation that keeps the batch axis first (a channel shuffle's transpose), image by image.
    func lowerPermute(_ node: Node) throws {
        guard let order = node.attributes["order"] as? [Int], order.first == 0 else {
            throw InferencePlanError(op: "permute", reason: "moving the batch axis (\(node.attributes["order"] ?? "no order"))")
        }
        try appendImageByImage(node, "permute \(order)") { $0.permuted(order) }
    }

    /// An op no kernel of the plan covers but whose Tensor implementation treats images independently and keeps
    /// their size: run on the plain value, one image [1, …] at a time, written into the plan's memory.
    private func appendImageByImage(_ node: Node, _ label: String, _ op: @escaping (Tensor) -> Tensor) throws {
        let input = try plain(value(node.inputs[0]))
        let outShape = shape(node.output), per = input.imageStride
        guard per == PlanValue.elementsPerImage(input.shape, .plain), outShape.reduce(1, *) == input.shape.reduce(1, *) else {
            throw InferencePlanError(op: node.op, reason: "on \(input.shape) → \(outShape)")
        }
        let out = PlanValue(shape: outShape, layout: .plain)
        values[ObjectIdentifier(node.output)] = out
        let image = [1] + Array(input.shape.dropFirst())
        append("\(label) \(input.shape)", reads: [input], writes: [out]) { m in
            let src = m.pointer(input), dst = m.pointer(out)
            for n in 0..<input.batch {
                let y = op(Tensor(shape: image) { $0.baseAddress!.update(from: src + n * per, count: per) })
                y.withUnsafeBufferPointer { (dst + n * per).update(from: $0.baseAddress!, count: per) }
            }
        }
    }
}
