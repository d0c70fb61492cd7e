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

CK_WINOGRAD_VARIANT(generic, )
#if CK_X86
CK_WINOGRAD_VARIANT(avx2, __attribute__((target("avx2,fma"))))
CK_WINOGRAD_VARIANT(avx512, __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma"))))
#endif

void ck_winograd_weights(const float *w, int M, int C, int m0, int m1, float *U) {
    CK_PICK(weights, w, M, C, m0, m1, U)
}

void ck_winograd_input(const float *x, int C, int H, int W, int tH, int tW, int c0, int c1, float *V) {
    CK_PICK(input, x, C, H, W, tH, tW, c0, c1, V)
}

void ck_winograd_output(const float *Mx, int M, int tH, int tW, int OH, int OW, int m0, int m1, const float *bias, float *out) {
    CK_PICK(output, Mx, M, tH, tW, OH, OW, m0, m1, bias, out)
}
