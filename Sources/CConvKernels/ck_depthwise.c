// Direct depthwise convolution: one filter per channel, no im2col.
#include "ck_internal.h"

/// Output columns x whose input column x*s - p + off lies in [0, n): returns [lo, hi).
static inline void valid_range(int out, int s, int start, int n, int *lo, int *hi) {
    // need 0 <= x*s + start < n
    int l = start >= 0 ? 0 : (-start + s - 1) / s;
    int h = n - start <= 0 ? 0 : (n - start - 1) / s + 1;
    if (h > out) h = out;
    if (l > h) l = h;
    *lo = l; *hi = h;
}

#define CK_DW_LOOP(...)                                                                   \
    const ptrdiff_t iplane = (ptrdiff_t)g->ih * g->iw, ichan = (ptrdiff_t)g->id * iplane;   \
    const ptrdiff_t oplane = (ptrdiff_t)g->oh * g->ow, ochan = (ptrdiff_t)g->od * oplane;   \
    const int kvol = g->kd * g->kh * g->kw;                                                \
    for (int c = c0; c < c1; c++) {                                                        \
        const float *xc = x ? x + c * ichan : 0;                                           \
        int tap = 0;                                                                       \
        for (int a = 0; a < g->kd; a++)                                                    \
            for (int b = 0; b < g->kh; b++)                                                \
                for (int e = 0; e < g->kw; e++, tap++) {                                   \
                    int lo, hi;                                                            \
                    valid_range(g->ow, g->sw, e * g->dw - g->pw, g->iw, &lo, &hi);         \
                    const ptrdiff_t widx = (ptrdiff_t)c * kvol + tap;                      \
                    for (int z = 0; z < g->od; z++) {                                      \
                        int iz = z * g->sd - g->pd + a * g->dd;                            \
                        if (iz < 0 || iz >= g->id) continue;                               \
                        for (int y = 0; y < g->oh; y++) {                                  \
                            int iy = y * g->sh - g->ph + b * g->dh;                        \
                            if (iy < 0 || iy >= g->ih) continue;                           \
                            const ptrdiff_t irow = c * ichan + iz * iplane + (ptrdiff_t)iy * g->iw + e * g->dw - g->pw; \
                            const ptrdiff_t orow = c * ochan + z * oplane + (ptrdiff_t)y * g->ow; \
 __VA_ARGS__ \
                        }                                                                  \
                    }                                                                      \
                }                                                                          \
        (void)xc;                                                                          \
    }

void ck_depthwise_forward(const ck_conv_geom *g, const float *x, const float *w, const float *bias,
                          int c0, int c1, float *out) {
    const ptrdiff_t oc = (ptrdiff_t)g->od * g->oh * g->ow;
    for (int c = c0; c < c1; c++) {
        float v = bias ? bias[c] : 0.0f;
        for (ptrdiff_t i = 0; i < oc; i++) out[c * oc + i] = v;
    }
    const int sw = g->sw;
    CK_DW_LOOP({
        const float wv = w[widx];
        const float *src = x + irow;
        float *dst = out + orow;
        if (sw == 1) for (int ox = lo; ox < hi; ox++) dst[ox] += wv * src[ox];
        else for (int ox = lo; ox < hi; ox++) dst[ox] += wv * src[ox * sw];
    })
}

void ck_depthwise_backward(const ck_conv_geom *g, const float *x, const float *w, const float *dy,
                           int c0, int c1, float *dx, float *dw) {
    const int sw = g->sw;
    CK_DW_LOOP({
        const float *gy = dy + orow;
        if (dx) {
            const float wv = w[widx];
            float *dst = dx + irow;
            for (int ox = lo; ox < hi; ox++) dst[ox * sw] += wv * gy[ox];
        }
        if (dw) {
            const float *src = x + irow;
            float s = 0.0f;
            for (int ox = lo; ox < hi; ox++) s += gy[ox] * src[ox * sw];
            dw[widx] += s;
        }
    })
}
