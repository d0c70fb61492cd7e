/// Shape and movement operations. `reshaped`, `squeezed`, `unsqueezed` share storage (O(1));
/// the others produce a new contiguous tensor.
extension Tensor {
    /// Same elements, new shape; one extent may be -1 (inferred).
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var s = newShape
        if let i = s.firstIndex(of: -1) {
            let known = s.enumerated().filter { $0.offset != i }.reduce(1) { $0 * $1.element }
            precondition(known > 0 && count % known == 0, "cannot reshape \(shape) to \(newShape)")
            s[i] = count / known
        }
        var t = self
        t.setShape(s)
        return t
    }

    /// Flattens axes from `startAxis` on into one: [N, C, H, W] → [N, C·H·W] for startAxis 1.
    public func flattened(from startAxis: Int = 1) -> Tensor {
        let a = axis(startAxis)
        return reshaped(Array(shape[..<a]) + [shape[a...].reduce(1, *)])
    }

    /// Removes axes of extent 1 (all of them, or only `axis`).
    public func squeezed(axis a: Int? = nil) -> Tensor {
        if let a {
            let ax = axis(a)
            precondition(shape[ax] == 1, "cannot squeeze axis \(a) of extent \(shape[ax])")
            var s = shape; s.remove(at: ax); return reshaped(s)
        }
        return reshaped(shape.filter { $0 != 1 })
    }

    /// Inserts an axis of extent 1 at `axis` (0...rank; negative counts from rank+1).
    public func unsqueezed(axis a: Int) -> Tensor {
        let ax = a < 0 ? a + rank + 1 : a
        precondition(ax >= 0 && ax <= rank, "axis \(a) out of range for unsqueeze of rank \(rank)")
        var s = shape; s.insert(1, at: ax); return reshaped(s)
    }

    /// Reorders axes: result axis i is input axis `order[i]`.
    public func permuted(_ order: [Int]) -> Tensor {
        let ord = order.map(axis)
        precondition(Set(ord).count == rank && ord.count == rank, "\(order) is not a permutation of \(rank) axes")
        if ord == Array(0..<rank) { return self }
        let newShape = ord.map { shape[$0] }
        let src = strides
        let srcStrides = ord.map { src[$0] }
        return gather(shape: newShape, strides: srcStrides, offset: 0)
    }

    /// Swaps two axes (default: the last two).
    public func transposed(_ a: Int = -2, _ b: Int = -1) -> Tensor {
        var ord = Array(0..<rank)
        ord.swapAt(axis(a), axis(b))
        return permuted(ord)
    }

    /// Copies out the elements at `offset + Σ index[i]·strides[i]` for every index of `shape`.
    func gather(shape newShape: [Int], strides st: [Int], offset: Int) -> Tensor {
        Tensor(shape: newShape) { o in
            scalars.withUnsafeBufferPointer { p in
                let r = newShape.count
                if o.count == 0 { return }
                if r == 0 { o[0] = p[offset]; return }
                var idx = [Int](repeating: 0, count: r)
                var src = offset
                let n = newShape[r - 1], ls = st[r - 1]
                var i = 0
                while i < o.count {
                    var s = src
                    if ls == 1 { for j in 0..<n { o[i + j] = p[s + j] } } else { for j in 0..<n { o[i + j] = p[s]; s += ls } }
                    i += n
                    var d = r - 2
                    while d >= 0 {
                        idx[d] += 1; src += st[d]
                        if idx[d] < newShape[d] { break }
                        src -= st[d] * newShape[d]; idx[d] = 0; d -= 1
                    }
                }
            }
        }
    }

    /// Repeats axes of extent 1 (and prepends axes) to reach `target`, NumPy broadcasting rules.
    public func broadcast(to target: [Int]) -> Tensor {
        if target == shape { return self }
        guard let s = broadcastShape(shape, target), s == target else {
            preconditionFailure("cannot broadcast \(shape) to \(target)")
        }
        return gather(shape: target, strides: broadcastStrides(to: target), offset: 0)
    }

    /// Elements `range` along `axis`, with a step.
    public func slice(axis a: Int, _ range: Range<Int>, step: Int = 1) -> Tensor {
        let ax = axis(a)
        precondition(range.lowerBound >= 0 && range.upperBound <= shape[ax] && step > 0,
                     "slice \(range) step \(step) out of bounds for extent \(shape[ax])")
        var s = shape
        s[ax] = (range.count + step - 1) / step
        var st = strides
        let off = range.lowerBound * st[ax]
        st[ax] *= step
        return gather(shape: s, strides: st, offset: off)
    }

    /// Joins tensors along `axis`; all other extents must agree.
    public static func concatenate(_ ts: [Tensor], axis a: Int) -> Tensor {
        precondition(!ts.isEmpty, "concatenate of no tensors")
        let ax = ts[0].axis(a)
        var shape = ts[0].shape
        for t in ts.dropFirst() {
            precondition(t.rank == shape.count && (0..<t.rank).allSatisfy { $0 == ax || t.shape[$0] == shape[$0] },
                         "cannot concatenate \(t.shape) with \(shape) along axis \(ax)")
        }
        shape[ax] = ts.reduce(0) { $0 + $1.shape[ax] }
        let outer = shape[..<ax].reduce(1, *), inner = shape[(ax + 1)...].reduce(1, *)
        return Tensor(shape: shape) { o in
            var dst = 0
            for i in 0..<outer {
                for t in ts {
                    let n = t.shape[ax] * inner
                    t.scalars.withUnsafeBufferPointer { p in
                        for j in 0..<n { o[dst + j] = p[i * n + j] }
                    }
                    dst += n
                }
            }
        }
    }

    /// Stacks same-shaped tensors along a new axis.
    public static func stack(_ ts: [Tensor], axis a: Int = 0) -> Tensor {
        concatenate(ts.map { $0.unsqueezed(axis: a) }, axis: a)
    }

    /// Splits along `axis` into pieces of the given sizes (which must add up to the extent).
    public func split(sizes: [Int], axis a: Int) -> [Tensor] {
        let ax = axis(a)
        precondition(sizes.reduce(0, +) == shape[ax], "split sizes \(sizes) do not add up to \(shape[ax])")
        var start = 0
        return sizes.map { n in defer { start += n }; return slice(axis: ax, start..<start + n) }
    }
}
