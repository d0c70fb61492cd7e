/// Movement ops on Variables: the gradient is the inverse movement.
extension Variable {
    public func reshaped(_ s: [Int]) -> Variable {
        let inShape = shape
        return Variable(value.reshaped(s), parents: [self], label: "reshape") { g in [g.reshaped(inShape)] }
    }
    /// [N, …] → [N, Π…] (from `startAxis`).
    public func flattened(from startAxis: Int = 1) -> Variable {
        let inShape = shape
        let v = Variable(value.flattened(from: startAxis), parents: [self], label: "flatten") { g in [g.reshaped(inShape)] }
        Tracer.annotate(v, ["startAxis": startAxis < 0 ? startAxis + inShape.count : startAxis]); return v
    }
    public func permuted(_ order: [Int]) -> Variable {
        var inverse = [Int](repeating: 0, count: order.count)
        for (i, o) in order.enumerated() { inverse[o < 0 ? o + order.count : o] = i }
        let v = Variable(value.permuted(order), parents: [self], label: "permute") { g in [g.permuted(inverse)] }
        Tracer.annotate(v, ["order": order.map { $0 < 0 ? $0 + order.count : $0 }]); return v
    }
    public func transposed(_ a: Int = -2, _ b: Int = -1) -> Variable {
        var ord = Array(0..<shape.count)
        ord.swapAt(a < 0 ? a + shape.count : a, b < 0 ? b + shape.count : b)
        return permuted(ord)
    }
    /// Elements `range` along `axis`.
    public func slice(axis: Int, _ range: Range<Int>) -> Variable {
        let inShape = shape, ax = axis < 0 ? axis + shape.count : axis
        let v = Variable(value.slice(axis: ax, range), parents: [self], label: "slice") { g in
            var pads = [(Int, Int)](repeating: (0, 0), count: inShape.count)
            pads[ax] = (range.lowerBound, inShape[ax] - range.upperBound)
            return [g.padded(pads)]
        }
        Tracer.annotate(v, ["axis": ax, "start": range.lowerBound, "end": range.upperBound]); return v
    }
    /// Joins variables along `axis` (Inception's and U-Net's channel concatenation: axis 1).
    public static func concatenate(_ vs: [Variable], axis: Int) -> Variable {
        let ax = axis < 0 ? axis + vs[0].shape.count : axis
        let sizes = vs.map { $0.shape[ax] }
        let v = Variable(Tensor.concatenate(vs.map(\.value), axis: ax), parents: vs, label: "concat") { g in
            g.split(sizes: sizes, axis: ax).map { Optional($0) }
        }
        Tracer.annotate(v, ["axis": ax]); return v
    }
    /// Splits along `axis` into pieces of the given sizes.
    public func split(sizes: [Int], axis: Int) -> [Variable] {
        var start = 0
        return sizes.map { n in defer { start += n }; return slice(axis: axis, start..<start + n) }
    }
    /// Pads with a constant, reflection or replication per axis (amounts for trailing axes).
    public func padded(_ amounts: [(Int, Int)], mode: PaddingMode = .constant(0)) -> Variable {
        let inShape = shape
        let pads = [(Int, Int)](repeating: (0, 0), count: inShape.count - amounts.count) + amounts
        let v = Variable(value.padded(amounts, mode: mode), parents: [self], label: "pad") { g in
            switch mode {
            case .constant:
                var t = g
                for (d, p) in pads.enumerated() where p != (0, 0) { t = t.slice(axis: d, p.0..<p.0 + inShape[d]) }
                return [t]
            case .reflect, .replicate:
                precondition(inShape.count >= 2 && pads[0] == (0, 0) && pads[1] == (0, 0), "reflect/replicate gradients need [N, C, …] with spatial padding only")
                return [unpadGradient(g, before: pads[2...].map(\.0), after: pads[2...].map(\.1), fill: mode == .reflect ? .reflect : .replicate)]
            }
        }
        Tracer.annotate(v, ["before": pads.map(\.0), "after": pads.map(\.1), "mode": mode]); return v
    }
}
