import XCTest
import ConvKit

/// L-BFGS and L-BFGS-B on functions whose minima are known in closed form.
final class QuasiNewtonTests: XCTestCase {
    /// Extended Rosenbrock Σ 100(x_{2i} − x_{2i−1}²)² + (1 − x_{2i−1})², minimum 0 at (1, …, 1).
    static let rosenbrock: Objective = { x, g in
        var f = 0.0
        for i in stride(from: 0, to: x.count, by: 2) {
            let a = x[i + 1] - x[i] * x[i], b = 1 - x[i]
            f += 100 * a * a + b * b
            g[i] = -400 * x[i] * a - 2 * b
            g[i + 1] = 200 * a
        }
        return f
    }

    func testLBFGSFindsTheRosenbrockMinimum() {
        var solver = LBFGS(memory: 7, maxIterations: 500)
        solver.gradientTolerance = 1e-9
        let x0 = (0..<10).map { $0 % 2 == 0 ? -1.2 : 1.0 }
        let r = solver.minimize(Self.rosenbrock, from: x0)
        for v in r.x { XCTAssertEqual(v, 1, accuracy: 1e-6) }
        XCTAssertLessThan(r.value, 1e-12)
        XCTAssertLessThan(r.iterations, 200, "L-BFGS should need far fewer iterations than gradient descent")
        XCTAssertEqual(r.history.first!, 24.2 * 5, accuracy: 1e-9)
        XCTAssertTrue(zip(r.history, r.history.dropFirst()).allSatisfy { $0.1 <= $0.0 }, "the line search must never increase f")
    }

    /// With box bounds that do not bind, L-BFGS-B finds the same minimum.
    func testLBFGSBWithLooseBoundsFindsTheRosenbrockMinimum() {
        var solver = LBFGSB(memory: 5, maxIterations: 500)
        solver.gradientTolerance = 1e-9
        let r = solver.minimize(Self.rosenbrock, from: [-1.2, 1, -1.2, 1], lower: [-5, -5, -5, -5], upper: [5, 5, 5, 5])
        for v in r.x { XCTAssertEqual(v, 1, accuracy: 1e-6) }
    }

    /// Rosenbrock with x₁ ≤ 0.5: the minimizer is on the bound, (0.5, 0.25) — the second term is zero on
    /// x₂ = x₁², the first is smallest at the largest admissible x₁.
    func testLBFGSBStopsOnAnActiveBound() {
        var solver = LBFGSB(memory: 5, maxIterations: 500)
        solver.gradientTolerance = 1e-10
        let r = solver.minimize(Self.rosenbrock, from: [-1.2, 1], lower: [-.infinity, -.infinity], upper: [0.5, .infinity])
        XCTAssertEqual(r.x[0], 0.5, accuracy: 1e-9)
        XCTAssertEqual(r.x[1], 0.25, accuracy: 1e-6)
        XCTAssertEqual(r.value, 0.25, accuracy: 1e-9)
    }

    /// f = ½xᵀAx − bᵀx with A symmetric positive definite and coupled, in [0, 1]ⁿ; the answer is checked
    /// by the KKT conditions: ∂f/∂x_i = 0 where l < x_i < u, ≥ 0 at the lower bound, ≤ 0 at the upper.
    /// Every iterate must stay in the box (the objective records any evaluation outside it).
    func testLBFGSBSatisfiesKKTOnACoupledBoxQuadratic() {
        let n = 40
        var rng = SeededGenerator(seed: 3)
        let r = Tensor.normal([n, n], rng: &rng).scalars.map(Double.init)
        var a = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        for i in 0..<n { for j in 0..<n { a[i][j] = (0..<n).reduce(0.0) { $0 + r[$1 * n + i] * r[$1 * n + j] } / Double(n) + (i == j ? 0.1 : 0) } }
        let b = Tensor.normal([n], std: 2, rng: &rng).scalars.map(Double.init)
        var outside = 0
        let f: Objective = { x, g in
            if x.contains(where: { $0 < 0 || $0 > 1 }) { outside += 1 }
            var v = 0.0
            for i in 0..<n {
                g[i] = (0..<n).reduce(0.0) { $0 + a[i][$1] * x[$1] } - b[i]
                v += 0.5 * x[i] * (g[i] - b[i])
            }
            return v
        }
        var solver = LBFGSB(memory: 6, maxIterations: 1000)
        solver.gradientTolerance = 1e-9
        solver.functionTolerance = 0
        let result = solver.minimize(f, from: [Double](repeating: 0.5, count: n), lower: [Double](repeating: 0, count: n),
                                     upper: [Double](repeating: 1, count: n))
        XCTAssertEqual(outside, 0, "an iterate left the box")
        XCTAssertEqual(result.stop, .gradient, "stopped after \(result.iterations) iterations")
        var g = [Double](repeating: 0, count: n)
        _ = f(result.x, &g)
        var atBounds = 0
        for i in 0..<n {
            if result.x[i] <= 1e-12 { XCTAssertGreaterThan(g[i], -1e-7); atBounds += 1 }
            else if result.x[i] >= 1 - 1e-12 { XCTAssertLessThan(g[i], 1e-7); atBounds += 1 }
            else { XCTAssertEqual(g[i], 0, accuracy: 1e-7) }
        }
        XCTAssertGreaterThan(atBounds, 0, "the test needs active bounds to mean anything")
        XCTAssertLessThan(atBounds, n)
    }

    /// Separable: f = Σ (x_i − c_i)², c outside the box in places; the minimizer is clamp(c, l, u).
    func testLBFGSBProjectsASeparableQuadratic() {
        let c: [Double] = [-2, 0.3, 5, 0.9, -0.1, 1.7]
        let f: Objective = { x, g in
            var v = 0.0
            for i in x.indices { let d = x[i] - c[i]; v += d * d; g[i] = 2 * d }
            return v
        }
        let r = LBFGSB().minimize(f, from: [Double](repeating: 0.5, count: 6), lower: [Double](repeating: 0, count: 6),
                                  upper: [Double](repeating: 1, count: 6))
        for (x, ci) in zip(r.x, c) { XCTAssertEqual(x, min(max(ci, 0), 1), accuracy: 1e-9) }
        XCTAssertLessThanOrEqual(r.iterations, 3, "a separable quadratic is solved by the Cauchy point and one subspace step")
    }
}
