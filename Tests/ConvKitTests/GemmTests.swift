import XCTest
import CConvKernels
import ConvKit

final class GemmTests: XCTestCase {
    /// Every ISA the CPU has, against the naive reference, on ragged sizes and with transposes.
    func testSgemmMatchesReferenceOnAllISAs() {
        var rng = SeededGenerator(seed: 1)
        // Past the column block (N > 4096) and the depth block, with ragged edges.
        let sizes = [(1, 1, 1), (5, 7, 3), (13, 33, 17), (37, 65, 300), (100, 31, 513), (12, 32, 256), (70, 129, 9), (4, 4097, 9), (3, 8200, 5), (2, 4500, 700), (40, 4500, 30), (17, 9000, 3)]
        for isa in availableISAs() {
            ck_force_isa(isa)
            for (m, n, k) in sizes {
                let a = Tensor.uniform([m, k], low: -1, high: 1, rng: &rng)
                let b = Tensor.uniform([k, n], low: -1, high: 1, rng: &rng)
                let ref = Reference.matmul(a.scalars, b.scalars, m: m, n: n, k: k)
                let c = Tensor.matmul(a, b)
                XCTAssertEqual(c.shape, [m, n])
                XCTAssertLessThan(c.maxAbsDifference(Tensor(shape: [m, n], scalars: ref)), 1e-4 * Float(k).squareRoot(),
                                  "isa \(isa) \(m)x\(n)x\(k)")
                // Transposed operands through strides.
                let ct = Tensor.matmul(a.transposed(), b.transposed(), transposeA: true, transposeB: true)
                XCTAssertLessThan(ct.maxAbsDifference(c), 1e-4 * Float(k).squareRoot())
            }
        }
        ck_force_isa(CK_ISA_AVX512)
    }

    /// One row times Wᵀ (a batch-1 dense layer) takes the matrix–vector path: against the naive product on every ISA,
    /// with K below, at and above the 64-wide unroll and row counts that split unevenly across threads.
    func testBatchOneDenseProductMatchesReferenceOnAllISAs() {
        var rng = SeededGenerator(seed: 2)
        for isa in availableISAs() {
            ck_force_isa(isa)
            for (n, k) in [(4096, 1), (64, 64), (100, 65), (17, 300), (1, 4097), (1000, 4096), (33, 129)] {
                let x = Tensor.uniform([1, k], low: -1, high: 1, rng: &rng)
                let w = Tensor.uniform([n, k], low: -1, high: 1, rng: &rng)
                let ref = Reference.matmul(x.scalars, w.transposed().scalars, m: 1, n: n, k: k)
                let y = Tensor.matmul(x, w, transposeB: true)
                XCTAssertEqual(y.shape, [1, n])
                XCTAssertLessThan(y.maxAbsDifference(Tensor(shape: [1, n], scalars: ref)), 1e-4 * Float(k).squareRoot(), "isa \(isa) n \(n) k \(k)")
            }
        }
        ck_force_isa(CK_ISA_AVX512)
    }

    /// A few rows times Wᵀ (a dense layer at batch 2…16) streams W once per 8 rows: every row count, K with and without
    /// a tail past the 16-wide vectors, odd W row counts (the last row of a pair alone), on every ISA.
    func testSmallBatchDenseProductMatchesReferenceOnAllISAs() {
        var rng = SeededGenerator(seed: 3)
        for isa in availableISAs() {
            ck_force_isa(isa)
            for m in [2, 3, 5, 8, 9, 16] {
                for (n, k) in [(65, 64), (101, 75), (33, 300), (4096, 9), (7, 1000)] {
                    let x = Tensor.uniform([m, k], low: -1, high: 1, rng: &rng)
                    let w = Tensor.uniform([n, k], low: -1, high: 1, rng: &rng)
                    let ref = Reference.matmul(x.scalars, w.transposed().scalars, m: m, n: n, k: k)
                    let y = Tensor.matmul(x, w, transposeB: true)
                    XCTAssertEqual(y.shape, [m, n])
                    XCTAssertLessThan(y.maxAbsDifference(Tensor(shape: [m, n], scalars: ref)), 1e-4 * Float(k).squareRoot(),
                                      "isa \(isa) m \(m) n \(n) k \(k)")
                }
            }
        }
        ck_force_isa(CK_ISA_AVX512)
    }

    func testAlphaBetaAccumulate() {
        var rng = SeededGenerator(seed: 2)
        let (m, n, k) = (17, 45, 29)
        let a = Tensor.uniform([m, k], rng: &rng), b = Tensor.uniform([k, n], rng: &rng)
        var c = Tensor.uniform([m, n], rng: &rng)
        let c0 = c
        let ab = Tensor(shape: [m, n], scalars: Reference.matmul(a.scalars, b.scalars, m: m, n: n, k: k))
        a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in c.withUnsafeMutableBufferPointer { pc in
            sgemm(m: m, n: n, k: k, alpha: 2, a: pa.baseAddress!, rsa: k, csa: 1, b: pb.baseAddress!, rsb: n, csb: 1,
                  beta: 0.5, c: pc.baseAddress!, ldc: n)
        } } }
        XCTAssertLessThan(c.maxAbsDifference(ab * 2 + c0 * 0.5), 1e-4)
    }

    func testBatchedMatmulBroadcasts() {
        var rng = SeededGenerator(seed: 3)
        let a = Tensor.uniform([3, 4, 5], rng: &rng), b = Tensor.uniform([5, 6], rng: &rng)
        let c = Tensor.matmul(a, b)
        XCTAssertEqual(c.shape, [3, 4, 6])
        for i in 0..<3 {
            let ai = a.slice(axis: 0, i..<i + 1).reshaped([4, 5])
            let ref = Reference.matmul(ai.scalars, b.scalars, m: 4, n: 6, k: 5)
            XCTAssertLessThan(c.slice(axis: 0, i..<i + 1).reshaped([4, 6]).maxAbsDifference(Tensor(shape: [4, 6], scalars: ref)), 1e-5)
        }
    }

    func testThreadedAndSingleThreadedAgree() {
        var rng = SeededGenerator(seed: 4)
        let a = Tensor.uniform([150, 200], rng: &rng), b = Tensor.uniform([200, 170], rng: &rng)
        let saved = Parallel.threads
        Parallel.threads = 1
        let c1 = Tensor.matmul(a, b)
        Parallel.threads = 2
        let c2 = Tensor.matmul(a, b)
        Parallel.threads = saved
        XCTAssertEqual(c1, c2)
    }
}
