/// Reductions along axes. `keepingDims` keeps reduced axes with extent 1 (for broadcasting back).
extension Tensor {
    /// Views the tensor as [outer, n, inner] around `axis` and reduces the middle with `f`.
    func reduce(axis a: Int, keepingDims: Bool, initial: Float, _ f: (Float, Float) -> Float) -> Tensor {
        let ax = axis(a)
        let outer = shape[..<ax].reduce(1, *), n = shape[ax], inner = shape[(ax + 1)...].reduce(1, *)
        var s = shape
        if keepingDims { s[ax] = 1 } else { s.remove(at: ax) }
        return Tensor(shape: s) { o in
            scalars.withUnsafeBufferPointer { p in
                for i in 0..<outer {
                    for j in 0..<inner { o[i * inner + j] = initial }
                    for k in 0..<n {
                        let base = (i * n + k) * inner
                        for j in 0..<inner { o[i * inner + j] = f(o[i * inner + j], p[base + j]) }
                    }
                }
            }
        }
    }

    private func reduceAll(_ axes: [Int]?, keepingDims: Bool, initial: Float, _ f: (Float, Float) -> Float) -> Tensor {
        let list = (axes ?? Array(0..<rank)).map(axis).sorted(by: >)
        var t = self
        for a in list { t = t.reduce(axis: a, keepingDims: keepingDims, initial: initial, f) }
        return t
    }

    /// Sum over `axes` (all when nil).
    public func sum(axes: [Int]? = nil, keepingDims: Bool = false) -> Tensor {
        if axes == nil && !keepingDims { return Tensor(scalars.reduce(0, +)) }
        return reduceAll(axes, keepingDims: keepingDims, initial: 0, +)
    }

    /// Mean over `axes` (all when nil).
    public func mean(axes: [Int]? = nil, keepingDims: Bool = false) -> Tensor {
        let n = (axes ?? Array(0..<rank)).map { shape[axis($0)] }.reduce(1, *)
        return sum(axes: axes, keepingDims: keepingDims) / Float(Swift.max(n, 1))
    }

    public func max(axes: [Int]? = nil, keepingDims: Bool = false) -> Tensor {
        reduceAll(axes, keepingDims: keepingDims, initial: -.infinity) { Swift.max($0, $1) }
    }

    public func min(axes: [Int]? = nil, keepingDims: Bool = false) -> Tensor {
        reduceAll(axes, keepingDims: keepingDims, initial: .infinity) { Swift.min($0, $1) }
    }

    /// Population variance (divide by n), or sample variance with `unbiased` (divide by n-1).
    public func variance(axes: [Int]? = nil, keepingDims: Bool = false, unbiased: Bool = false) -> Tensor {
        let n = (axes ?? Array(0..<rank)).map { shape[axis($0)] }.reduce(1, *)
        let mu = mean(axes: axes, keepingDims: true)
        let ss = (self - mu).squared().sum(axes: axes, keepingDims: keepingDims)
        return ss / Float(Swift.max(unbiased ? n - 1 : n, 1))
    }

    /// Index of the largest element along `axis` (first one on ties); shape without that axis.
    public func argmax(axis a: Int) -> [Int] {
        let ax = axis(a)
        let outer = shape[..<ax].reduce(1, *), n = shape[ax], inner = shape[(ax + 1)...].reduce(1, *)
        var out = [Int](repeating: 0, count: outer * inner)
        for i in 0..<outer {
            for j in 0..<inner {
                var best = -Float.infinity, arg = 0
                for k in 0..<n {
                    let v = scalars[(i * n + k) * inner + j]
                    if v > best || (k == 0) { best = v; arg = k }
                }
                out[i * inner + j] = arg
            }
        }
        return out
    }

    /// Index of the smallest element along `axis`.
    public func argmin(axis a: Int) -> [Int] { (-self).argmax(axis: a) }

    /// Sums `self` down to `target` shape: the adjoint of broadcasting (used by gradients).
    public func sumToShape(_ target: [Int]) -> Tensor {
        if shape == target { return self }
        var t = self
        while t.rank > target.count { t = t.sum(axes: [0]) }
        for d in 0..<target.count where target[d] == 1 && t.shape[d] != 1 {
            t = t.sum(axes: [d], keepingDims: true)
        }
        return t.reshaped(target)
    }
}
