// Winograd F(2×2, 3×3) (Lavin & Gray 2015) for 3×3 stride-1 convolutions: each 2×2 output tile costs 16
// multiplies per (input, output) channel pair instead of 36. Y = Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A with
//   Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1], G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1], Aᵀ = [1 1 1 0; 0 1 −1 −1].
// The 16 elementwise products over channels become 16 GEMMs (done by the caller with ck_sgemm).
#include "ck_internal.h"

/// The 16 planes of U, V and the products are this many floats apart: the size rounded up to 16 floats and
/// then offset by 16 more when it is a multiple of 4 KiB, so that the 16 interleaved store streams do not
/// alias in the cache (4 KiB aliasing made the transforms several times slower).
ptrdiff_t ck_winograd_plane(ptrdiff_t n) {
    ptrdiff_t p = (n + 15) / 16 * 16;
    if ((p * 4) % 4096 == 0) p += 16;
    return p;
}

/// Filters m0..m1-1; the loop over input channels has a scalar body so it vectorizes across channels.
static inline __attribute__((always_inline)) void weights_body(const float *w, int M, int C, int m0, int m1, float *U) {
    const ptrdiff_t plane = ck_winograd_plane((ptrdiff_t)M * C);
    for (int m = m0; m < m1; m++) {
        float *u = U + (ptrdiff_t)m * C;
        for (int c = 0; c < C; c++) {
            const float *g = w + ((ptrdiff_t)m * C + c) * 9;
            float t[4][3];   // G g
            for (int j = 0; j < 3; j++) {
                t[0][j] = g[j];
                t[1][j] = 0.5f * (g[j] + g[3 + j] + g[6 + j]);
                t[2][j] = 0.5f * (g[j] - g[3 + j] + g[6 + j]);
                t[3][j] = g[6 + j];
            }
            for (int i = 0; i < 4; i++) {   // (G g) Gᵀ
                u[(i * 4 + 0) * plane + c] = t[i][0];
                u[(i * 4 + 1) * plane + c] = 0.5f * (t[i][0] + t[i][1] + t[i][2]);
                u[(i * 4 + 2) * plane + c] = 0.5f * (t[i][0] - t[i][1] + t[i][2]);
                u[(i * 4 + 3) * plane + c] = t[i][2];
            }
        }
    }
}

/// One row of tiles: written as a loop over tiles with a scalar body so the compiler vectorizes across
/// tiles (stride-2 interleaved loads, 16 contiguous output streams).
static inline __attribute__((always_inline)) void input_row(const float *restrict r0, const float *restrict r1,
                                                            const float *restrict r2, const float *restrict r3,
                                                            int tW, float *restrict V, ptrdiff_t plane) {
    for (int tx = 0; tx < tW; tx++) {
        const int x = 2 * tx;
        float t[4][4];
        for (int j = 0; j < 4; j++) {
            t[0][j] = r0[x + j] - r2[x + j];
            t[1][j] = r1[x + j] + r2[x + j];
            t[2][j] = r2[x + j] - r1[x + j];
            t[3][j] = r1[x + j] - r3[x + j];
        }
        for (int i = 0; i < 4; i++) {
            V[(i * 4 + 0) * plane + tx] = t[i][0] - t[i][2];
            V[(i * 4 + 1) * plane + tx] = t[i][1] + t[i][2];
            V[(i * 4 + 2) * plane + tx] = t[i][2] - t[i][1];
            V[(i * 4 + 3) * plane + tx] = t[i][1] - t[i][3];
        }
    }
}

static inline __attribute__((always_inline)) void input_body(const float *x, int C, int H, int W, int tH, int tW, int c0, int c1, float *V) {
    const ptrdiff_t T = (ptrdiff_t)tH * tW, plane = ck_winograd_plane((ptrdiff_t)C * T);
    for (int c = c0; c < c1; c++)
        for (int ty = 0; ty < tH; ty++) {
            const float *r0 = x + ((ptrdiff_t)c * H + 2 * ty) * W;
            input_row(r0, r0 + W, r0 + 2 * W, r0 + 3 * W, tW, V + (ptrdiff_t)c * T + (ptrdiff_t)ty * tW, plane);
        }
}

/// One row of output tiles into two full-width scratch rows (2·tW wide; the caller copies OW of them).
static inline __attribute__((always_inline)) void output_row(const float *restrict Mx, ptrdiff_t plane, int tW, float b,
                                                             float *restrict y0, float *restrict y1) {
    for (int tx = 0; tx < tW; tx++) {
        float s[4][4], t[2][4];
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++) s[i][j] = Mx[(i * 4 + j) * plane + tx];
        for (int j = 0; j < 4; j++) { t[0][j] = s[0][j] + s[1][j] + s[2][j]; t[1][j] = s[1][j] - s[2][j] - s[3][j]; }
        y0[2 * tx] = t[0][0] + t[0][1] + t[0][2] + b;
        y0[2 * tx + 1] = t[0][1] - t[0][2] - t[0][3] + b;
        y1[2 * tx] = t[1][0] + t[1][1] + t[1][2] + b;
        y1[2 * tx + 1] = t[1][1] - t[1][2] - t[1][3] + b;
    }
}

static inline __attribute__((always_inline)) void output_body(const float *Mx, int M, int tH, int tW, int OH, int OW, int m0, int m1,
                                                               const float *bias, float *out) {
    const ptrdiff_t T = (ptrdiff_t)tH * tW, plane = ck_winograd_plane((ptrdiff_t)M * T);
    float *rows = ck_workspace(4, (size_t)4 * tW);
    if (!rows) return;   // out of memory, recorded by ck_workspace
    for (int m = m0; m < m1; m++) {
        const float b = bias ? bias[m] : 0.0f;
        for (int ty = 0; ty < tH; ty++) {
            output_row(Mx + (ptrdiff_t)m * T + (ptrdiff_t)ty * tW, plane, tW, b, rows, rows + 2 * tW);
            for (int i = 0; i < 2 && 2 * ty + i < OH; i++)
                memcpy(out + ((ptrdiff_t)m * OH + 2 * ty + i) * OW, rows + i * 2 * tW, sizeof(float) * OW);
        }
    }
}

#define CK_WINOGRAD_VARIANT(sfx, attr)                                                                           \
    attr static void weights_##sfx(const float *w, int M, int C, int m0, int m1, float *U) {                     \
        weights_body(w, M, C, m0, m1, U);                                                                        \
    }                                                                                                            \
    attr static void input_##sfx(const float *x, int C, int H, int W, int tH, int tW, int c0, int c1, float *V) { \
        input_body(x, C, H, W, tH, tW, c0, c1, V);                                                               \
    }                                                                                                            \
    attr static void output_##sfx(const float *Mx, int M, int tH, int tW, int OH, int OW, int m0, int m1,         \
                                  const float *bias, float *out) {                                               \
        output_body(Mx, M, tH, tW, OH, OW, m0, m1, bias, out);                                                   \
    }

CK_INSTANTIATE(CK_WINOGRAD_VARIANT)

void ck_winograd_weights(const float *w, int M, int C, int m0, int m1, float *U) {
    CK_PICK(weights, w, M, C, m0, m1, U)
}

#if CK_X86
#include <immintrin.h>

/// Columns x = 2·t + j (j = 0…3) of tiles t0…t0+n−1 of one input row, as four vectors over the tiles: the even
/// and odd elements of r[2·t0 …] and of r[2·t0 + 2 …] (loads masked to the 2n + 2 elements the tiles use).
static inline CK_TARGET_AVX512 void tile_columns(const float *r, int n, __m512 c[4]) {
    const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    const __m512i odd = _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
    const int need = 2 * n;   // elements from r[0] (and from r[2]) that the tiles read: 2n
    const __mmask16 m0 = (__mmask16)(need >= 16 ? 0xFFFF : (1u << need) - 1u);
    const __mmask16 m1 = (__mmask16)(need >= 32 ? 0xFFFF : need <= 16 ? 0 : (1u << (need - 16)) - 1u);
    const __m512 a0 = _mm512_maskz_loadu_ps(m0, r), a1 = _mm512_maskz_loadu_ps(m1, r + 16);
    const __m512 b0 = _mm512_maskz_loadu_ps(m0, r + 2), b1 = _mm512_maskz_loadu_ps(m1, r + 18);
    c[0] = _mm512_permutex2var_ps(a0, even, a1);
    c[1] = _mm512_permutex2var_ps(a0, odd, a1);
    c[2] = _mm512_permutex2var_ps(b0, even, b1);
    c[3] = _mm512_permutex2var_ps(b0, odd, b1);
}

/// input_row for AVX-512: 16 tiles at a time (the compiler leaves rows of fewer than 16 tiles — ResNet's 14×14
/// and 7×7 maps — scalar).
static inline CK_TARGET_AVX512 void input_row_avx512(const float *r0, const float *r1, const float *r2, const float *r3,
                                                      int tW, float *V, ptrdiff_t plane) {
    for (int t0 = 0; t0 < tW; t0 += 16) {
        const int n = tW - t0 < 16 ? tW - t0 : 16;
        const __mmask16 keep = (__mmask16)(n == 16 ? 0xFFFF : (1u << n) - 1u);
        __m512 d0[4], d1[4], d2[4], d3[4], t[4][4];
        tile_columns(r0 + 2 * t0, n, d0); tile_columns(r1 + 2 * t0, n, d1);
        tile_columns(r2 + 2 * t0, n, d2); tile_columns(r3 + 2 * t0, n, d3);
        for (int j = 0; j < 4; j++) {
            t[0][j] = _mm512_sub_ps(d0[j], d2[j]);
            t[1][j] = _mm512_add_ps(d1[j], d2[j]);
            t[2][j] = _mm512_sub_ps(d2[j], d1[j]);
            t[3][j] = _mm512_sub_ps(d1[j], d3[j]);
        }
        for (int i = 0; i < 4; i++) {
            _mm512_mask_storeu_ps(V + (i * 4 + 0) * plane + t0, keep, _mm512_sub_ps(t[i][0], t[i][2]));
            _mm512_mask_storeu_ps(V + (i * 4 + 1) * plane + t0, keep, _mm512_add_ps(t[i][1], t[i][2]));
            _mm512_mask_storeu_ps(V + (i * 4 + 2) * plane + t0, keep, _mm512_sub_ps(t[i][2], t[i][1]));
            _mm512_mask_storeu_ps(V + (i * 4 + 3) * plane + t0, keep, _mm512_sub_ps(t[i][1], t[i][3]));
        }
    }
}

static CK_TARGET_AVX512 void input_vec_avx512(const float *x, int C, int H, int W, int tH, int tW, int c0, int c1, float *V) {
    const ptrdiff_t T = (ptrdiff_t)tH * tW, plane = ck_winograd_plane((ptrdiff_t)C * T);
    for (int c = c0; c < c1; c++)
        for (int ty = 0; ty < tH; ty++) {
            const float *r0 = x + ((ptrdiff_t)c * H + 2 * ty) * W;
            input_row_avx512(r0, r0 + W, r0 + 2 * W, r0 + 3 * W, tW, V + (ptrdiff_t)c * T + (ptrdiff_t)ty * tW, plane);
        }
}
#endif

void ck_winograd_input(const float *x, int C, int H, int W, int tH, int tW, int c0, int c1, float *V) {
#if CK_X86
    if (ck_active_isa() == CK_ISA_AVX512) { input_vec_avx512(x, C, H, W, tH, tW, c0, c1, V); return; }
#endif
    CK_PICK(input, x, C, H, W, tH, tW, c0, c1, V)
}

void ck_winograd_output(const float *Mx, int M, int tH, int tW, int OH, int OW, int m0, int m1, const float *bias, float *out) {
    CK_PICK(output, Mx, M, tH, tW, OH, OW, m0, m1, bias, out)
}
