// AVX2+FMA GEMM: a 6×16 micro-tile (12 ymm accumulators).
#include "ck_internal.h"
#if CK_X86
#include <immintrin.h>

#define CK_MR 6
#define CK_NR 16
#define CK_FN(name) name##_avx2

#pragma clang attribute push(CK_TARGET_AVX2, apply_to = function)

// Accumulators as named variables so they stay in registers.
static void ukr_avx2(int kc, const float *a, const float *b, float *c, ptrdiff_t ldc, float beta) {
    __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
    __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
    __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
    __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
    __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
    __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
    for (int k = 0; k < kc; k++) {
        __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
        { __m256 a0 = _mm256_broadcast_ss(a + 0); c00 = _mm256_fmadd_ps(a0, b0, c00); c01 = _mm256_fmadd_ps(a0, b1, c01); }
        { __m256 a1 = _mm256_broadcast_ss(a + 1); c10 = _mm256_fmadd_ps(a1, b0, c10); c11 = _mm256_fmadd_ps(a1, b1, c11); }
        { __m256 a2 = _mm256_broadcast_ss(a + 2); c20 = _mm256_fmadd_ps(a2, b0, c20); c21 = _mm256_fmadd_ps(a2, b1, c21); }
        { __m256 a3 = _mm256_broadcast_ss(a + 3); c30 = _mm256_fmadd_ps(a3, b0, c30); c31 = _mm256_fmadd_ps(a3, b1, c31); }
        { __m256 a4 = _mm256_broadcast_ss(a + 4); c40 = _mm256_fmadd_ps(a4, b0, c40); c41 = _mm256_fmadd_ps(a4, b1, c41); }
        { __m256 a5 = _mm256_broadcast_ss(a + 5); c50 = _mm256_fmadd_ps(a5, b0, c50); c51 = _mm256_fmadd_ps(a5, b1, c51); }
        a += CK_MR; b += CK_NR;
    }
    if (beta == 0.0f) {
        _mm256_storeu_ps(c + 0 * ldc, c00); _mm256_storeu_ps(c + 0 * ldc + 8, c01);
        _mm256_storeu_ps(c + 1 * ldc, c10); _mm256_storeu_ps(c + 1 * ldc + 8, c11);
        _mm256_storeu_ps(c + 2 * ldc, c20); _mm256_storeu_ps(c + 2 * ldc + 8, c21);
        _mm256_storeu_ps(c + 3 * ldc, c30); _mm256_storeu_ps(c + 3 * ldc + 8, c31);
        _mm256_storeu_ps(c + 4 * ldc, c40); _mm256_storeu_ps(c + 4 * ldc + 8, c41);
        _mm256_storeu_ps(c + 5 * ldc, c50); _mm256_storeu_ps(c + 5 * ldc + 8, c51);
    } else {
        __m256 bv = _mm256_set1_ps(beta);
        _mm256_storeu_ps(c + 0 * ldc, _mm256_fmadd_ps(bv, _mm256_loadu_ps(c + 0 * ldc), c00));
        _mm256_storeu_ps(c + 0 * ldc + 8, _mm256_fmadd_ps(bv, _mm256_loadu_ps(c + 0 * ldc + 8), c01));
        _mm256_storeu_ps(c + 1 * ldc, _mm256_fmadd_ps(bv, _mm256_loadu_ps(c + 1 * ldc), c10));
        _mm256_storeu_ps(c + 1 * ldc + 8, _mm256_fmadd_ps(bv, _mm256_loadu_ps(c + 1 * ldc + 8), c11));
        _mm256_storeu_ps(c + 2 * ldc, _mm256_fmadd_ps(bv, _mm256_loadu_ps(c + 2 * ldc), c20));
        _mm256_storeu_ps(c + 2 * ldc + 8, _mm256_fmadd_ps(bv, _mm256_loadu_ps(c + 2 * ldc + 8), c21));
        _mm256_storeu_ps(c + 3 * ldc, _mm256_fmadd_ps(bv, _mm256_loadu_ps(c + 3 * ldc), c30));
        _mm256_storeu_ps(c + 3 * ldc + 8, _mm256_fmadd_ps(bv, _mm256_loadu_ps(c + 3 * ldc + 8), c31));
        _mm256_storeu_ps(c + 4 * ldc, _mm256_fmadd_ps(bv, _mm256_loadu_ps(c + 4 * ldc), c40));
        _mm256_storeu_ps(c + 4 * ldc + 8, _mm256_fmadd_ps(bv, _mm256_loadu_ps(c + 4 * ldc + 8), c41));
        _mm256_storeu_ps(c + 5 * ldc, _mm256_fmadd_ps(bv, _mm256_loadu_ps(c + 5 * ldc), c50));
        _mm256_storeu_ps(c + 5 * ldc + 8, _mm256_fmadd_ps(bv, _mm256_loadu_ps(c + 5 * ldc + 8), c51));
    }
}

#include "ck_gemm_driver.h"

#pragma clang attribute pop
#endif
