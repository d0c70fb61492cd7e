// AVX-512 GEMM: a 12×32 micro-tile (24 zmm accumulators, two B vectors, broadcast A from memory).
#if defined(__x86_64__)
#include <immintrin.h>
#include "ck_internal.h"

#define CK_MR 12
#define CK_NR 32
#define CK_FN(name) name##_avx512

#pragma clang attribute push(__attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma"))), apply_to = function)

static void ukr_avx512(int kc, const float *a, const float *b, float *c, ptrdiff_t ldc, float beta) {
    __m512 c0[CK_MR], c1[CK_MR];
    for (int i = 0; i < CK_MR; i++) { c0[i] = _mm512_setzero_ps(); c1[i] = _mm512_setzero_ps(); }
    for (int k = 0; k < kc; k++) {
        __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
        _mm_prefetch((const char *)(b + 4 * CK_NR), _MM_HINT_T0);
        for (int i = 0; i < CK_MR; i++) {
            __m512 ai = _mm512_set1_ps(a[i]);
            c0[i] = _mm512_fmadd_ps(ai, b0, c0[i]);
            c1[i] = _mm512_fmadd_ps(ai, b1, c1[i]);
        }
        a += CK_MR; b += CK_NR;
    }
    if (beta == 0.0f) {
        for (int i = 0; i < CK_MR; i++) {
            _mm512_storeu_ps(c + i * ldc, c0[i]);
            _mm512_storeu_ps(c + i * ldc + 16, c1[i]);
        }
    } else {
        __m512 bv = _mm512_set1_ps(beta);
        for (int i = 0; i < CK_MR; i++) {
            _mm512_storeu_ps(c + i * ldc, _mm512_fmadd_ps(bv, _mm512_loadu_ps(c + i * ldc), c0[i]));
            _mm512_storeu_ps(c + i * ldc + 16, _mm512_fmadd_ps(bv, _mm512_loadu_ps(c + i * ldc + 16), c1[i]));
        }
    }
}

#include "ck_gemm_driver.h"

#pragma clang attribute pop
#endif
