// Max and average pooling, 1-D/2-D/3-D, over planes (batch × channels flattened).
#include "ck_internal.h"
#include <float.h>

static inline int is_2x2s2(const ck_conv_geom *g) {
    return g->kd == 1 && g->kh == 2 && g->kw == 2 && g->sd == 1 && g->sh == 2 && g->sw == 2 &&
           g->pd == 0 && g->ph == 0 && g->pw == 0 && g->dh == 1 && g->dw == 1 && g->id == 1 &&
           2 * g->oh <= g->ih && 2 * g->ow <= g->iw;
}

/// NaN-propagating max (PyTorch's): b wins when it is larger or NaN.
static inline __attribute__((always_inline)) float max_nan(float a, float b) { return b > a || b != b ? b : a; }

/// Separable max pooling for inference (2-D, no dilation): the max over each window's rows into a scratch
/// row, then over its columns; the interior columns, whose windows lie inside the row, without bounds checks
/// so the loop vectorizes.
static inline __attribute__((always_inline)) void maxpool_separable(const ck_conv_geom *g, const float *x, int c0, int c1,
                                                                     float *out) {
    const ptrdiff_t iplane = (ptrdiff_t)g->ih * g->iw, oplane = (ptrdiff_t)g->oh * g->ow;
    float colmax[4096];
    // Output columns whose window lies inside the row: t·sw − pw ≥ 0 and t·sw − pw + kw ≤ iw.
    int tlo = (g->pw + g->sw - 1) / g->sw, thi = g->iw + g->pw - g->kw < 0 ? 0 : (g->iw + g->pw - g->kw) / g->sw + 1;
    if (thi > g->ow) thi = g->ow;
    if (tlo > thi) tlo = thi;
    for (int c = c0; c < c1; c++)
        for (int y = 0; y < g->oh; y++) {
            int y0 = y * g->sh - g->ph, y1 = y0 + g->kh;
            if (y0 < 0) y0 = 0;
            if (y1 > g->ih) y1 = g->ih;
            float *o = out + c * oplane + (ptrdiff_t)y * g->ow;
            if (y0 >= y1) { for (int t = 0; t < g->ow; t++) o[t] = -FLT_MAX; continue; }
            const float *r = x + c * iplane + (ptrdiff_t)y0 * g->iw;
            for (int i = 0; i < g->iw; i++) colmax[i] = r[i];
            for (int yy = y0 + 1; yy < y1; yy++) {
                const float *rr = x + c * iplane + (ptrdiff_t)yy * g->iw;
                for (int i = 0; i < g->iw; i++) colmax[i] = max_nan(colmax[i], rr[i]);
            }
            const float *cm = colmax - g->pw;
            if (g->kw == 3 && g->sw == 2) {
                for (int t = tlo; t < thi; t++) o[t] = max_nan(max_nan(cm[2 * t], cm[2 * t + 1]), cm[2 * t + 2]);
            } else {
                for (int t = tlo; t < thi; t++) {
                    float best = cm[t * g->sw];
                    for (int e = 1; e < g->kw; e++) best = max_nan(best, cm[t * g->sw + e]);
                    o[t] = best;
                }
            }
            for (int t = 0; t < g->ow; t++) {
                if (t == tlo && tlo < thi) { t = thi - 1; continue; }
                int x0 = t * g->sw - g->pw, x1 = x0 + g->kw;
                if (x0 < 0) x0 = 0;
                if (x1 > g->iw) x1 = g->iw;
                float best = -FLT_MAX;
                for (int i = x0; i < x1; i++) best = max_nan(best, colmax[i]);
                o[t] = best;
            }
        }
}

#define CK_POOL_VARIANT(sfx, attr)                                                                               \
    attr static void maxpool_separable_##sfx(const ck_conv_geom *g, const float *x, int c0, int c1, float *out) { \
        maxpool_separable(g, x, c0, c1, out);                                                                    \
    }
CK_INSTANTIATE(CK_POOL_VARIANT)

void ck_maxpool_forward(const ck_conv_geom *g, const float *x, int c0, int c1, float *out, int32_t *argmax) {
    const ptrdiff_t iplane = (ptrdiff_t)g->id * g->ih * g->iw, oplane = (ptrdiff_t)g->od * g->oh * g->ow;
    if (is_2x2s2(g) && argmax) {
        // The first of equal values wins, scanning row by row (the general path's order).
        for (int c = c0; c < c1; c++)
            for (int y = 0; y < g->oh; y++) {
                const float *r0 = x + c * iplane + (ptrdiff_t)(2 * y) * g->iw, *r1 = r0 + g->iw;
                float *o = out + c * oplane + (ptrdiff_t)y * g->ow;
                int32_t *am = argmax + c * oplane + (ptrdiff_t)y * g->ow;
                const int32_t base = 2 * y * g->iw;
                for (int t = 0; t < g->ow; t++) {
                    float a = r0[2 * t], b = r0[2 * t + 1], cc = r1[2 * t], d = r1[2 * t + 1];
                    float best = a; int32_t idx = base + 2 * t;
                    if (b > best || b != b) { best = b; idx = base + 2 * t + 1; }
                    if (cc > best || cc != cc) { best = cc; idx = base + g->iw + 2 * t; }
                    if (d > best || d != d) { best = d; idx = base + g->iw + 2 * t + 1; }
                    o[t] = best; am[t] = idx;
                }
            }
        return;
    }
    if (is_2x2s2(g) && !argmax) {
        for (int c = c0; c < c1; c++)
            for (int y = 0; y < g->oh; y++) {
                const float *r0 = x + c * iplane + (ptrdiff_t)(2 * y) * g->iw, *r1 = r0 + g->iw;
                float *o = out + c * oplane + (ptrdiff_t)y * g->ow;
                for (int t = 0; t < g->ow; t++) {
                    // NaN wherever one of the four is NaN, as the argmax path and PyTorch.
                    o[t] = max_nan(max_nan(r0[2 * t], r0[2 * t + 1]), max_nan(r1[2 * t], r1[2 * t + 1]));
                }
            }
        return;
    }
    if (!argmax && g->id == 1 && g->kd == 1 && g->dh == 1 && g->dw == 1 && g->iw <= 4096) {
        CK_PICK(maxpool_separable, g, x, c0, c1, out)
    }
    for (int c = c0; c < c1; c++) {
        const float *xc = x + c * iplane;
        ptrdiff_t o = c * oplane;
        for (int z = 0; z < g->od; z++)
            for (int y = 0; y < g->oh; y++)
                for (int t = 0; t < g->ow; t++, o++) {
                    float best = -FLT_MAX; int32_t arg = -1; int seen = 0;
                    for (int a = 0; a < g->kd; a++) {
                        int iz = z * g->sd - g->pd + a * g->dd;
                        if (iz < 0 || iz >= g->id) continue;
                        for (int b = 0; b < g->kh; b++) {
                            int iy = y * g->sh - g->ph + b * g->dh;
                            if (iy < 0 || iy >= g->ih) continue;
                            for (int e = 0; e < g->kw; e++) {
                                int ix = t * g->sw - g->pw + e * g->dw;
                                if (ix < 0 || ix >= g->iw) continue;
                                int32_t idx = (int32_t)(((ptrdiff_t)iz * g->ih + iy) * g->iw + ix);
                                float v = xc[idx];
                                // NaN propagates, as in PyTorch.
                                if (!seen || v > best || v != v) { best = v; arg = idx; seen = 1; }
                            }
                        }
                    }
                    out[o] = seen ? best : -FLT_MAX;
                    if (argmax) argmax[o] = arg;
                }
    }
}

void ck_maxpool_backward(const ck_conv_geom *g, const float *dy, const int32_t *argmax, int c0, int c1, float *dx) {
    const ptrdiff_t iplane = (ptrdiff_t)g->id * g->ih * g->iw, oplane = (ptrdiff_t)g->od * g->oh * g->ow;
    for (int c = c0; c < c1; c++)
        for (ptrdiff_t o = c * oplane; o < (c + 1) * oplane; o++)
            if (argmax[o] >= 0) dx[c * iplane + argmax[o]] += dy[o];
}

/// Window of output coordinate o along one axis: [start, end) clipped to the input, and the padded size.
static inline void window(int o, int s, int p, int k, int n, int *lo, int *hi, int *padded) {
    int start = o * s - p, end = start + k;
    if (end > n + p) end = n + p;
    *padded = end - start;
    *lo = start < 0 ? 0 : start;
    *hi = end > n ? n : end;
}

#define CK_AVG_LOOP(...)                                                                       \
    const ptrdiff_t iplane = (ptrdiff_t)g->id * g->ih * g->iw, oplane = (ptrdiff_t)g->od * g->oh * g->ow; \
    for (int c = c0; c < c1; c++) {                                                             \
        ptrdiff_t o = c * oplane;                                                               \
        for (int z = 0; z < g->od; z++) {                                                       \
            int z0, z1, pz; window(z, g->sd, g->pd, g->kd, g->id, &z0, &z1, &pz);               \
            for (int y = 0; y < g->oh; y++) {                                                   \
                int y0, y1, py; window(y, g->sh, g->ph, g->kh, g->ih, &y0, &y1, &py);           \
                for (int t = 0; t < g->ow; t++, o++) {                                          \
                    int x0, x1, px; window(t, g->sw, g->pw, g->kw, g->iw, &x0, &x1, &px);       \
                    int n = count_include_pad ? pz * py * px : (z1 - z0) * (y1 - y0) * (x1 - x0); \
                    float inv = n > 0 ? 1.0f / (float)n : 0.0f;                                 \
 __VA_ARGS__ \
                }                                                                               \
            }                                                                                   \
        }                                                                                       \
    }

void ck_avgpool_forward(const ck_conv_geom *g, const float *x, int c0, int c1, int count_include_pad, float *out) {
    CK_AVG_LOOP({
        float s = 0.0f;
        for (int iz = z0; iz < z1; iz++)
            for (int iy = y0; iy < y1; iy++) {
                const float *r = x + c * iplane + ((ptrdiff_t)iz * g->ih + iy) * g->iw;
                for (int ix = x0; ix < x1; ix++) s += r[ix];
            }
        out[o] = s * inv;
    })
}

void ck_avgpool_backward(const ck_conv_geom *g, const float *dy, int c0, int c1, int count_include_pad, float *dx) {
    CK_AVG_LOOP({
        float v = dy[o] * inv;
        for (int iz = z0; iz < z1; iz++)
            for (int iy = y0; iy < y1; iy++) {
                float *r = dx + c * iplane + ((ptrdiff_t)iz * g->ih + iy) * g->iw;
                for (int ix = x0; ix < x1; ix++) r[ix] += v;
            }
    })
}
