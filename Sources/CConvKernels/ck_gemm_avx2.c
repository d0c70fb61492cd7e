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

/// Packs one full 6-row panel of a row-major A: dst[k·6 + i] = src[i·rsa + k]. Eight columns at a time by an 8 × 8
/// register transpose of the 6 rows and two zero rows; the remaining columns one by one.
static inline void pack_a_panel_avx2(const float *src, ptrdiff_t rsa, int kc, float *dst) {
    int k = 0;
    for (; k + 8 <= kc; k += 8) {
        __m256 r0 = _mm256_loadu_ps(src + k), r1 = _mm256_loadu_ps(src + rsa + k);
        __m256 r2 = _mm256_loadu_ps(src + 2 * rsa + k), r3 = _mm256_loadu_ps(src + 3 * rsa + k);
        __m256 r4 = _mm256_loadu_ps(src + 4 * rsa + k), r5 = _mm256_loadu_ps(src + 5 * rsa + k);
        __m256 z = _mm256_setzero_ps();
        // Pairs of rows interleaved, then pairs of pairs: t* hold, per 128-bit half, 4 rows of one column.
        __m256 u0 = _mm256_unpacklo_ps(r0, r1), u1 = _mm256_unpackhi_ps(r0, r1);
        __m256 u2 = _mm256_unpacklo_ps(r2, r3), u3 = _mm256_unpackhi_ps(r2, r3);
        __m256 u4 = _mm256_unpacklo_ps(r4, r5), u5 = _mm256_unpackhi_ps(r4, r5);
        __m256 t0 = _mm256_shuffle_ps(u0, u2, _MM_SHUFFLE(1, 0, 1, 0)), t1 = _mm256_shuffle_ps(u0, u2, _MM_SHUFFLE(3, 2, 3, 2));
        __m256 t2 = _mm256_shuffle_ps(u1, u3, _MM_SHUFFLE(1, 0, 1, 0)), t3 = _mm256_shuffle_ps(u1, u3, _MM_SHUFFLE(3, 2, 3, 2));
        __m256 t4 = _mm256_shuffle_ps(u4, z, _MM_SHUFFLE(1, 0, 1, 0)), t5 = _mm256_shuffle_ps(u4, z, _MM_SHUFFLE(3, 2, 3, 2));
        __m256 t6 = _mm256_shuffle_ps(u5, z, _MM_SHUFFLE(1, 0, 1, 0)), t7 = _mm256_shuffle_ps(u5, z, _MM_SHUFFLE(3, 2, 3, 2));
        // Column j (j < 4 in the low halves, 4 + j in the high): rows 0–3 from t_j, rows 4–5 from t_{4+j}.
        const __m256 rows03[4] = {t0, t1, t2, t3}, rows45[4] = {t4, t5, t6, t7};
        float *d = dst + (ptrdiff_t)k * 6;
        for (int j = 0; j < 4; j++) {
            _mm_storeu_ps(d + j * 6, _mm256_castps256_ps128(rows03[j]));
            _mm_storel_pi((__m64 *)(d + j * 6 + 4), _mm256_castps256_ps128(rows45[j]));
            _mm_storeu_ps(d + (4 + j) * 6, _mm256_extractf128_ps(rows03[j], 1));
            _mm_storel_pi((__m64 *)(d + (4 + j) * 6 + 4), _mm256_extractf128_ps(rows45[j], 1));
        }
    }
    for (; k < kc; k++)
        for (int i = 0; i < 6; i++) dst[k * 6 + i] = src[(ptrdiff_t)i * rsa + k];
}
#define CK_PACK_A_PANEL(src, rsa, kc, dst) pack_a_panel_avx2(src, rsa, kc, dst)

/// One im2col run: dst[t] = lo <= t < hi ? src[t] : 0 for t < len (src read only inside [lo, hi)); whole 8-float
/// vectors where the run is inside, masked loads at its ends.
static inline void copy_run_avx2(float *dst, const float *src, int lo, int hi, int len) {
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    int t = 0;
    for (; t + 8 <= len; t += 8) {
        if (t >= lo && t + 8 <= hi) {
            _mm256_storeu_ps(dst + t, _mm256_loadu_ps(src + t));
        } else {
            __m256i idx = _mm256_add_epi32(lane, _mm256_set1_epi32(t));
            __m256i in = _mm256_and_si256(_mm256_cmpgt_epi32(idx, _mm256_set1_epi32(lo - 1)),
                                          _mm256_cmpgt_epi32(_mm256_set1_epi32(hi), idx));
            _mm256_storeu_ps(dst + t, _mm256_maskload_ps(src + t, in));
        }
    }
    for (; t < len; t++) dst[t] = t >= lo && t < hi ? src[t] : 0.0f;
}
#define CK_COPY_RUN(dst, src, lo, hi, len) copy_run_avx2(dst, src, lo, hi, len)

/// dst[t] = src[2t] for t < len: 16 inputs → 8 outputs per shuffle while the 16 stay inside the 2·len − 1 read.
static inline void copy_run_stride2_avx2(float *dst, const float *src, int len) {
    int t = 0;
    for (; t + 8 < len; t += 8) {
        __m256 a = _mm256_loadu_ps(src + 2 * t), b = _mm256_loadu_ps(src + 2 * t + 8);
        __m256 even = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));   // a0 a2 b0 b2 | a4 a6 b4 b6
        _mm256_storeu_ps(dst + t, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(even), _MM_SHUFFLE(3, 1, 2, 0))));
    }
    for (; t < len; t++) dst[t] = src[2 * t];
}
#define CK_COPY_RUN_STRIDE2(dst, src, len) copy_run_stride2_avx2(dst, src, len)

#include "ck_gemm_driver.h"

#pragma clang attribute pop
#endif
