import Foundation

/// Why a quasi-Newton minimization stopped.
public enum MinimizationStop: String, Sendable {
    /// ‖projected gradient‖∞ ≤ gradientTolerance.
    case gradient
    /// (f_k − f_{k+1}) / max(|f_k|, |f_{k+1}|, 1) ≤ functionTolerance.
    case function
    case iterations
    case evaluations
    /// The line search found no decrease along the direction (at machine precision, or a bad objective).
    case lineSearch
}

/// The outcome of `LBFGS.minimize` / `LBFGSB.minimize`.
public struct MinimizationResult: Sendable {
    public var x: [Double]
    public var value: Double
    public var iterations: Int
    public var evaluations: Int
    public var stop: MinimizationStop
    /// f after each iteration (the first entry is f(x₀)).
    public var history: [Double]
}

/// Limited-memory BFGS (Nocedal 1980; Liu & Nocedal 1989) for unconstrained minimization: the direction
/// d = −H·g from the two-loop recursion over the last `memory` pairs s = x_{k+1} − x_k, y = g_{k+1} − g_k with
/// H₀ = (sᵀy / yᵀy)·I, and a strong Wolfe line search. Pairs with sᵀy ≤ 1e-10·yᵀy are skipped, which keeps H
/// positive definite. For bounds on x use `LBFGSB`.
public struct LBFGS {
    public var memory = 10
    public var maxIterations = 100
    public var maxEvaluations = 1000
    public var gradientTolerance = 1e-5
    public var functionTolerance = 1e-12

    public init(memory: Int = 10, maxIterations: Int = 100) {
        self.memory = max(1, memory); self.maxIterations = max(0, maxIterations)
    }

    /// Minimizes `f` from `x0`; `progress(iteration, value)` is called after each iteration.
    public func minimize(_ f: Objective, from x0: [Double], progress: ((Int, Double) -> Void)? = nil) -> MinimizationResult {
        var x = x0, g = [Double](repeating: 0, count: x0.count)
        var value = f(x, &g)
        var evaluations = 1
        var s = [[Double]](), y = [[Double]](), rho = [Double]()
        var history = [value]
        let search = StrongWolfeSearch()
        var iteration = 0
        func stop(_ reason: MinimizationStop) -> MinimizationResult {
            MinimizationResult(x: x, value: value, iterations: iteration, evaluations: evaluations, stop: reason, history: history)
        }
        while true {
            if g.reduce(0, { max($0, abs($1)) }) <= gradientTolerance { return stop(.gradient) }
            if iteration >= maxIterations { return stop(.iterations) }
            if evaluations >= maxEvaluations { return stop(.evaluations) }
            // Two-loop recursion: q ← g; back through the pairs; scale; forward again.
            var q = g
            var alphas = [Double](repeating: 0, count: s.count)
            for i in s.indices.reversed() {
                alphas[i] = rho[i] * dotProduct(s[i], q)
                for j in q.indices { q[j] -= alphas[i] * y[i][j] }
            }
            if let sl = s.last, let yl = y.last {
                let gamma = dotProduct(sl, yl) / dotProduct(yl, yl)
                for j in q.indices { q[j] *= gamma }
            }
            for i in s.indices {
                let beta = rho[i] * dotProduct(y[i], q)
                for j in q.indices { q[j] += s[i][j] * (alphas[i] - beta) }
            }
            var d = q.map { -$0 }
            if dotProduct(d, g) >= 0 { d = g.map { -$0 }; s.removeAll(); y.removeAll(); rho.removeAll() }
            let first = s.isEmpty ? min(1, 1 / max(dotProduct(g, g).squareRoot(), 1e-300)) : 1
            guard let t = search.search(f, x: x, f0: value, g0: g, direction: d, initialStep: first, maxStep: 1e20,
                                        evaluations: &evaluations) else { return stop(.lineSearch) }
            let sk = zip(t.x, x).map { $0 - $1 }, yk = zip(t.gradient, g).map { $0 - $1 }
            let sy = dotProduct(sk, yk), yy = dotProduct(yk, yk)
            if sy > 1e-10 * yy {
                if s.count == memory { s.removeFirst(); y.removeFirst(); rho.removeFirst() }
                s.append(sk); y.append(yk); rho.append(1 / sy)
            }
            let previous = value
            x = t.x; g = t.gradient; value = t.value
            iteration += 1
            history.append(value)
            progress?(iteration, value)
            if (previous - value) / max(abs(previous), abs(value), 1) <= functionTolerance { return stop(.function) }
        }
    }
}
