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
        // One row times a matrix stored with K contiguous (a dense layer at batch 1, B = W [n, k]): a
        // matrix–vector product streaming W once, rather than packing W into GEMM panels on every call.
        if m == 1 && nb == 1 && transposeB && !transposeA && a.rank == 2 && b.rank == 2 && n * k >= 4096 {
            return gemvRows(b, a)
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
    /// [1, k] · Wᵀ for W [n, k]: y[0, r] = Σ_k W[r, k] x[0, k], rows split across threads.
    static func gemvRows(_ w: Tensor, _ x: Tensor) -> Tensor {
        let (n, k) = (w.shape[0], w.shape[1])
        return Tensor(shape: [1, n]) { o in
            w.scalars.withUnsafeBufferPointer { pw in x.scalars.withUnsafeBufferPointer { px in
                let out = o.baseAddress!
                Parallel.forRanges(n, align: 16, minChunk: Swift.max(16, 65_536 / Swift.max(k, 1))) { r in
                    ck_gemv_rows(pw.baseAddress!, k, Int32(k), px.baseAddress!, Int32(r.lowerBound), Int32(r.upperBound), out)
                }
            } }
        }
    }
}

