extension PlanLowering {
    /// Concatenations along channels of blocked maps whose parts, but the last, hold whole 16-channel blocks are
    /// written in place: each part that only the concatenation reads gets a view into the whole value, and the
    /// step that produces the part writes there (GoogLeNet's inception branches). Run before lowering.
    func planConcatenations() {
        for (i, node) in graph.nodes.enumerated() where node.op == "concat" {
            guard node.attributes["axis"] as? Int == 1, shape(node.output).count > 2,
                  node.inputs.dropLast().allSatisfy({ shape($0)[1] % BlockedLayout.lanes == 0 }) else { continue }
            let whole = PlanValue(shape: shape(node.output), layout: .blocked)
            concatWholes[i] = whole
            var block = 0
            for part in node.inputs {
                let once = node.inputs.filter { $0 === part }.count == 1
                if once, soleReader(part) == i, part !== graph.input {
                    concatParts[ObjectIdentifier(part)] = (whole, block)
                }
                block += BlockedLayout.blocks(shape(part)[1])
            }
        }
    }

    /// The concatenation's value: parts written in place need nothing; others are copied block by block (or, for
    /// concatenations that are not of whole blocks, through the plain layout).
    func lowerConcatenation(_ i: Int) throws {
        let node = graph.nodes[i]
        guard let axis = node.attributes["axis"] as? Int else {
            throw InferencePlanError(op: "concat", reason: "was captured without its axis")
        }
        guard let whole = concatWholes[i] else {
            try lowerPlainConcatenation(node, axis: axis)
            return
        }
        values[ObjectIdentifier(node.output)] = whole
        var block = 0
        for part in node.inputs {
            let pv = try blocked(value(part))
            let offset = whole.offset + block * whole.positions * BlockedLayout.lanes
            block += pv.blocks
            if pv.buffer === whole.buffer && pv.offset == offset { continue }
            let count = pv.blocks * pv.positions * BlockedLayout.lanes
            append("copy \(pv.shape) into concatenation \(whole.shape)", reads: [pv], writes: [whole]) { m in
                let src = m.pointer(pv), dst = m.pointer(whole) + (offset - whole.offset)
                for n in 0..<pv.batch {
                    (dst + n * whole.imageStride).update(from: src + n * pv.imageStride, count: count)
                }
            }
        }
    }

    /// Any other concatenation: the parts in the plain layout, copied slab by slab.
    private func lowerPlainConcatenation(_ node: Node, axis: Int) throws {
        let parts = try node.inputs.map { try plain(value($0)) }
        let shape = self.shape(node.output)
        let out = PlanValue(shape: shape, layout: .plain)
        values[ObjectIdentifier(node.output)] = out
        let outer = shape[..<axis].reduce(1, *), inner = shape[(axis + 1)...].reduce(1, *)
        guard parts.allSatisfy({ $0.imageStride == PlanValue.elementsPerImage($0.shape, .plain) }) else {
            throw InferencePlanError(op: "concat", reason: "of views into other concatenations")
        }
        append("concatenate \(parts.map(\.shape)) along \(axis)", reads: parts, writes: [out]) { m in
            let dst = m.pointer(out)
            var offset = 0
            for p in parts {
                let slab = p.shape[axis] * inner, src = m.pointer(p)
                for o in 0..<outer { (dst + o * shape[axis] * inner + offset).update(from: src + o * slab, count: slab) }
                offset += slab
            }
        }
    }
}
