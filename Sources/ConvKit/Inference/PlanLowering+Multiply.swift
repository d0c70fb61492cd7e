import CConvKernels

extension PlanLowering {
    /// a ⊙ b for two values of one shape, or a map [N, C, spatial…] scaled per channel by [N, C, 1, …, 1] (either
    /// order: a squeeze-and-excitation gate). Blocked whenever either side is (the gate always is).
    func lowerMultiply(_ node: Node) throws {
        guard node.inputs.count == 2 else { throw InferencePlanError(op: "mul", reason: "of \(node.inputs.count) operands") }
        let (sa, sb) = (shape(node.inputs[0]), shape(node.inputs[1]))
        if sa == sb {
            var a = try value(node.inputs[0]), b = try value(node.inputs[1])
            if a.layout != b.layout { a = try blocked(a); b = try blocked(b) }
            let out = PlanValue(shape: sa, layout: a.layout)
            values[ObjectIdentifier(node.output)] = out
            let per = PlanValue.elementsPerImage(sa, a.layout)
            append("mul \(sa)", reads: [a, b], writes: [out]) { m in
                let pa = m.pointer(a), pb = m.pointer(b), po = m.pointer(out)
                for n in 0..<a.batch {
                    let x = pa + n * a.imageStride, y = pb + n * b.imageStride, z = po + n * out.imageStride
                    let vectors = per / 16
                    Parallel.forRanges(vectors, minChunk: 1024) { r in
                        ck_blocked_mul(x + r.lowerBound * 16, y + r.lowerBound * 16, r.count, 0, z + r.lowerBound * 16)
                    }
                    for k in (vectors * 16)..<per { z[k] = x[k] * y[k] }
                }
            }
            return
        }
        let isGate = { (s: [Int], map: [Int]) in
            s.count == map.count && s.count >= 3 && s[..<2] == map[..<2] && s[2...].allSatisfy { $0 == 1 }
        }
        let (mapIndex, gateIndex) = isGate(sb, sa) ? (0, 1) : (isGate(sa, sb) ? (1, 0) : (-1, -1))
        guard mapIndex >= 0 else { throw InferencePlanError(op: "mul", reason: "with broadcasting (\(sa) × \(sb))") }
        let map = try blocked(value(node.inputs[mapIndex])), gate = try blocked(value(node.inputs[gateIndex]))
        let out = PlanValue(shape: map.shape, layout: .blocked)
        values[ObjectIdentifier(node.output)] = out
        let (p, cb) = (map.positions, map.blocks)
        append("mul \(map.shape) by channel \(gate.shape)", reads: [map, gate], writes: [out]) { m in
            let pm = m.pointer(map), pg = m.pointer(gate), po = m.pointer(out)
            Parallel.forEach(map.batch * cb) { t in
                let n = t / cb, k = t % cb
                ck_blocked_mul(pm + n * map.imageStride + k * p * 16, pg + n * gate.imageStride + k * 16, p, p,
                               po + n * out.imageStride + k * p * 16)
            }
        }
    }
}
