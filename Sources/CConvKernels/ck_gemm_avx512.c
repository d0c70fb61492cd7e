// AVX-512 GEMM: a 12×32 micro-tile (24 zmm accumulators, two B vectors, broadcast A from memory).
#include "ck_internal.h"
#if CK_X86
#include <immintrin.h>

#define CK_MR 12
#define CK_NR 32
#define CK_FN(name) name##_avx512
#define CK_UKR_PARTIAL 1   // the micro-kernel stores ragged tiles itself

#pragma clang attribute push(CK_TARGET_AVX512, apply_to = function)
#include "ck_avx512_transpose.h"

// Written out register by register (generated once by hand-rolled unrolling): compilers spill
// accumulator arrays to the stack instead of keeping 24 zmm registers live.
static void ukr_avx512(int kc, const float *a, const float *b, float *c, ptrdiff_t ldc, float beta, int mr, int nr) {
    __m512 c00 = _mm512_setzero_ps(), c01 = _mm512_setzero_ps();
    __m512 c10 = _mm512_setzero_ps(), c11 = _mm512_setzero_ps();
    __m512 c20 = _mm512_setzero_ps(), c21 = _mm512_setzero_ps();
    __m512 c30 = _mm512_setzero_ps(), c31 = _mm512_setzero_ps();
    __m512 c40 = _mm512_setzero_ps(), c41 = _mm512_setzero_ps();
    __m512 c50 = _mm512_setzero_ps(), c51 = _mm512_setzero_ps();
    __m512 c60 = _mm512_setzero_ps(), c61 = _mm512_setzero_ps();
    __m512 c70 = _mm512_setzero_ps(), c71 = _mm512_setzero_ps();
    __m512 c80 = _mm512_setzero_ps(), c81 = _mm512_setzero_ps();
    __m512 c90 = _mm512_setzero_ps(), c91 = _mm512_setzero_ps();
    __m512 c100 = _mm512_setzero_ps(), c101 = _mm512_setzero_ps();
    __m512 c110 = _mm512_setzero_ps(), c111 = _mm512_setzero_ps();
    for (int k = 0; k < kc; k++) {
        __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
        _mm_prefetch((const char *)(b + 8 * CK_NR), _MM_HINT_T0);
        { __m512 a0 = _mm512_set1_ps(a[0]); c00 = _mm512_fmadd_ps(a0, b0, c00); c01 = _mm512_fmadd_ps(a0, b1, c01); }
        { __m512 a1 = _mm512_set1_ps(a[1]); c10 = _mm512_fmadd_ps(a1, b0, c10); c11 = _mm512_fmadd_ps(a1, b1, c11); }
        { __m512 a2 = _mm512_set1_ps(a[2]); c20 = _mm512_fmadd_ps(a2, b0, c20); c21 = _mm512_fmadd_ps(a2, b1, c21); }
        { __m512 a3 = _mm512_set1_ps(a[3]); c30 = _mm512_fmadd_ps(a3, b0, c30); c31 = _mm512_fmadd_ps(a3, b1, c31); }
        { __m512 a4 = _mm512_set1_ps(a[4]); c40 = _mm512_fmadd_ps(a4, b0, c40); c41 = _mm512_fmadd_ps(a4, b1, c41); }
        { __m512 a5 = _mm512_set1_ps(a[5]); c50 = _mm512_fmadd_ps(a5, b0, c50); c51 = _mm512_fmadd_ps(a5, b1, c51); }
        { __m512 a6 = _mm512_set1_ps(a[6]); c60 = _mm512_fmadd_ps(a6, b0, c60); c61 = _mm512_fmadd_ps(a6, b1, c61); }
        { __m512 a7 = _mm512_set1_ps(a[7]); c70 = _mm512_fmadd_ps(a7, b0, c70); c71 = _mm512_fmadd_ps(a7, b1, c71); }
        { __m512 a8 = _mm512_set1_ps(a[8]); c80 = _mm512_fmadd_ps(a8, b0, c80); c81 = _mm512_fmadd_ps(a8, b1, c81); }
        { __m512 a9 = _mm512_set1_ps(a[9]); c90 = _mm512_fmadd_ps(a9, b0, c90); c91 = _mm512_fmadd_ps(a9, b1, c91); }
        { __m512 a10 = _mm512_set1_ps(a[10]); c100 = _mm512_fmadd_ps(a10, b0, c100); c101 = _mm512_fmadd_ps(a10, b1, c101); }
        { __m512 a11 = _mm512_set1_ps(a[11]); c110 = _mm512_fmadd_ps(a11, b0, c110); c111 = _mm512_fmadd_ps(a11, b1, c111); }
        a += CK_MR; b += CK_NR;
    }
    if (mr == CK_MR && nr == CK_NR && beta == 0.0f) {
        _mm512_storeu_ps(c + 0 * ldc, c00); _mm512_storeu_ps(c + 0 * ldc + 16, c01);
        _mm512_storeu_ps(c + 1 * ldc, c10); _mm512_storeu_ps(c + 1 * ldc + 16, c11);
        _mm512_storeu_ps(c + 2 * ldc, c20); _mm512_storeu_ps(c + 2 * ldc + 16, c21);
        _mm512_storeu_ps(c + 3 * ldc, c30); _mm512_storeu_ps(c + 3 * ldc + 16, c31);
        _mm512_storeu_ps(c + 4 * ldc, c40); _mm512_storeu_ps(c + 4 * ldc + 16, c41);
        _mm512_storeu_ps(c + 5 * ldc, c50); _mm512_storeu_ps(c + 5 * ldc + 16, c51);
        _mm512_storeu_ps(c + 6 * ldc, c60); _mm512_storeu_ps(c + 6 * ldc + 16, c61);
        _mm512_storeu_ps(c + 7 * ldc, c70); _mm512_storeu_ps(c + 7 * ldc + 16, c71);
        _mm512_storeu_ps(c + 8 * ldc, c80); _mm512_storeu_ps(c + 8 * ldc + 16, c81);
        _mm512_storeu_ps(c + 9 * ldc, c90); _mm512_storeu_ps(c + 9 * ldc + 16, c91);
        _mm512_storeu_ps(c + 10 * ldc, c100); _mm512_storeu_ps(c + 10 * ldc + 16, c101);
        _mm512_storeu_ps(c + 11 * ldc, c110); _mm512_storeu_ps(c + 11 * ldc + 16, c111);
        return;
    }
    // Partial tile (ragged edge) or accumulate: masked stores, rows below mr only.
    const __mmask16 m0 = nr >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << nr) - 1u);
    const __mmask16 m1 = nr >= 32 ? (__mmask16)0xFFFF : nr <= 16 ? (__mmask16)0 : (__mmask16)((1u << (nr - 16)) - 1u);
    const __m512 bv = _mm512_set1_ps(beta);
#define STORE_ROW(i)                                                                                   \
    { float *r = c + (i) * ldc;                                                                        \
      __m512 v0 = c##i##0, v1 = c##i##1;                                                              \
      if (beta != 0.0f) { v0 = _mm512_fmadd_ps(bv, _mm512_maskz_loadu_ps(m0, r), v0);                  \
                          v1 = _mm512_fmadd_ps(bv, _mm512_maskz_loadu_ps(m1, r + 16), v1); }           \
      _mm512_mask_storeu_ps(r, m0, v0); _mm512_mask_storeu_ps(r + 16, m1, v1); }
        if (0 < mr) { STORE_ROW(0) }
        if (1 < mr) { STORE_ROW(1) }
        if (2 < mr) { STORE_ROW(2) }
        if (3 < mr) { STORE_ROW(3) }
        if (4 < mr) { STORE_ROW(4) }
        if (5 < mr) { STORE_ROW(5) }
        if (6 < mr) { STORE_ROW(6) }
        if (7 < mr) { STORE_ROW(7) }
        if (8 < mr) { STORE_ROW(8) }
        if (9 < mr) { STORE_ROW(9) }
        if (10 < mr) { STORE_ROW(10) }
        if (11 < mr) { STORE_ROW(11) }
#undef STORE_ROW
}

/// Masked copy of one im2col run: lanes outside [lo, hi) read nothing and store zero.
static inline void copy_run_avx512(float *dst, const float *src, int lo, int hi, int len) {
    for (int t = 0; t < len; t += 16) {
        int n = len - t < 16 ? len - t : 16;
        __mmask16 store = (__mmask16)((1u << n) - 1u);
        int a = lo - t < 0 ? 0 : lo - t, b = hi - t > 16 ? 16 : hi - t;
        __mmask16 load = b > a ? (__mmask16)(((1u << b) - 1u) & ~((1u << a) - 1u)) : 0;
        _mm512_mask_storeu_ps(dst + t, store, _mm512_maskz_loadu_ps(load, src + t));
    }
}
#define CK_COPY_RUN(dst, src, lo, hi, len) copy_run_avx512(dst, src, lo, hi, len)

/// Even elements of src: 32 inputs → 16 outputs per permute; loads are masked to the 2·len − 1 needed.
static inline void copy_run_stride2_avx512(float *dst, const float *src, int len) {
    const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    const int need = 2 * len - 1;
    for (int t = 0; t < len; t += 16) {
        const int base = 2 * t, n = len - t < 16 ? len - t : 16;
        int a = need - base, b = need - base - 16;
        __mmask16 ma = a >= 16 ? 0xFFFF : (__mmask16)((1u << (a > 0 ? a : 0)) - 1u);
        __mmask16 mb = b >= 16 ? 0xFFFF : (__mmask16)((1u << (b > 0 ? b : 0)) - 1u);
        __m512 lo = _mm512_maskz_loadu_ps(ma, src + base), hi = _mm512_maskz_loadu_ps(mb, src + base + 16);
        _mm512_mask_storeu_ps(dst + t, (__mmask16)((1u << n) - 1u), _mm512_permutex2var_ps(lo, even, hi));
    }
}
#define CK_COPY_RUN_STRIDE2(dst, src, len) copy_run_stride2_avx512(dst, src, len)

/// Packs one full 12-row panel of a row-major A: dst[k·12 + i] = src[i·rsa + k].
static inline void pack_a_panel_avx512(const float *src, ptrdiff_t rsa, int kc, float *dst) {
    transpose_rows_avx512(src, rsa, 12, kc, dst, 12);
}
#define CK_PACK_A_PANEL(src, rsa, kc, dst) pack_a_panel_avx512(src, rsa, kc, dst)

#include "ck_gemm_driver.h"

#pragma clang attribute pop
#endif
