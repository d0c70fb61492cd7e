import Foundation

/// A differentiable objective over a flat vector of n variables: returns f(x) and writes ∇f(x) into `gradient`
/// (which has n elements on entry). L-BFGS and L-BFGS-B minimize such objectives; style transfer wraps an image.
public typealias Objective = (_ x: [Double], _ gradient: inout [Double]) -> Double

/// Strong Wolfe line search (Nocedal & Wright, Algorithms 3.5 and 3.6, with safeguarded cubic interpolation):
/// finds a step α ∈ (0, α_max] along a descent direction d with
///     φ(α) ≤ φ(0) + c₁·α·φ′(0)          (sufficient decrease)
///     |φ′(α)| ≤ c₂·|φ′(0)|              (curvature)
/// where φ(α) = f(x + α·d) (projected onto a box when `project` is given, to absorb rounding at the bound).
/// At α_max the decrease condition alone is accepted (a bound was reached).
struct StrongWolfeSearch {
    var c1 = 1e-4
    var c2 = 0.9
    var maxEvaluations = 25

    /// One trial: the step, φ(α), φ′(α), and the point's value and gradient.
    struct Trial { var alpha: Double; var value: Double; var slope: Double; var x: [Double]; var gradient: [Double] }

    /// Searches from `x` (value `f0`, gradient `g0`) along `d`. Returns the accepted trial, or the best trial
    /// that decreased f when the evaluations run out, or nil when no trial decreased f.
    func search(_ f: Objective, x: [Double], f0: Double, g0: [Double], direction d: [Double],
                initialStep: Double, maxStep: Double, evaluations: inout Int,
                project: ((inout [Double]) -> Void)? = nil) -> Trial? {
        let slope0 = dotProduct(g0, d)
        guard slope0 < 0, maxStep > 0 else { return nil }
        func evaluate(_ a: Double) -> Trial {
            var xa = x
            for i in xa.indices { xa[i] += a * d[i] }
            project?(&xa)  // rounding only: every step up to maxStep is feasible
            var g = [Double](repeating: 0, count: x.count)
            let v = f(xa, &g)
            evaluations += 1
            return Trial(alpha: a, value: v, slope: dotProduct(g, d), x: xa, gradient: g)
        }
        var best: Trial? = nil
        func note(_ t: Trial) { if t.value.isFinite, t.value < f0, t.value < (best?.value ?? .infinity) { best = t } }

        var previous = Trial(alpha: 0, value: f0, slope: slope0, x: x, gradient: g0)
        var alpha = min(initialStep, maxStep)
        var used = 0
        while used < maxEvaluations {
            let t = evaluate(alpha); used += 1; note(t)
            if !t.value.isFinite || t.value > f0 + c1 * alpha * slope0 || (used > 1 && t.value >= previous.value) {
                return zoom(evaluate, lo: previous, hi: t, f0: f0, slope0: slope0, budget: maxEvaluations - used) ?? best
            }
            if abs(t.slope) <= -c2 * slope0 { return t }
            if t.slope >= 0 {
                return zoom(evaluate, lo: t, hi: previous, f0: f0, slope0: slope0, budget: maxEvaluations - used) ?? best
            }
            if alpha >= maxStep { return t }          // the bound: decrease holds, slope still negative
            previous = t
            alpha = min(2 * alpha, maxStep)
        }
        return best
    }

    /// Algorithm 3.6: `lo` satisfies sufficient decrease and has the lowest value so far; the minimizer
    /// lies between lo and hi.
    private func zoom(_ evaluate: (Double) -> Trial, lo: Trial, hi: Trial, f0: Double, slope0: Double, budget: Int) -> Trial? {
        var lo = lo, hi = hi
        var best: Trial? = lo.alpha > 0 ? lo : nil
        for _ in 0..<max(budget, 0) {
            let a = interpolate(lo, hi)
            let t = evaluate(a)
            if !t.value.isFinite || t.value > f0 + c1 * a * slope0 || t.value >= lo.value {
                hi = t
            } else {
                if abs(t.slope) <= -c2 * slope0 { return t }
                if t.slope * (hi.alpha - lo.alpha) >= 0 { hi = lo }
                lo = t
                best = t
            }
            if abs(hi.alpha - lo.alpha) < 1e-12 * max(1, lo.alpha) { break }
        }
        return best
    }

    /// The minimizer of the cubic through (α, φ, φ′) at both ends, kept within the inner 80 % of the interval
    /// (bisection when the cubic has no usable minimizer or a value is not finite).
    private func interpolate(_ a: Trial, _ b: Trial) -> Double {
        let lo = min(a.alpha, b.alpha), hi = max(a.alpha, b.alpha), width = hi - lo
        var x = (lo + hi) / 2
        if a.value.isFinite && b.value.isFinite {
            let d1 = a.slope + b.slope - 3 * (a.value - b.value) / (a.alpha - b.alpha)
            let disc = d1 * d1 - a.slope * b.slope
            if disc >= 0 {
                let d2 = (b.alpha > a.alpha ? 1.0 : -1.0) * disc.squareRoot()
                let c = b.alpha - (b.alpha - a.alpha) * (b.slope + d2 - d1) / (b.slope - a.slope + 2 * d2)
                if c.isFinite { x = c }
            }
        }
        return min(max(x, lo + 0.1 * width), hi - 0.1 * width)
    }
}

/// Σ a_i·b_i with four partial sums (vectorizes; the order of additions differs from a plain loop's).
func dotProduct(_ a: [Double], _ b: [Double]) -> Double {
    precondition(a.count == b.count, "dot product of vectors of different lengths")
    return a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in dotProduct(pa.baseAddress!, pb.baseAddress!, a.count) } }
}

@inline(__always) func dotProduct(_ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, _ n: Int) -> Double {
    var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
    var i = 0
    while i + 4 <= n {
        s0 += a[i] * b[i]; s1 += a[i + 1] * b[i + 1]; s2 += a[i + 2] * b[i + 2]; s3 += a[i + 3] * b[i + 3]
        i += 4
    }
    while i < n { s0 += a[i] * b[i]; i += 1 }
    return (s0 + s1) + (s2 + s3)
}
