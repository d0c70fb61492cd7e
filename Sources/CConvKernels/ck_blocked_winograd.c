// Winograd F(m×m, 3×3) in the blocked layout (m = 2 or 4; tiles of t = m + 2): the input and output transforms,
// vectorized over the 16 channels of a block. Between them the t² products are 1×1 convolutions over the tiles,
// run by ck_blocked_conv. Lavin and Gray's matrices:
//   F(2,3): Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1], Aᵀ = [1 1 1 0; 0 1 −1 −1]
//   F(4,3): Bᵀ = [4 0 −5 0 1 0; 0 −4 −4 1 1 0; 0 4 −4 −1 1 0; 0 −2 −1 2 1 0; 0 2 −1 −2 1 0; 0 4 0 −5 0 1],
//           Aᵀ = [1 1 1 1 1 0; 0 1 −1 2 −2 0; 0 1 1 4 4 0; 0 1 −1 8 −8 1]
#include "ck_internal.h"
#include "ck_vec16.h"

/// v = Bᵀ d along one axis (t values, stride 1 in the arrays).
CK_V16_INLINE void input_1d(const int m, const ck_v16 *d, ck_v16 *v) {
    if (m == 2) {
        v[0] = d[0] - d[2]; v[1] = d[1] + d[2]; v[2] = d[2] - d[1]; v[3] = d[1] - d[3];
    } else {
        const ck_v16 four = v16_splat(4), five = v16_splat(5), two = v16_splat(2);
        v[0] = four * d[0] - five * d[2] + d[4];
        v[1] = d[3] + d[4] - four * (d[1] + d[2]);
        v[2] = four * (d[1] - d[2]) + d[4] - d[3];
        v[3] = two * (d[3] - d[1]) + d[4] - d[2];
        v[4] = two * (d[1] - d[3]) + d[4] - d[2];
        v[5] = four * d[1] - five * d[3] + d[5];
    }
}

/// y = Aᵀ v along one axis (t values in, m out).
CK_V16_INLINE void output_1d(const int m, const ck_v16 *v, ck_v16 *y) {
    if (m == 2) {
        y[0] = v[0] + v[1] + v[2]; y[1] = v[1] - v[2] - v[3];
    } else {
        const ck_v16 a = v[1] + v[2], b = v[1] - v[2], c = v[3] + v[4], d = v[3] - v[4];
        y[0] = v[0] + a + c;
        y[1] = b + v16_splat(2) * d;
        y[2] = a + v16_splat(4) * c;
        y[3] = b + v16_splat(8) * d + v[5];
    }
}

/// V[ξ][cb][tile][16] = Bᵀ d Bᵀᵀ for blocks [cb0, cb1) of one image; d is the t×t input window of each tile
/// (rows ty·m − ph …, columns tx·m − pw …; zeros outside). ξ planes are vstride floats apart.
CK_V16_INLINE void wino_input(const int m, const ck_blocked_geom *g, const float *x, int cb0, int cb1, int tH, int tW,
                              ptrdiff_t vstride, float *V) {
    const int t = m + 2, T = tH * tW;
    const ptrdiff_t plane = (ptrdiff_t)g->ih * g->iw * 16;
    for (int cb = cb0; cb < cb1; cb++) {
        const float *xb = x + cb * plane;
        for (int ty = 0; ty < tH; ty++)
            for (int tx = 0; tx < tW; tx++) {
                const int y0 = ty * m - g->ph, x0 = tx * m - g->pw;
                ck_v16 d[6][6], r[6][6];
#pragma clang loop unroll(full)
                for (int i = 0; i < t; i++) {
                    const int iy = y0 + i;
                    ck_v16 row[6];
#pragma clang loop unroll(full)
                    for (int j = 0; j < t; j++) {
                        const int ix = x0 + j;
                        row[j] = (unsigned)iy < (unsigned)g->ih && (unsigned)ix < (unsigned)g->iw
                                     ? v16_load(xb + ((ptrdiff_t)iy * g->iw + ix) * 16) : v16_zero();
                    }
                    input_1d(m, row, d[i]);   // d[i][*]: row i transformed along columns
                }
#pragma clang loop unroll(full)
                for (int j = 0; j < t; j++) {
                    ck_v16 col[6], out[6];
#pragma clang loop unroll(full)
                    for (int i = 0; i < t; i++) col[i] = d[i][j];
                    input_1d(m, col, out);
#pragma clang loop unroll(full)
                    for (int i = 0; i < t; i++) r[i][j] = out[i];
                }
                float *v = V + ((ptrdiff_t)cb * T + (ptrdiff_t)ty * tW + tx) * 16;
#pragma clang loop unroll(full)
                for (int i = 0; i < t; i++)
#pragma clang loop unroll(full)
                    for (int j = 0; j < t; j++) v16_store(v + (i * t + j) * vstride, r[i][j]);
            }
    }
}

/// out[ob][oy][ox] = clamp(Aᵀ M Aᵀᵀ + bias + res, lo, hi) for blocks [ob0, ob1) of one image, M[ξ][ob][tile][16]
/// (ξ planes mstride floats apart); the m×m outputs of edge tiles are clipped to oh × ow.
CK_V16_INLINE void wino_output(const int m, const float *M, ptrdiff_t mstride, int ob0, int ob1, int tH, int tW,
                               int oh, int ow, const float *bias, const float *res, float lo, float hi, float *out) {
    const int t = m + 2, T = tH * tW;
    const ptrdiff_t plane = (ptrdiff_t)oh * ow * 16;
    const int clamp = lo > -__builtin_inff() || hi < __builtin_inff();
    const ck_v16 vlo = v16_splat(lo), vhi = v16_splat(hi);
    for (int ob = ob0; ob < ob1; ob++) {
        const ck_v16 b = bias ? v16_load(bias + ob * 16) : v16_zero();
        for (int ty = 0; ty < tH; ty++)
            for (int tx = 0; tx < tW; tx++) {
                const float *mp = M + ((ptrdiff_t)ob * T + (ptrdiff_t)ty * tW + tx) * 16;
                ck_v16 a[6][4], y[4][4];
#pragma clang loop unroll(full)
                for (int i = 0; i < t; i++) {
                    ck_v16 row[6];
#pragma clang loop unroll(full)
                    for (int j = 0; j < t; j++) row[j] = v16_load(mp + (i * t + j) * mstride);
                    output_1d(m, row, a[i]);
                }
#pragma clang loop unroll(full)
                for (int j = 0; j < m; j++) {
                    ck_v16 col[6], o[4];
#pragma clang loop unroll(full)
                    for (int i = 0; i < t; i++) col[i] = a[i][j];
                    output_1d(m, col, o);
#pragma clang loop unroll(full)
                    for (int i = 0; i < m; i++) y[i][j] = o[i];
                }
                for (int i = 0; i < m; i++) {
                    const int oy = ty * m + i;
                    if (oy >= oh) break;
                    for (int j = 0; j < m; j++) {
                        const int ox = tx * m + j;
                        if (ox >= ow) break;
                        const ptrdiff_t at = ob * plane + ((ptrdiff_t)oy * ow + ox) * 16;
                        ck_v16 v = y[i][j] + b;
                        if (res) v += v16_load(res + at);
                        if (clamp) v = v16_clamp(v, vlo, vhi);
                        v16_store(out + at, v);
                    }
                }
            }
    }
}

#define CK_WINOGRAD_BLOCKED_VARIANT(sfx, attr)                                                                  \
    attr static void wino_input_##sfx(int m, const ck_blocked_geom *g, const float *x, int cb0, int cb1, int tH,  \
                                      int tW, ptrdiff_t vstride, float *V) {                                     \
        if (m == 2) wino_input(2, g, x, cb0, cb1, tH, tW, vstride, V);                                           \
        else wino_input(4, g, x, cb0, cb1, tH, tW, vstride, V); }                                               \
    attr static void wino_output_##sfx(int m, const float *M, ptrdiff_t mstride, int ob0, int ob1, int tH, int tW, \
                                       int oh, int ow, const float *bias, const float *res, float lo, float hi,     \
                                       float *out) {                                                            \
        if (m == 2) wino_output(2, M, mstride, ob0, ob1, tH, tW, oh, ow, bias, res, lo, hi, out);                \
        else wino_output(4, M, mstride, ob0, ob1, tH, tW, oh, ow, bias, res, lo, hi, out); }
CK_INSTANTIATE(CK_WINOGRAD_BLOCKED_VARIANT)

void ck_winograd_blocked_input(int m, const ck_blocked_geom *g, const float *x, int cb0, int cb1, int tH, int tW,
                               ptrdiff_t vstride, float *V) {
    CK_PICK(wino_input, m, g, x, cb0, cb1, tH, tW, vstride, V)
}
void ck_winograd_blocked_output(int m, const float *M, ptrdiff_t mstride, int ob0, int ob1, int tH, int tW, int oh, int ow,
                                const float *bias, const float *res, float lo, float hi, float *out) {
    CK_PICK(wino_output, m, M, mstride, ob0, ob1, tH, tW, oh, ow, bias, res, lo, hi, out)
}
