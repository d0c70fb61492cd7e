import ConvKit

/// Slow, obviously-correct references for the fast kernels: plain loops in Double over the definitions.
enum Reference {
    /// C = A·B for row-major A [m×k], B [k×n].
    static func matmul(_ a: [Float], _ b: [Float], m: Int, n: Int, k: Int) -> [Float] {
        var c = [Float](repeating: 0, count: m * n)
        for i in 0..<m { for j in 0..<n {
            var s = 0.0
            for p in 0..<k { s += Double(a[i * k + p]) * Double(b[p * n + j]) }
            c[i * n + j] = Float(s)
        } }
        return c
    }

    /// Direct 1/2/3-d convolution from the definition, zero padding by explicit amounts.
    static func conv(_ x: Tensor, _ w: Tensor, bias: Tensor?, stride st: [Int], padBefore: [Int], padAfter: [Int],
                     dilation: [Int], groups: Int) -> Tensor {
        let r = x.rank - 2
        let N = x.shape[0], Cin = x.shape[1], Cout = w.shape[0], cg = Cin / groups, mg = Cout / groups
        let S = Array(x.shape[2...]), Kr = Array(w.shape[2...])
        var O = [Int]()
        for d in 0..<r {
            let span: Int = S[d] + padBefore[d] + padAfter[d] - dilation[d] * (Kr[d] - 1) - 1
            O.append(span / st[d] + 1)
        }
        var out = Tensor.zeros([N, Cout] + O)
        let oCount = O.reduce(1, *), kCount = Kr.reduce(1, *)
        func unflat(_ i: Int, _ dims: [Int]) -> [Int] {
            var i = i; var res = [Int](repeating: 0, count: dims.count)
            for d in stride(from: dims.count - 1, through: 0, by: -1) { res[d] = i % dims[d]; i /= dims[d] }
            return res
        }
        for n in 0..<N { for o in 0..<Cout {
            let g = o / mg
            for op in 0..<oCount {
                let oi = unflat(op, O)
                var s = Double(bias?.scalars[o] ?? 0)
                for ci in 0..<cg { for kp in 0..<kCount {
                    let ki = unflat(kp, Kr)
                    var inside = true
                    var idx = [n, g * cg + ci]
                    for d in 0..<r {
                        let v = oi[d] * st[d] - padBefore[d] + ki[d] * dilation[d]
                        if v < 0 || v >= S[d] { inside = false }
                        idx.append(v)
                    }
                    if !inside { continue }
                    var xi = 0
                    for (d, v) in idx.enumerated() { xi = xi * x.shape[d] + v }
                    s += Double(x.scalars[xi]) * Double(w.scalars[(o * cg + ci) * kCount + kp])
                } }
                out.scalars[(n * Cout + o) * oCount + op] = Float(s)
            }
        } }
        return out
    }

    /// ∂L/∂W of `conv` (groups 1) from the definition: ∂L/∂W[o][c][k] = Σ_{n, pos} ∂L/∂y[n][o][pos] · x[n][c][pos·s + k·d − p].
    static func convWeightGradient(_ x: Tensor, gradOutput gy: Tensor, kernel Kr: [Int], stride st: [Int], padBefore: [Int],
                                   dilation: [Int]) -> Tensor {
        let r = x.rank - 2, N = x.shape[0], Cin = x.shape[1], Cout = gy.shape[1]
        let S = Array(x.shape[2...]), O = Array(gy.shape[2...])
        let oCount = O.reduce(1, *), kCount = Kr.reduce(1, *), sCount = S.reduce(1, *)
        func unflat(_ i: Int, _ dims: [Int]) -> [Int] {
            var i = i; var res = [Int](repeating: 0, count: dims.count)
            for d in stride(from: dims.count - 1, through: 0, by: -1) { res[d] = i % dims[d]; i /= dims[d] }
            return res
        }
        var out = Tensor.zeros([Cout, Cin] + Kr)
        for o in 0..<Cout { for c in 0..<Cin { for kp in 0..<kCount {
            let ki = unflat(kp, Kr)
            var s = 0.0
            for n in 0..<N { for op in 0..<oCount {
                let oi = unflat(op, O)
                var xi = 0, inside = true
                for d in 0..<r {
                    let v = oi[d] * st[d] - padBefore[d] + ki[d] * dilation[d]
                    if v < 0 || v >= S[d] { inside = false }
                    xi = xi * S[d] + v
                }
                if inside { s += Double(gy.scalars[(n * Cout + o) * oCount + op]) * Double(x.scalars[(n * Cin + c) * sCount + xi]) }
            } }
            out.scalars[(o * Cin + c) * kCount + kp] = Float(s)
        } } }
        return out
    }
}

/// Central finite differences of a scalar function of one tensor, in Double around Float points.
func numericGradient(_ x: Tensor, eps: Float = 1e-2, _ f: (Tensor) -> Double) -> Tensor {
    var g = Tensor.zeros(x.shape)
    var xp = x
    for i in 0..<x.count {
        let v = x.scalars[i]
        xp.scalars[i] = v + eps; let fp = f(xp)
        xp.scalars[i] = v - eps; let fm = f(xp)
        xp.scalars[i] = v
        g.scalars[i] = Float((fp - fm) / (2 * Double(eps)))
    }
    return g
}

/// Σ a·b in Double: the scalar loss L = ⟨y, r⟩ whose gradient w.r.t. y is r.
func dot(_ a: Tensor, _ b: Tensor) -> Double {
    zip(a.scalars, b.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
}

/// Relative error between two gradients, scaled by the larger norm.
func relativeError(_ a: Tensor, _ b: Tensor) -> Float {
    let diff = zip(a.scalars, b.scalars).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
    let scale = max(a.scalars.map { $0 * $0 }.reduce(0, +).squareRoot(), b.scalars.map { $0 * $0 }.reduce(0, +).squareRoot(), 1e-6)
    return diff / scale
}
