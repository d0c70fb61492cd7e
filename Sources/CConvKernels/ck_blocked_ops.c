// The other operators of inference plans in the blocked layout (NCHW16c): depthwise convolution, max and average
// pooling, global average pooling and the residual sum. Every one is vector arithmetic on 16 channels at a time.
#include "ck_internal.h"
#include "ck_vec16.h"
#include <float.h>

enum { DW_PW = 8 };

/// A run of PW output positions of one row of a block whose taps all lie inside the input: acc[j] = Σ_taps w[tap] ·
/// x[tap at position j], then bias, residual and clamp. S is the width stride when it is 1 or 2 (positions at
/// constant offsets), 0 to read it from g.
CK_V16_INLINE void dw_tile(const int PW, const int S, const ck_blocked_geom *g, const float *xb, const float *wb,
                           const float *bias, const float *res, float lo, float hi, int clamp, int oy, int x0, int kh0,
                           int kh1, float *out) {
    const int sw = S ? S : g->sw;
    ck_v16 acc[DW_PW];
    const ck_v16 b = bias ? v16_load(bias) : v16_zero();
#pragma clang loop unroll(full)
    for (int j = 0; j < PW; j++) acc[j] = b;
    for (int kh = kh0; kh < kh1; kh++) {
        const float *xr = xb + ((ptrdiff_t)(oy * g->sh - g->ph + kh * g->dh) * g->iw + x0 * sw - g->pw) * 16;
        const float *wr = wb + kh * g->kw * 16;
        for (int kw = 0; kw < g->kw; kw++) {
            const ck_v16 w = v16_load(wr + kw * 16);
            const float *p = xr + (ptrdiff_t)kw * g->dw * 16;
#pragma clang loop unroll(full)
            for (int j = 0; j < PW; j++) acc[j] += w * v16_load(p + (ptrdiff_t)j * sw * 16);
        }
    }
    const ck_v16 vlo = v16_splat(lo), vhi = v16_splat(hi);
#pragma clang loop unroll(full)
    for (int j = 0; j < PW; j++) {
        if (res) acc[j] += v16_load(res + j * 16);
        if (clamp) acc[j] = v16_clamp(acc[j], vlo, vhi);
        v16_store(out + j * 16, acc[j]);
    }
}

/// One output position near the left or right border: taps outside the input skipped.
CK_V16_INLINE void dw_point(const ck_blocked_geom *g, const float *xb, const float *wb, const float *bias,
                            const float *res, float lo, float hi, int clamp, int oy, int ox, int kh0, int kh1,
                            float *out) {
    ck_v16 acc = bias ? v16_load(bias) : v16_zero();
    const int xs = ox * g->sw - g->pw;
    for (int kh = kh0; kh < kh1; kh++) {
        const float *xr = xb + (ptrdiff_t)(oy * g->sh - g->ph + kh * g->dh) * g->iw * 16;
        for (int kw = 0; kw < g->kw; kw++) {
            const int ix = xs + kw * g->dw;
            if ((unsigned)ix < (unsigned)g->iw) acc += v16_load(wb + (kh * g->kw + kw) * 16) * v16_load(xr + (ptrdiff_t)ix * 16);
        }
    }
    if (res) acc += v16_load(res);
    if (clamp) acc = v16_clamp(acc, v16_splat(lo), v16_splat(hi));
    v16_store(out, acc);
}

typedef void (*dw_fn)(const ck_blocked_geom *, const float *, const float *, const float *, const float *, float, float,
                      int, int, int, int, int, float *);

/// tiles[s][pw]: interior tiles for stride class s (0: any, 1: stride 1, 2: stride 2) and pw positions.
CK_V16_INLINE void blocked_depthwise(dw_fn (*tiles)[DW_PW + 1], const ck_blocked_geom *g, const float *x, const float *w,
                                     const float *bias, const float *res, float lo, float hi, int b0, int b1, int oy0,
                                     int oy1, float *out) {
    const ptrdiff_t iplane = (ptrdiff_t)g->ih * g->iw * 16, oplane = (ptrdiff_t)g->oh * g->ow * 16;
    const int clamp = lo > -__builtin_inff() || hi < __builtin_inff();
    const dw_fn *fns = tiles[g->sw == 1 ? 1 : g->sw == 2 ? 2 : 0];
    // Interior columns [xlo, xhi): every tap of the window lies inside the row.
    int xlo = (g->pw + g->sw - 1) / g->sw, xhi = 0;
    const int span = g->iw - 1 + g->pw - (g->kw - 1) * g->dw;
    if (span >= 0) xhi = span / g->sw + 1;
    if (xlo > g->ow) xlo = g->ow;
    if (xhi > g->ow) xhi = g->ow;
    if (xhi < xlo) xhi = xlo;
    for (int b = b0; b < b1; b++) {
        const float *bv = bias ? bias + b * 16 : NULL;
        const float *wb = w + (ptrdiff_t)b * g->kh * g->kw * 16, *xb = x + b * iplane;
        for (int oy = oy0; oy < oy1; oy++) {
            int kh0 = 0, kh1 = g->kh;
            while (kh0 < kh1 && (unsigned)(oy * g->sh - g->ph + kh0 * g->dh) >= (unsigned)g->ih) kh0++;
            while (kh1 > kh0 && (unsigned)(oy * g->sh - g->ph + (kh1 - 1) * g->dh) >= (unsigned)g->ih) kh1--;
            const ptrdiff_t row = b * oplane + (ptrdiff_t)oy * g->ow * 16;
            const float *rr = res ? res + row : NULL;
            for (int ox = 0; ox < xlo; ox++)
                dw_point(g, xb, wb, bv, rr ? rr + ox * 16 : NULL, lo, hi, clamp, oy, ox, kh0, kh1, out + row + ox * 16);
            const int len = xhi - xlo;
            if (len > 0) {
                const int n = (len + DW_PW - 1) / DW_PW, base = len / n, extra = len % n;
                for (int t = 0, x0 = xlo; t < n; t++) {
                    const int pw = base + (t < extra);
                    fns[pw](g, xb, wb, bv, rr ? rr + (ptrdiff_t)x0 * 16 : NULL, lo, hi, clamp, oy, x0, kh0, kh1,
                            out + row + (ptrdiff_t)x0 * 16);
                    x0 += pw;
                }
            }
            for (int ox = xhi; ox < g->ow; ox++)
                dw_point(g, xb, wb, bv, rr ? rr + ox * 16 : NULL, lo, hi, clamp, oy, ox, kh0, kh1, out + row + ox * 16);
        }
    }
}

/// Max (mode 0) or average pooling counting the padding (1) or not (2) over blocks [b0, b1), rows [oy0, oy1):
/// windows clipped as ck_maxpool_forward / ck_avgpool_forward clip them (padding never wins a max; NaN
/// propagates; an empty window gives −FLT_MAX for max and 0 for average).
CK_V16_INLINE void blocked_pool(int mode, const ck_blocked_geom *g, const float *x, int b0, int b1, int oy0, int oy1,
                                float *out) {
    const ptrdiff_t iplane = (ptrdiff_t)g->ih * g->iw * 16, oplane = (ptrdiff_t)g->oh * g->ow * 16;
    for (int b = b0; b < b1; b++)
        for (int oy = oy0; oy < oy1; oy++)
            for (int ox = 0; ox < g->ow; ox++) {
                const int ys = oy * g->sh - g->ph, xs = ox * g->sw - g->pw;
                ck_v16 acc = mode == 0 ? v16_splat(-FLT_MAX) : v16_zero();
                int seen = 0;
                for (int kh = 0; kh < g->kh; kh++) {
                    const int iy = ys + kh * g->dh;
                    if ((unsigned)iy >= (unsigned)g->ih) continue;
                    const float *r = x + b * iplane + (ptrdiff_t)iy * g->iw * 16;
                    for (int kw = 0; kw < g->kw; kw++) {
                        const int ix = xs + kw * g->dw;
                        if ((unsigned)ix >= (unsigned)g->iw) continue;
                        const ck_v16 v = v16_load(r + (ptrdiff_t)ix * 16);
                        if (mode == 0) {
                            // NaN-propagating max: v wins when larger or NaN (the first seen value starts).
                            acc = seen ? v16_select((v > acc) | (v != v), v, acc) : v;
                        } else {
                            acc += v;
                        }
                        seen++;
                    }
                }
                if (mode != 0) {
                    int n = seen;
                    if (mode == 1) {   // the window clipped to input + padding
                        int ye = ys + g->kh, xe = xs + g->kw;
                        if (ye > g->ih + g->ph) ye = g->ih + g->ph;
                        if (xe > g->iw + g->pw) xe = g->iw + g->pw;
                        n = (ye - ys) * (xe - xs);
                    }
                    acc *= v16_splat(n > 0 ? 1.0f / (float)n : 0.0f);
                }
                v16_store(out + b * oplane + ((ptrdiff_t)oy * g->ow + ox) * 16, acc);
            }
}

/// out[b][16] = mean over the P positions of x[b][P][16], for blocks [b0, b1).
CK_V16_INLINE void blocked_global_average(const float *x, ptrdiff_t P, int b0, int b1, float *out) {
    for (int b = b0; b < b1; b++) {
        const float *s = x + b * P * 16;
        ck_v16 a0 = v16_zero(), a1 = v16_zero(), a2 = v16_zero(), a3 = v16_zero();
        ptrdiff_t p = 0;
        for (; p + 4 <= P; p += 4) {
            a0 += v16_load(s + p * 16); a1 += v16_load(s + p * 16 + 16);
            a2 += v16_load(s + p * 16 + 32); a3 += v16_load(s + p * 16 + 48);
        }
        for (; p < P; p++) a0 += v16_load(s + p * 16);
        v16_store(out + b * 16, ((a0 + a1) + (a2 + a3)) * v16_splat(1.0f / (float)P));
    }
}

/// out[i] = clamp(a[i] + b[i], lo, hi) for i in [0, 16·n); without b, clamp(a[i], lo, hi).
CK_V16_INLINE void blocked_add(const float *a, const float *b, float lo, float hi, ptrdiff_t n, float *out) {
    const ck_v16 vlo = v16_splat(lo), vhi = v16_splat(hi);
    if (b) {
        for (ptrdiff_t i = 0; i < n; i++) v16_store(out + i * 16, v16_clamp(v16_load(a + i * 16) + v16_load(b + i * 16), vlo, vhi));
    } else {
        for (ptrdiff_t i = 0; i < n; i++) v16_store(out + i * 16, v16_clamp(v16_load(a + i * 16), vlo, vhi));
    }
}

/// out[p] = a[p] ⊙ b[p] for n vectors when per_vector is 0 (same shapes); with per_vector = P, a is blocks of P
/// positions and b one vector per block: out[k·P + p] = a[k·P + p] ⊙ b[k] (a squeeze-excitation's channel scale).
CK_V16_INLINE void blocked_mul(const float *a, const float *b, ptrdiff_t n, ptrdiff_t per_vector, float *out) {
    if (per_vector == 0) {
        for (ptrdiff_t i = 0; i < n; i++) v16_store(out + i * 16, v16_load(a + i * 16) * v16_load(b + i * 16));
        return;
    }
    for (ptrdiff_t k = 0; k * per_vector < n; k++) {
        const ck_v16 s = v16_load(b + k * 16);
        const float *x = a + k * per_vector * 16;
        float *y = out + k * per_vector * 16;
        for (ptrdiff_t p = 0; p < per_vector; p++) v16_store(y + p * 16, v16_load(x + p * 16) * s);
    }
}

#define DW_TILE(sfx, attr, s, p)                                                                                 \
    attr static void dw_tile_##sfx##_##s##_##p(const ck_blocked_geom *g, const float *xb, const float *wb,          \
                                               const float *bias, const float *res, float lo, float hi, int clamp, \
                                               int oy, int x0, int kh0, int kh1, float *out) {                    \
        dw_tile(p, s, g, xb, wb, bias, res, lo, hi, clamp, oy, x0, kh0, kh1, out); }
#define DW_TILES(sfx, attr, s) DW_TILE(sfx, attr, s, 1) DW_TILE(sfx, attr, s, 2) DW_TILE(sfx, attr, s, 3)           \
    DW_TILE(sfx, attr, s, 4) DW_TILE(sfx, attr, s, 5) DW_TILE(sfx, attr, s, 6) DW_TILE(sfx, attr, s, 7)             \
    DW_TILE(sfx, attr, s, 8)
#define DW_ROW(sfx, s) {NULL, dw_tile_##sfx##_##s##_1, dw_tile_##sfx##_##s##_2, dw_tile_##sfx##_##s##_3,               \
    dw_tile_##sfx##_##s##_4, dw_tile_##sfx##_##s##_5, dw_tile_##sfx##_##s##_6, dw_tile_##sfx##_##s##_7,               \
    dw_tile_##sfx##_##s##_8}
#define CK_BLOCKED_OPS_VARIANT(sfx, attr)                                                                        \
    DW_TILES(sfx, attr, 0) DW_TILES(sfx, attr, 1) DW_TILES(sfx, attr, 2)                                         \
    static dw_fn dw_tiles_##sfx[3][DW_PW + 1] = {DW_ROW(sfx, 0), DW_ROW(sfx, 1), DW_ROW(sfx, 2)};                 \
    attr static void blocked_depthwise_##sfx(const ck_blocked_geom *g, const float *x, const float *w, const float *bias, \
                                             const float *res, float lo, float hi, int b0, int b1, int oy0, int oy1,  \
                                             float *out) {                                                       \
        blocked_depthwise(dw_tiles_##sfx, g, x, w, bias, res, lo, hi, b0, b1, oy0, oy1, out); }                 \
    attr static void blocked_pool_##sfx(int mode, const ck_blocked_geom *g, const float *x, int b0, int b1, int oy0, \
                                        int oy1, float *out) { blocked_pool(mode, g, x, b0, b1, oy0, oy1, out); }  \
    attr static void blocked_global_average_##sfx(const float *x, ptrdiff_t P, int b0, int b1, float *out) {      \
        blocked_global_average(x, P, b0, b1, out); }                                                             \
    attr static void blocked_add_##sfx(const float *a, const float *b, float lo, float hi, ptrdiff_t n, float *out) { \
        blocked_add(a, b, lo, hi, n, out); }                                                                   \
    attr static void blocked_mul_##sfx(const float *a, const float *b, ptrdiff_t n, ptrdiff_t per, float *out) { \
        blocked_mul(a, b, n, per, out); }
CK_INSTANTIATE(CK_BLOCKED_OPS_VARIANT)

void ck_blocked_depthwise(const ck_blocked_geom *g, const float *x, const float *w, const float *bias, const float *res,
                          float lo, float hi, int b0, int b1, int oy0, int oy1, float *out) {
    CK_PICK(blocked_depthwise, g, x, w, bias, res, lo, hi, b0, b1, oy0, oy1, out)
}
void ck_blocked_pool(int mode, const ck_blocked_geom *g, const float *x, int b0, int b1, int oy0, int oy1, float *out) {
    CK_PICK(blocked_pool, mode, g, x, b0, b1, oy0, oy1, out)
}
void ck_blocked_global_average(const float *x, ptrdiff_t P, int b0, int b1, float *out) {
    CK_PICK(blocked_global_average, x, P, b0, b1, out)
}
void ck_blocked_add(const float *a, const float *b, float lo, float hi, ptrdiff_t n, float *out) {
    CK_PICK(blocked_add, a, b, lo, hi, n, out)
}
void ck_blocked_mul(const float *a, const float *b, ptrdiff_t n, ptrdiff_t per_vector, float *out) {
    CK_PICK(blocked_mul, a, b, n, per_vector, out)
}
