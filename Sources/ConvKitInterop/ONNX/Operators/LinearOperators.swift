import ConvKit

/// Gemm and MatMul.
enum ONNXLinear {
    /// Gemm: Y = α·A′·B′ + β·C with A′ = transA ? Aᵀ : A (2-D), C broadcast to [M, N].
    static func gemm(_ ctx: ONNXNodeContext) throws -> [ONNXValue] {
        var a = try ctx.float(0), b = try ctx.float(1), t = try ctx.floatType(0)
        let attr = ctx.attributes
        let alpha = try attr.float("alpha", default: 1), beta = try attr.float("beta", default: 1)
        let transA = try attr.int("transA", default: 0) != 0, transB = try attr.int("transB", default: 0) != 0
        try ctx.require(a.shape.count == 2 && b.shape.count == 2, "A and B must be 2-D, found \(a.shape) and \(b.shape)")
        let k = transA ? a.shape[0] : a.shape[1], k2 = transB ? b.shape[1] : b.shape[0]
        try ctx.require(k == k2, "inner extents differ: A\(transA ? "ᵀ" : "") \(a.shape) × B\(transB ? "ᵀ" : "") \(b.shape)")
        let m = transA ? a.shape[1] : a.shape[0], n = transB ? b.shape[0] : b.shape[1]
        _ = try ctx.checkSize([m, n])
        var c = ctx.optional(2) == nil ? nil : try ctx.float(2)
        if let cc = c { try ctx.require(ConvKit.broadcastShape(cc.shape, [m, n]) == [m, n], "C \(cc.shape) does not broadcast to [\(m), \(n)]") }
        if transA { a = a.transposed() }
        // The dense-layer form (x·Wᵀ + b) runs ConvKit's linear directly.
        if transB && alpha == 1 && (c == nil || beta == 1), c == nil || c!.shape == [n] || c!.shape == [1, n] {
            if let cc = c, cc.shape == [1, n] { c = cc.reshaped([n]) }
            return [.float(Functional.linear(a, weight: b, bias: c), t)]
        }
        if transB { b = b.transposed() }
        var y = Variable.matmul(a, b)
        if alpha != 1 { y = y * alpha }
        if let c { y = y + (beta == 1 ? c : c * beta) }
        t = t.isFloatingPoint ? t : .float
        return [.float(y, t)]
    }

    /// MatMul with NumPy semantics: 1-D operands are promoted (and the added axis removed), batch axes broadcast.
    static func matmul(_ ctx: ONNXNodeContext) throws -> [ONNXValue] {
        var a = try ctx.float(0), b = try ctx.float(1)
        try ctx.require(!a.shape.isEmpty && !b.shape.isEmpty, "operands must have rank ≥ 1, found \(a.shape) and \(b.shape)")
        let aVector = a.shape.count == 1, bVector = b.shape.count == 1
        if aVector { a = a.reshaped([1, a.shape[0]]) }
        if bVector { b = b.reshaped([b.shape[0], 1]) }
        let (ar, br) = (a.shape.count, b.shape.count)
        try ctx.require(a.shape[ar - 1] == b.shape[br - 2], "inner extents differ: \(a.shape) × \(b.shape)")
        let batch = try ONNXTensorHelpers.broadcastShape(ctx, Array(a.shape.dropLast(2)), Array(b.shape.dropLast(2)))
        _ = try ctx.checkSize(batch + [a.shape[ar - 2], b.shape[br - 1]])
        var y = Variable.matmul(a, b)
        var s = y.shape
        if bVector { s.removeLast() }
        if aVector { s.remove(at: s.count - (bVector ? 1 : 2)) }
        if s != y.shape { y = y.reshaped(s) }
        return [.float(y, try ctx.floatType(0))]
    }
}
