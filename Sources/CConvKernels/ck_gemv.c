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
