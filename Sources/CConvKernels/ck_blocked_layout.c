// Conversions between the plain layout (NCHW) and the blocked one (NCHW16c) for inference plans.
#include "ck_internal.h"
#include "ck_vec16.h"

/// Blocks [b0, b1) of out (blocks bs apart, each [P][16]) from x's channels cs apart, each P positions (lanes past C
/// zero).
CK_V16_INLINE void to_blocked(const float *x, int C, ptrdiff_t cs, ptrdiff_t P, int b0, int b1, float *out, ptrdiff_t bs) {
    for (int b = b0; b < b1; b++) {
        const int lanes = C - 16 * b < 16 ? C - 16 * b : 16;
        const float *src = x + (ptrdiff_t)16 * b * cs;
        float *dst = out + (ptrdiff_t)b * bs;
        for (ptrdiff_t p0 = 0; p0 < P; p0 += 16) {
            const int n = P - p0 < 16 ? (int)(P - p0) : 16;
            float t[16][16];   // [position][lane]
            for (int l = 0; l < 16; l++)
                for (int i = 0; i < n; i++) t[i][l] = l < lanes ? src[(ptrdiff_t)l * cs + p0 + i] : 0.0f;
            for (int i = 0; i < n; i++) v16_store(dst + (p0 + i) * 16, v16_load(t[i]));
        }
    }
}

/// Channels of blocks [b0, b1) of out (channels cs apart, each P positions) from x's blocks (bs apart, each [P][16]).
CK_V16_INLINE void from_blocked(const float *x, ptrdiff_t bs, int C, ptrdiff_t P, int b0, int b1, float *out, ptrdiff_t cs) {
    for (int b = b0; b < b1; b++) {
        const int lanes = C - 16 * b < 16 ? C - 16 * b : 16;
        const float *src = x + (ptrdiff_t)b * bs;
        float *dst = out + (ptrdiff_t)16 * b * cs;
        for (ptrdiff_t p0 = 0; p0 < P; p0 += 16) {
            const int n = P - p0 < 16 ? (int)(P - p0) : 16;
            float t[16][16];
            for (int i = 0; i < n; i++) v16_store(t[i], v16_load(src + (p0 + i) * 16));
            for (int l = 0; l < lanes; l++)
                for (int i = 0; i < n; i++) dst[(ptrdiff_t)l * cs + p0 + i] = t[i][l];
        }
    }
}

#define CK_LAYOUT_VARIANT(sfx, attr)                                                                         \
    attr static void to_blocked_##sfx(const float *x, int C, ptrdiff_t cs, ptrdiff_t P, int b0, int b1,      \
                                      float *out, ptrdiff_t bs) { to_blocked(x, C, cs, P, b0, b1, out, bs); } \
    attr static void from_blocked_##sfx(const float *x, ptrdiff_t bs, int C, ptrdiff_t P, int b0, int b1,    \
                                        float *out, ptrdiff_t cs) { from_blocked(x, bs, C, P, b0, b1, out, cs); }
CK_INSTANTIATE(CK_LAYOUT_VARIANT)

#if CK_X86
#include <immintrin.h>
#pragma clang attribute push(CK_TARGET_AVX512, apply_to = function)
#include "ck_avx512_transpose.h"
/// AVX-512: whole 16 × 16 tiles (16 channels × 16 positions) by register transposes; partial tiles (the last
/// positions, blocks of fewer than 16 channels) by the portable loops.
static void to_blocked_fast(const float *x, int C, ptrdiff_t cs, ptrdiff_t P, int b0, int b1, float *out, ptrdiff_t bs) {
    for (int b = b0; b < b1; b++) {
        if (C - 16 * b < 16) { to_blocked_avx512(x, C, cs, P, b, b + 1, out, bs); continue; }
        const float *src = x + (ptrdiff_t)16 * b * cs;
        float *dst = out + (ptrdiff_t)b * bs;
        const ptrdiff_t whole = P / 16 * 16;
        for (ptrdiff_t p0 = 0; p0 < whole; p0 += 16) {
            __m512 r[16];
            for (int l = 0; l < 16; l++) r[l] = _mm512_loadu_ps(src + l * cs + p0);
            transpose16_avx512(r);
            for (int i = 0; i < 16; i++) _mm512_storeu_ps(dst + (p0 + i) * 16, r[i]);
        }
        for (ptrdiff_t p = whole; p < P; p++)
            for (int l = 0; l < 16; l++) dst[p * 16 + l] = src[l * cs + p];
    }
}
static void from_blocked_fast(const float *x, ptrdiff_t bs, int C, ptrdiff_t P, int b0, int b1, float *out, ptrdiff_t cs) {
    for (int b = b0; b < b1; b++) {
        if (C - 16 * b < 16) { from_blocked_avx512(x, bs, C, P, b, b + 1, out, cs); continue; }
        const float *src = x + (ptrdiff_t)b * bs;
        float *dst = out + (ptrdiff_t)16 * b * cs;
        const ptrdiff_t whole = P / 16 * 16;
        for (ptrdiff_t p0 = 0; p0 < whole; p0 += 16) {
            __m512 r[16];
            for (int i = 0; i < 16; i++) r[i] = _mm512_loadu_ps(src + (p0 + i) * 16);
            transpose16_avx512(r);
            for (int l = 0; l < 16; l++) _mm512_storeu_ps(dst + l * cs + p0, r[l]);
        }
        for (ptrdiff_t p = whole; p < P; p++)
            for (int l = 0; l < 16; l++) dst[l * cs + p] = src[p * 16 + l];
    }
}
#pragma clang attribute pop
#endif

void ck_to_blocked_strided(const float *x, int C, ptrdiff_t cs, ptrdiff_t P, int b0, int b1, float *out, ptrdiff_t bs) {
#if CK_X86
    if (ck_active_isa() == CK_ISA_AVX512) { to_blocked_fast(x, C, cs, P, b0, b1, out, bs); return; }
#endif
    CK_PICK(to_blocked, x, C, cs, P, b0, b1, out, bs)
}
void ck_from_blocked_strided(const float *x, ptrdiff_t bs, int C, ptrdiff_t P, int b0, int b1, float *out, ptrdiff_t cs) {
#if CK_X86
    if (ck_active_isa() == CK_ISA_AVX512) { from_blocked_fast(x, bs, C, P, b0, b1, out, cs); return; }
#endif
    CK_PICK(from_blocked, x, bs, C, P, b0, b1, out, cs)
}
void ck_to_blocked(const float *x, int C, ptrdiff_t P, int b0, int b1, float *out) {
    ck_to_blocked_strided(x, C, P, P, b0, b1, out, P * 16);
}
void ck_from_blocked(const float *x, int C, ptrdiff_t P, int b0, int b1, float *out) {
    ck_from_blocked_strided(x, P * 16, C, P, b0, b1, out, P);
}
