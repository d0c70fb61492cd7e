// Matrix–vector products for batch-1 dense layers: bandwidth-bound, so the weights are streamed once in their
// stored layout instead of being packed into GEMM panels on every call.
#include "ck_internal.h"

/// y[r] = Σ_k W[r, k] · x[k] for r in [r0, r1); W row-major with leading dimension ldw. 64 independent
/// accumulators (four AVX-512 vectors) hide the FMA latency; the sum is reassociated, as in any blocked GEMM.
static inline __attribute__((always_inline)) void gemv_rows(const float *W, ptrdiff_t ldw, int K, const float *x,
                                                           int r0, int r1, float *y) {
    for (int r = r0; r < r1; r++) {
        const float *w = W + (ptrdiff_t)r * ldw;
        float acc[64] = {0};
        int k = 0;
        for (; k + 64 <= K; k += 64)
            for (int j = 0; j < 64; j++) acc[j] += w[k + j] * x[k + j];
        float s = 0.0f;
        for (int j = 0; j < 64; j++) s += acc[j];
        for (; k < K; k++) s += w[k] * x[k];
        y[r] = s;
    }
}

#define CK_GEMV_VARIANT(sfx, attr)                                                                                  \
    attr static void gemv_rows_##sfx(const float *W, ptrdiff_t ldw, int K, const float *x, int r0, int r1, float *y) { \
        gemv_rows(W, ldw, K, x, r0, r1, y);                                                                         \
    }

CK_INSTANTIATE(CK_GEMV_VARIANT)

void ck_gemv_rows(const float *W, ptrdiff_t ldw, int K, const float *x, int r0, int r1, float *y) {
    CK_PICK(gemv_rows, W, ldw, K, x, r0, r1, y)
}

// Dense layers at small batch: M ≤ 8 input rows against W [rows × K] stored row-major. Each weight row is read
// once for all M inputs (R rows of W at a time, R·M vector accumulators along k), so the product runs at the
// speed of streaming W — the packed GEMM would first copy W into panels, tripling the traffic.
#include "ck_vec16.h"

CK_V16_INLINE float v16_sum(ck_v16 v) {
    float t[16];
    v16_store(t, v);
    float s = 0.0f;
    for (int i = 0; i < 16; i++) s += t[i];
    return s;
}

/// Rows [r, r + R) of W against the M inputs. (The inputs are re-read from L2 for every R rows; blocking k so that
/// they stay in L1 measured no faster: the hardware prefetcher keeps up, and the weights' stream sets the pace.)
CK_V16_INLINE void gemm_small_rows(const int M, const int R, const float *W, ptrdiff_t ldw, int K, const float *x,
                                   ptrdiff_t ldx, int r, float *y, ptrdiff_t ldy) {
    ck_v16 acc[2][8];
#pragma clang loop unroll(full)
    for (int a = 0; a < R; a++)
#pragma clang loop unroll(full)
        for (int i = 0; i < M; i++) acc[a][i] = v16_zero();
    int k = 0;
    for (; k + 16 <= K; k += 16) {
        ck_v16 w[2];
#pragma clang loop unroll(full)
        for (int a = 0; a < R; a++) w[a] = v16_load(W + (ptrdiff_t)(r + a) * ldw + k);
#pragma clang loop unroll(full)
        for (int i = 0; i < M; i++) {
            const ck_v16 xv = v16_load(x + i * ldx + k);
#pragma clang loop unroll(full)
            for (int a = 0; a < R; a++) acc[a][i] += w[a] * xv;
        }
    }
#pragma clang loop unroll(full)
    for (int a = 0; a < R; a++)
#pragma clang loop unroll(full)
        for (int i = 0; i < M; i++) {
            float s = v16_sum(acc[a][i]);
            for (int kk = k; kk < K; kk++) s += W[(ptrdiff_t)(r + a) * ldw + kk] * x[i * ldx + kk];
            y[i * ldy + r + a] = s;
        }
}

CK_V16_INLINE void gemm_small(const int M, const int R, const float *W, ptrdiff_t ldw, int K, const float *x, ptrdiff_t ldx,
                              int r0, int r1, float *y, ptrdiff_t ldy) {
    int r = r0;
    for (; r + R <= r1; r += R) gemm_small_rows(M, R, W, ldw, K, x, ldx, r, y, ldy);
    for (; r < r1; r++) gemm_small_rows(M, 1, W, ldw, K, x, ldx, r, y, ldy);
}

#define GEMM_SMALL_CASES(R, ...)                                                                                \
    switch (M) {                                                                                                \
    case 1: gemm_small(1, R, __VA_ARGS__); break; case 2: gemm_small(2, R, __VA_ARGS__); break;                 \
    case 3: gemm_small(3, R, __VA_ARGS__); break; case 4: gemm_small(4, R, __VA_ARGS__); break;                 \
    case 5: gemm_small(5, R, __VA_ARGS__); break; case 6: gemm_small(6, R, __VA_ARGS__); break;                 \
    case 7: gemm_small(7, R, __VA_ARGS__); break; default: gemm_small(8, R, __VA_ARGS__); break;                \
    }
#define CK_GEMM_SMALL_VARIANT(sfx, attr)                                                                       \
    attr static void gemm_small_##sfx(const float *W, ptrdiff_t ldw, int K, const float *x, ptrdiff_t ldx, int M,  \
                                      int r0, int r1, float *y, ptrdiff_t ldy) {                                \
        if (ck_active_isa() == CK_ISA_AVX512) { GEMM_SMALL_CASES(2, W, ldw, K, x, ldx, r0, r1, y, ldy) }         \
        else { GEMM_SMALL_CASES(1, W, ldw, K, x, ldx, r0, r1, y, ldy) }                                         \
    }
CK_INSTANTIATE(CK_GEMM_SMALL_VARIANT)

void ck_gemm_rows_small(const float *W, ptrdiff_t ldw, int K, const float *x, ptrdiff_t ldx, int M, int r0, int r1,
                        float *y, ptrdiff_t ldy) {
    CK_PICK(gemm_small, W, ldw, K, x, ldx, M, r0, r1, y, ldy)
}
