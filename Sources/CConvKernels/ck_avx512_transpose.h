// AVX-512 register transposes shared by the packing routines. Include inside a region compiled for
// AVX-512 (`#pragma clang attribute push(... target("avx512f,…") ...)`).
#ifndef CK_AVX512_TRANSPOSE_H
#define CK_AVX512_TRANSPOSE_H
#include <immintrin.h>
#include <stddef.h>

/// Transposes 16 vectors in place: afterwards r[k] holds element k of the 16 input vectors.
static inline void transpose16_avx512(__m512 r[16]) {
    __m512 t[16];
    for (int i = 0; i < 8; i++) { t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]); t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]); }
    for (int i = 0; i < 4; i++) {
        r[4 * i] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(1, 0, 1, 0));
        r[4 * i + 1] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(3, 2, 3, 2));
        r[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(1, 0, 1, 0));
        r[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    // r[4i + j] now holds, in 128-bit lane L, column 4L + j of rows 4i … 4i + 3.
    __m512 out[16];
    for (int j = 0; j < 4; j++) {
        __m512 x0 = _mm512_shuffle_f32x4(r[j], r[4 + j], 0x88), x1 = _mm512_shuffle_f32x4(r[j], r[4 + j], 0xDD);
        __m512 y0 = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0x88), y1 = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0xDD);
        out[j] = _mm512_shuffle_f32x4(x0, y0, 0x88);
        out[8 + j] = _mm512_shuffle_f32x4(x0, y0, 0xDD);
        out[4 + j] = _mm512_shuffle_f32x4(x1, y1, 0x88);
        out[12 + j] = _mm512_shuffle_f32x4(x1, y1, 0xDD);
    }
    for (int k = 0; k < 16; k++) r[k] = out[k];
}


/// dst[k·ldd + i] = i < rows ? src[i·rsa + k] : 0 for i < width (≤ 16), k < kc.
static inline void transpose_rows_width_avx512(const float *src, ptrdiff_t rsa, int rows, int width, int kc, float *dst,
                                               ptrdiff_t ldd) {
    const __mmask16 keep = (__mmask16)(width == 16 ? 0xFFFFu : (1u << width) - 1u);
    int k0 = 0;
    for (; k0 + 16 <= kc; k0 += 16) {
        __m512 r[16];
        for (int i = 0; i < 16; i++) r[i] = i < rows ? _mm512_loadu_ps(src + (ptrdiff_t)i * rsa + k0) : _mm512_setzero_ps();
        transpose16_avx512(r);
        for (int k = 0; k < 16; k++) _mm512_mask_storeu_ps(dst + (ptrdiff_t)(k0 + k) * ldd, keep, r[k]);
    }
    for (; k0 < kc; k0++)
        for (int i = 0; i < width; i++) dst[(ptrdiff_t)k0 * ldd + i] = i < rows ? src[(ptrdiff_t)i * rsa + k0] : 0.0f;
}

/// dst[k·ldd + i] = i < rows ? src[i·rsa + k] : 0 for i < min(16, ldd), k < kc: up to 16 rows of a row-major
/// matrix into k-major order (rows past `rows` zero), 16 columns at a time by register transposes.
static inline void transpose_rows_avx512(const float *src, ptrdiff_t rsa, int rows, int kc, float *dst, ptrdiff_t ldd) {
    transpose_rows_width_avx512(src, rsa, rows, ldd < 16 ? (int)ldd : 16, kc, dst, ldd);
}
#endif
