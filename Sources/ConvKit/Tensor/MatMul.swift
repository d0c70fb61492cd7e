import CConvKernels

/// Multi-threaded single-precision GEMM on raw pointers: C = alpha·A·B + beta·C with element strides
/// (A[i][k] = A[i·rsa + k·csa], B[k][j] = B[k·rsb + j·csb], C[i][j] = C[i·ldc + j]).
/// Splits the larger of M and N across `Parallel.threads`; each piece runs the packed, cache-blocked
/// C kernel (`ck_sgemm`).
public func sgemm(m: Int, n: Int, k: Int, alpha: Float = 1,
                  a: UnsafePointer<Float>, rsa: Int, csa: Int,
                  b: UnsafePointer<Float>, rsb: Int, csb: Int,
                  beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
    let work = m * n * k
    if Parallel.threads <= 1 || work < 48 * 48 * 48 {
        ck_sgemm(Int32(m), Int32(n), Int32(k), alpha, a, rsa, csa, b, rsb, csb, beta, c, ldc)
        return
    }
    if n >= m {
        Parallel.forRanges(n, align: Int(ck_gemm_nr()), minChunk: 32) { r in
            ck_sgemm(Int32(m), Int32(r.count), Int32(k), alpha, a, rsa, csa,
                     b + r.lowerBound * csb, rsb, csb, beta, c + r.lowerBound, ldc)
        }
    } else {
        Parallel.forRanges(m, align: 24, minChunk: 24) { r in
            ck_sgemm(Int32(r.count), Int32(n), Int32(k), alpha, a + r.lowerBound * rsa, rsa, csa,
                     b, rsb, csb, beta, c + r.lowerBound * ldc, ldc)
        }
    }
}

extension Tensor {
    /// Matrix product over the last two axes, batched over the leading ones (which broadcast):
    /// [..., M, K] × [..., K, N] → [..., M, N]. `transposeA`/`transposeB` use the transposes without copying.
    public static func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
        precondition(a.rank >= 2 && b.rank >= 2, "matmul needs rank ≥ 2, got \(a.shape) and \(b.shape)")
        let (ar, ac) = (a.shape[a.rank - 2], a.shape[a.rank - 1])
        let (br, bc) = (b.shape[b.rank - 2], b.shape[b.rank - 1])
        let (m, k) = transposeA ? (ac, ar) : (ar, ac)
        let (k2, n) = transposeB ? (bc, br) : (br, bc)
        precondition(k == k2, "matmul inner extents differ: \(a.shape)\(transposeA ? "ᵀ" : "") × \(b.shape)\(transposeB ? "ᵀ" : "")")
        let aBatch = Array(a.shape.dropLast(2)), bBatch = Array(b.shape.dropLast(2))
        guard let batch = broadcastShape(aBatch, bBatch) else {
            preconditionFailure("matmul batch shapes \(aBatch) and \(bBatch) do not broadcast")
        }
        let nb = batch.reduce(1, *)
        // A few rows times a matrix stored with K contiguous (a dense layer at small batch, B = W [n, k]): W streamed
        // once for all rows, rather than packed into GEMM panels on every call.
        if m <= Tensor.smallBatchRows && nb == 1 && transposeB && !transposeA && a.rank == 2 && b.rank == 2 && n * k >= 4096 {
            return Tensor(shape: [m, n]) { o in
                b.scalars.withUnsafeBufferPointer { pw in a.scalars.withUnsafeBufferPointer { px in
                    Tensor.denseSmallBatch(weights: pw.baseAddress!, rows: n, k: k, x: px.baseAddress!, batch: m, y: o.baseAddress!)
                } }
            }
        }
        let A = a.broadcast(to: batch + [ar, ac]), B = b.broadcast(to: batch + [br, bc])
        return Tensor(shape: batch + [m, n]) { o in
            A.scalars.withUnsafeBufferPointer { pa in B.scalars.withUnsafeBufferPointer { pb in
                for i in 0..<nb {
                    sgemm(m: m, n: n, k: k,
                          a: pa.baseAddress! + i * ar * ac, rsa: transposeA ? 1 : ac, csa: transposeA ? ac : 1,
                          b: pb.baseAddress! + i * br * bc, rsb: transposeB ? 1 : bc, csb: transposeB ? bc : 1,
                          c: o.baseAddress! + i * m * n, ldc: n)
                }
            } }
        }
    }
}

extension Tensor {
    /// Batches up to this size take the small-batch dense product.
    static let smallBatchRows = 16

    /// y [batch, rows] = x [batch, k] · Wᵀ for W [rows, k] (row-major), batch ≤ `smallBatchRows`: rows of W split
    /// across threads, each streamed once per 8 inputs (`ck_gemm_rows_small`); one input is a matrix–vector product.
    static func denseSmallBatch(weights w: UnsafePointer<Float>, rows n: Int, k: Int, x: UnsafePointer<Float>, batch m: Int,
                                y: UnsafeMutablePointer<Float>) {
        Parallel.forRanges(n, align: 16, minChunk: Swift.max(16, 65_536 / Swift.max(k, 1))) { r in
            if m == 1 {
                ck_gemv_rows(w, k, Int32(k), x, Int32(r.lowerBound), Int32(r.upperBound), y)
                return
            }
            for i0 in stride(from: 0, to: m, by: 8) {
                ck_gemm_rows_small(w, k, Int32(k), x + i0 * k, k, Int32(Swift.min(8, m - i0)), Int32(r.lowerBound),
                                   Int32(r.upperBound), y + i0 * n, n)
            }
        }
    }
}
