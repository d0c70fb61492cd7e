import XCTest
import ConvKit

final class PoolingTests: XCTestCase {
    func testMaxPoolFastPathMatchesGeneral() {
        var rng = SeededGenerator(seed: 5)
        let x = Tensor.normal([3, 4, 10, 13], rng: &rng)
        let o = PoolOptions(kernel: [2])
        let fast = maxPool(x, o, returnIndices: false).output
        let general = maxPool(x, o, returnIndices: true).output
        XCTAssertEqual(fast, general)
        XCTAssertEqual(fast.shape, [3, 4, 5, 6])
        // Reference: max of each 2×2 block.
        for n in 0..<3 { for c in 0..<4 { for i in 0..<5 { for j in 0..<6 {
            let m = [x[n, c, 2 * i, 2 * j], x[n, c, 2 * i + 1, 2 * j], x[n, c, 2 * i, 2 * j + 1], x[n, c, 2 * i + 1, 2 * j + 1]].max()!
            XCTAssertEqual(fast[n, c, i, j], m)
        } } } }
    }

    /// Inference (no indices) takes other code paths than training; both must agree.
    func testInferenceAndTrainingPathsAgree() {
        var rng = SeededGenerator(seed: 7)
        let x = Tensor.normal([2, 3, 11, 9], rng: &rng)
        for o in [PoolOptions(kernel: [3], stride: [2], padding: .symmetric(1)), PoolOptions(kernel: [3], stride: [2], padding: .symmetric(1), ceilMode: true),
                  PoolOptions(kernel: [3, 2], stride: [1, 2]), PoolOptions(kernel: [2], stride: [2], ceilMode: true)] {
            XCTAssertEqual(maxPool(x, o, returnIndices: false).output, maxPool(x, o, returnIndices: true).output, "\(o)")
        }
        // Wide rows (the vectorized interior of the separable path), windows wider than the padded edge,
        // and NaNs, which both paths propagate.
        var wide = Tensor.normal([1, 2, 9, 41], rng: &rng)
        wide[0, 1, 4, 20] = .nan
        wide[0, 0, 0, 0] = .nan
        for o in [PoolOptions(kernel: [3], stride: [2], padding: .symmetric(1)), PoolOptions(kernel: [5], stride: [3], padding: .symmetric(2)),
                  PoolOptions(kernel: [3, 7], stride: [1, 4], padding: .symmetric(1), ceilMode: true), PoolOptions(kernel: [4], stride: [1])] {
            let a = maxPool(wide, o, returnIndices: false).output, b = maxPool(wide, o, returnIndices: true).output
            XCTAssertEqual(a.shape, b.shape)
            XCTAssertEqual(a.scalars.map(\.bitPattern), b.scalars.map(\.bitPattern), "\(o)")
        }
        // The 2×2 stride-2 fast paths: a NaN in any of the four window positions gives NaN in both.
        for position in 0..<4 {
            var t = Tensor.normal([1, 1, 4, 6], rng: &rng)
            t[0, 0, 2 + position / 2, 2 + position % 2] = .nan
            let o = PoolOptions(kernel: [2], stride: [2])
            let a = maxPool(t, o, returnIndices: false).output, b = maxPool(t, o, returnIndices: true).output
            XCTAssertTrue(a[0, 0, 1, 1].isNaN && b[0, 0, 1, 1].isNaN, "NaN at window position \(position)")
            XCTAssertEqual(a.scalars.map(\.bitPattern), b.scalars.map(\.bitPattern))
        }
    }

    func testPoolingGradientsByFiniteDifferences() {
        var rng = SeededGenerator(seed: 6)
        let x = Tensor.normal([2, 2, 7, 6], rng: &rng)
        let options = [PoolOptions(kernel: [3, 2], stride: [2, 2], padding: .symmetric(1)),
                       PoolOptions(kernel: [2], stride: [1], ceilMode: true),
                       PoolOptions(kernel: [3], stride: [2], padding: .symmetric(1), ceilMode: true, countIncludePad: false)]
        for o in options {
            let y = avgPool(x, o)
            let r = Tensor.normal(y.shape, rng: &rng)
            let num = numericGradient(x) { dot(avgPool($0, o), r) }
            XCTAssertLessThan(relativeError(avgPoolBackward(inputShape: x.shape, gradOutput: r, o), num), 1e-3)
            let (ym, idx) = maxPool(x, o)
            let rm = Tensor.normal(ym.shape, rng: &rng)
            let numm = numericGradient(x, eps: 1e-3) { dot(maxPool($0, o, returnIndices: false).output, rm) }
            XCTAssertLessThan(relativeError(maxPoolBackward(inputShape: x.shape, gradOutput: rm, indices: idx!, o), numm), 1e-2)
        }
    }

    func testGlobalPooling() {
        let x = Tensor(shape: [1, 2, 2, 2], scalars: [1, 2, 3, 4, -1, -2, -3, -8])
        XCTAssertEqual(x.globalAveragePooled().scalars, [2.5, -3.5])
        XCTAssertEqual(x.globalMaxPooled().scalars, [4, -1])
    }

    func testDropoutKeepsExpectation() {
        var rng = SeededGenerator(seed: 9)
        let x = Tensor.ones([10000])
        let (y, mask) = dropout(x, p: 0.25, rng: &rng)
        XCTAssertEqual(y.mean().scalar, 1, accuracy: 0.03)
        XCTAssertTrue(mask.scalars.allSatisfy { $0 == 0 || abs($0 - 1 / 0.75) < 1e-6 })
    }
}
