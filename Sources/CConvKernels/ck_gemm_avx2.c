// AVX2+FMA GEMM: a 6×16 micro-tile (12 ymm accumulators).
#if defined(__x86_64__)
#include <immintrin.h>
#include "ck_internal.h"

#define CK_MR 6
#define CK_NR 16
#define CK_FN(name) name##_avx2

#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)

static void ukr_avx2(int kc, const float *a, const float *b, float *c, ptrdiff_t ldc, float beta) {
    __m256 c0[CK_MR], c1[CK_MR];
    for (int i = 0; i < CK_MR; i++) { c0[i] = _mm256_setzero_ps(); c1[i] = _mm256_setzero_ps(); }
    for (int k = 0; k < kc; k++) {
        __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
        for (int i = 0; i < CK_MR; i++) {
            __m256 ai = _mm256_broadcast_ss(a + i);
            c0[i] = _mm256_fmadd_ps(ai, b0, c0[i]);
            c1[i] = _mm256_fmadd_ps(ai, b1, c1[i]);
        }
        a += CK_MR; b += CK_NR;
    }
    if (beta == 0.0f) {
        for (int i = 0; i < CK_MR; i++) {
            _mm256_storeu_ps(c + i * ldc, c0[i]);
            _mm256_storeu_ps(c + i * ldc + 8, c1[i]);
        }
    } else {
        __m256 bv = _mm256_set1_ps(beta);
        for (int i = 0; i < CK_MR; i++) {
            _mm256_storeu_ps(c + i * ldc, _mm256_fmadd_ps(bv, _mm256_loadu_ps(c + i * ldc), c0[i]));
            _mm256_storeu_ps(c + i * ldc + 8, _mm256_fmadd_ps(bv, _mm256_loadu_ps(c + i * ldc + 8), c1[i]));
        }
    }
}

#include "ck_gemm_driver.h"

#pragma clang attribute pop
#endif
