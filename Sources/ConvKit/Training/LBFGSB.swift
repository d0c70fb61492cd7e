import Foundation

/// L-BFGS-B (Byrd, Lu, Nocedal and Zhu 1995): limited-memory BFGS under box constraints l ≤ x ≤ u. Each iteration
///  1. finds the generalized Cauchy point x^c — the first minimizer of the quadratic model
///     m(x) = f + gᵀ(x − x_k) + ½(x − x_k)ᵀB(x − x_k) along the projected steepest-descent path
///     P(x_k − t·g, l, u), visiting the breakpoints where variables reach their bounds in order;
///  2. minimizes m over the variables still free at x^c (the direct primal method, Sherman–Morrison–Woodbury
///     on the compact form B = θI − W·M·Wᵀ, W = [Y θS], M = [[−D, Lᵀ], [L, θSᵀS]]⁻¹), truncated to the box;
///  3. searches along d = x̄ − x_k with a strong Wolfe line search limited to the feasible step.
/// Every iterate stays inside the box by construction: no clamping of x, so the quasi-Newton pairs describe the
/// function that is actually minimized (clamping inside the loop breaks them).
public struct LBFGSB {
    public var memory = 10
    public var maxIterations = 100
    public var maxEvaluations = 1000
    /// Stops when the projected gradient ‖P(x − g) − x‖∞ is at most this.
    public var gradientTolerance = 1e-5
    public var functionTolerance = 1e-12

    public init(memory: Int = 10, maxIterations: Int = 100) {
        self.memory = max(1, memory); self.maxIterations = max(0, maxIterations)
    }

    /// Minimizes `f` over the box `lower…upper` (one bound per variable; ±infinity for none) from `x0`, which is
    /// first projected into the box.
    public func minimize(_ f: Objective, from x0: [Double], lower: [Double], upper: [Double],
                         progress: ((Int, Double) -> Void)? = nil) -> MinimizationResult {
        precondition(lower.count == x0.count && upper.count == x0.count && zip(lower, upper).allSatisfy { $0 <= $1 },
                     "L-BFGS-B needs one bound pair per variable with lower ≤ upper")
        let n = x0.count
        var x = (0..<n).map { min(max(x0[$0], lower[$0]), upper[$0]) }
        var g = [Double](repeating: 0, count: n)
        var value = f(x, &g)
        var evaluations = 1
        var memo = CompactMemory(capacity: memory)
        var history = [value]
        var iteration = 0
        let search = StrongWolfeSearch()
        func stop(_ reason: MinimizationStop) -> MinimizationResult {
            MinimizationResult(x: x, value: value, iterations: iteration, evaluations: evaluations, stop: reason, history: history)
        }
        let project: (inout [Double]) -> Void = { v in for i in v.indices { v[i] = min(max(v[i], lower[i]), upper[i]) } }

        while true {
            var projected = 0.0
            for i in 0..<n { projected = max(projected, abs(min(max(x[i] - g[i], lower[i]), upper[i]) - x[i])) }
            if projected <= gradientTolerance { return stop(.gradient) }
            if iteration >= maxIterations { return stop(.iterations) }
            if evaluations >= maxEvaluations { return stop(.evaluations) }

            let m = memo.middleMatrix()
            let (cauchy, c) = cauchyPoint(x: x, g: g, lower: lower, upper: upper, memory: memo, m: m)
            var target = subspaceMinimum(x: x, g: g, cauchy: cauchy, c: c, lower: lower, upper: upper, memory: memo, m: m)
            var d = (0..<n).map { target[$0] - x[$0] }
            if dotProduct(d, g) >= 0 && memo.count > 0 {
                // The model lost positive curvature information: restart from steepest descent.
                memo = CompactMemory(capacity: memory)
                target = cauchyPoint(x: x, g: g, lower: lower, upper: upper, memory: memo, m: []).0
                d = (0..<n).map { target[$0] - x[$0] }
            }
            var maxStep = 1e10
            for i in 0..<n where d[i] != 0 {
                let room = d[i] > 0 ? (upper[i] - x[i]) / d[i] : (lower[i] - x[i]) / d[i]
                maxStep = min(maxStep, room)
            }
            maxStep = max(maxStep, 1)  // x̄ itself is feasible
            let norm = dotProduct(d, d).squareRoot()
            let first = memo.count == 0 && iteration == 0 ? min(1, 1 / max(norm, 1e-300)) : 1
            guard var t = search.search(f, x: x, f0: value, g0: g, direction: d, initialStep: first, maxStep: maxStep,
                                        evaluations: &evaluations, project: project) else { return stop(.lineSearch) }
            project(&t.x)
            let sk = (0..<n).map { t.x[$0] - x[$0] }, yk = (0..<n).map { t.gradient[$0] - g[$0] }
            memo.append(s: sk, y: yk)
            let previous = value
            x = t.x; g = t.gradient; value = t.value
            iteration += 1
            history.append(value)
            progress?(iteration, value)
            if (previous - value) / max(abs(previous), abs(value), 1) <= functionTolerance { return stop(.function) }
        }
    }

    /// Algorithm CP of the paper. Returns x^c and c = Wᵀ(x^c − x).
    func cauchyPoint(x: [Double], g: [Double], lower: [Double], upper: [Double], memory w: CompactMemory,
                     m: [[Double]]) -> ([Double], [Double]) {
        let n = x.count, k2 = 2 * w.count, theta = w.theta
        var t = [Double](repeating: .infinity, count: n), d = [Double](repeating: 0, count: n)
        for i in 0..<n {
            if g[i] < 0 { t[i] = upper[i].isInfinite ? .infinity : (x[i] - upper[i]) / g[i] }
            else if g[i] > 0 { t[i] = lower[i].isInfinite ? .infinity : (x[i] - lower[i]) / g[i] }
            else { t[i] = .infinity }
            d[i] = t[i] == 0 ? 0 : -g[i]
        }
        var xc = x
        var p = w.transposedTimes(d)
        var c = [Double](repeating: 0, count: k2)
        var fp = -dotProduct(d, d)
        if fp == 0 { return (xc, c) }
        var mp = multiply(m, p)
        var fpp = -theta * fp - dotProduct(p, mp)
        let fppFloor = 1e-14 * abs(fpp)
        var dtMin = -fp / fpp
        var tOld = 0.0
        var breakpoints = [(Double, Int)]()
        for i in 0..<n where t[i] > 0 && t[i].isFinite { breakpoints.append((t[i], i)) }
        breakpoints.sort { $0.0 < $1.0 }
        var mc = [Double](repeating: 0, count: k2)
        var wb = [Double](repeating: 0, count: k2)
        for (tb, b) in breakpoints {
            let dt = tb - tOld
            if dtMin < dt { break }
            xc[b] = d[b] > 0 ? upper[b] : lower[b]
            let zb = xc[b] - x[b], gb = g[b]
            w.row(b, into: &wb)
            let mwb = multiply(m, wb)
            for j in 0..<k2 { c[j] += dt * p[j]; mc[j] += dt * mp[j] }
            fp += dt * fpp + gb * gb + theta * gb * zb - gb * dotProduct(wb, mc)
            fpp += -theta * gb * gb - 2 * gb * dotProduct(wb, mp) - gb * gb * dotProduct(wb, mwb)
            fpp = max(fpp, fppFloor)
            for j in 0..<k2 { p[j] += gb * wb[j]; mp[j] += gb * mwb[j] }
            d[b] = 0
            dtMin = -fp / fpp
            tOld = tb
        }
        dtMin = max(dtMin, 0)
        tOld += dtMin
        for i in 0..<n where d[i] != 0 { xc[i] = min(max(x[i] + tOld * d[i], lower[i]), upper[i]) }
        for j in 0..<k2 { c[j] += dtMin * p[j] }
        return (xc, c)
    }

    /// The direct primal method (section 5.1): minimizes the model over the variables free at x^c, then steps
    /// back along that direction to stay in the box. The columns of W are gathered over the free variables
    /// once (V_a = W[:, a] restricted to F), so every product is a contiguous dot product or axpy.
    func subspaceMinimum(x: [Double], g: [Double], cauchy xc: [Double], c: [Double], lower: [Double], upper: [Double],
                         memory w: CompactMemory, m: [[Double]]) -> [Double] {
        let n = x.count, k2 = 2 * w.count, theta = w.theta
        let free = (0..<n).filter { xc[$0] > lower[$0] && xc[$0] < upper[$0] }
        if free.isEmpty { return xc }
        let nf = free.count
        let columns: [[Double]] = w.y.map { y in free.map { y[$0] } } + w.s.map { s in free.map { theta * s[$0] } }
        let mc = multiply(m, c)
        // r = Zᵀ(g + θ(x^c − x) − W·M·c)
        var r = free.map { g[$0] + theta * (xc[$0] - x[$0]) }
        for a in 0..<k2 where mc[a] != 0 { axpy(-mc[a], columns[a], &r) }
        var v = multiply(m, columns.map { dotProduct($0, r) })
        if k2 > 0 {
            var wtzzw = [[Double]](repeating: [Double](repeating: 0, count: k2), count: k2)
            for a in 0..<k2 { for b in 0...a { let d = dotProduct(columns[a], columns[b]); wtzzw[a][b] = d; wtzzw[b][a] = d } }
            // N = I − (1/θ)·M·WᵀZZᵀW; v ← N⁻¹·M·WᵀZr
            let nMatrix = (0..<k2).map { j in (0..<k2).map { l in
                (j == l ? 1 : 0) - (0..<k2).reduce(0.0) { $0 + m[j][$1] * wtzzw[$1][l] } / theta
            } }
            guard let solved = solveLinear(nMatrix, v) else { return xc }
            v = solved
        }
        // d^u = −r/θ − Zᵀ·W·v/θ²
        var du = r.map { -$0 / theta }
        for a in 0..<k2 where v[a] != 0 { axpy(-v[a] / (theta * theta), columns[a], &du) }
        var alpha = 1.0
        for a in 0..<nf where du[a] != 0 {
            let i = free[a]
            alpha = min(alpha, du[a] > 0 ? (upper[i] - xc[i]) / du[a] : (lower[i] - xc[i]) / du[a])
        }
        var target = xc
        for a in 0..<nf { let i = free[a]; target[i] = min(max(xc[i] + alpha * du[a], lower[i]), upper[i]) }
        return target
    }
}

/// y ← y + a·x.
private func axpy(_ a: Double, _ x: [Double], _ y: inout [Double]) {
    x.withUnsafeBufferPointer { px in y.withUnsafeMutableBufferPointer { py in for i in 0..<py.count { py[i] += a * px[i] } } }
}

/// The last pairs (s, y) and what the compact representation needs from them: SᵀY, SᵀS and θ = yᵀy/sᵀy.
struct CompactMemory {
    let capacity: Int
    var s = [[Double]](), y = [[Double]]()
    /// sy[i][j] = s_iᵀy_j, ss[i][j] = s_iᵀs_j.
    var sy = [[Double]](), ss = [[Double]]()
    var theta = 1.0
    var count: Int { s.count }

    init(capacity: Int) { self.capacity = capacity }

    /// Keeps the pair when sᵀy > ε·yᵀy (curvature), dropping the oldest beyond capacity.
    mutating func append(s sk: [Double], y yk: [Double]) {
        let sTy = dotProduct(sk, yk), yTy = dotProduct(yk, yk)
        guard sTy > 2.2e-16 * yTy, sTy > 0 else { return }
        if count == capacity {
            s.removeFirst(); y.removeFirst()
            sy.removeFirst(); ss.removeFirst()
            for i in sy.indices { sy[i].removeFirst(); ss[i].removeFirst() }
        }
        s.append(sk); y.append(yk)
        let k = count
        for i in 0..<(k - 1) { sy[i].append(dotProduct(s[i], yk)); ss[i].append(dotProduct(s[i], sk)) }
        sy.append((0..<k).map { dotProduct(sk, y[$0]) })
        ss.append((0..<k).map { dotProduct(sk, s[$0]) })
        theta = yTy / sTy
    }

    /// Row i of W = [Y θS]: (y_0[i] … y_{k−1}[i], θs_0[i] … θs_{k−1}[i]), written into `out` (2k elements).
    func row(_ i: Int, into out: inout [Double]) {
        let k = count
        for j in 0..<k { out[j] = y[j][i]; out[k + j] = theta * s[j][i] }
    }

    /// Wᵀv.
    func transposedTimes(_ v: [Double]) -> [Double] { y.map { dotProduct($0, v) } + s.map { theta * dotProduct($0, v) } }

    /// M = [[−D, Lᵀ], [L, θSᵀS]]⁻¹ (2k × 2k), with D = diag(s_iᵀy_i) and L the strictly lower part of SᵀY.
    func middleMatrix() -> [[Double]] {
        let k = count
        if k == 0 { return [] }
        var a = [[Double]](repeating: [Double](repeating: 0, count: 2 * k), count: 2 * k)
        for i in 0..<k {
            a[i][i] = -sy[i][i]
            for j in 0..<k {
                if i > j { a[k + i][j] = sy[i][j]; a[j][k + i] = sy[i][j] }
                a[k + i][k + j] = theta * ss[i][j]
            }
        }
        return invert(a) ?? []
    }
}

private func multiply(_ m: [[Double]], _ v: [Double]) -> [Double] {
    if m.isEmpty { return [Double](repeating: 0, count: v.count) }
    return m.map { dotProduct($0, v) }
}

/// Gaussian elimination with partial pivoting; nil when singular.
private func solveLinear(_ a: [[Double]], _ b: [Double]) -> [Double]? {
    let n = b.count
    var a = a, b = b
    for col in 0..<n {
        guard let pivot = (col..<n).max(by: { abs(a[$0][col]) < abs(a[$1][col]) }), abs(a[pivot][col]) > 1e-300 else { return nil }
        a.swapAt(col, pivot); b.swapAt(col, pivot)
        for r in (col + 1)..<n where a[r][col] != 0 {
            let f = a[r][col] / a[col][col]
            for c in col..<n { a[r][c] -= f * a[col][c] }
            b[r] -= f * b[col]
        }
    }
    var x = [Double](repeating: 0, count: n)
    for r in (0..<n).reversed() {
        var s = b[r]
        for c in (r + 1)..<n { s -= a[r][c] * x[c] }
        x[r] = s / a[r][r]
    }
    return x
}

private func invert(_ a: [[Double]]) -> [[Double]]? {
    let n = a.count
    var columns = [[Double]]()
    for j in 0..<n {
        guard let col = solveLinear(a, (0..<n).map { $0 == j ? 1 : 0 }) else { return nil }
        columns.append(col)
    }
    return (0..<n).map { i in (0..<n).map { columns[$0][i] } }
}
