import CConvKernels

extension PlanLowering {
    /// An activation on its own: a clamp (ReLU, ReLU6) in place when nothing else reads its input, any other
    /// activation through the Tensor implementation (elementwise, so in either layout).
    func lowerActivation(_ node: Node) throws {
        guard let a = node.attributes["activation"] as? Activation else {
            throw InferencePlanError(op: "activation", reason: "was captured without its function")
        }
        let input = try value(node.inputs[0])
        let inPlace = soleReader(node.inputs[0]) != nil && !input.buffer.isInput && holders(of: input.buffer) == 1
        let out = inPlace ? input : PlanValue(shape: input.shape, layout: input.layout)
        values[ObjectIdentifier(node.output)] = out
        let count = input.batch * input.imageStride
        guard input.imageStride == PlanValue.elementsPerImage(input.shape, input.layout) else {
            throw InferencePlanError(op: "activation", reason: "on a view into a concatenation")
        }
        if let range = a.clampRange {
            append("clamp[\(range.lower), \(range.upper)] \(input.shape)", reads: [input], writes: [out]) { m in
                let src = m.pointer(input), dst = m.pointer(out)
                Parallel.forRanges(count, align: 16, minChunk: 16_384) { r in
                    if src != dst { (dst + r.lowerBound).update(from: src + r.lowerBound, count: r.count) }
                    ck_conv_epilogue(dst + r.lowerBound, 1, Int32(r.count), r.count, nil, nil, 0, range.lower, range.upper)
                }
            }
            return
        }
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

    /// [N, C, spatial…] → the mean of each channel, kept blocked (its shape is the output's: [N, C] or [N, C, 1, 1]).
    func lowerGlobalAverage(_ x: Variable, _ output: Variable) throws {
        let input = try blocked(value(x))
        let out = PlanValue(shape: shape(output), layout: .blocked)
        values[ObjectIdentifier(output)] = out
        let (p, cb) = (input.positions, input.blocks)
        append("global average \(input.shape) → \(shape(output))", reads: [input], writes: [out]) { m in
            let src = m.pointer(input), dst = m.pointer(out)
            Parallel.forEach(input.batch) { n in
                ck_blocked_global_average(src + n * input.imageStride, p, 0, Int32(cb), dst + n * out.imageStride)
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
}
