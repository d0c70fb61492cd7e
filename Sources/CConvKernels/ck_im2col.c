// im2col and its adjoint col2im for the explicit-matrix paths (weight and input gradients).
#include <string.h>
#include "ck_internal.h"

/// Calls body(row pointer offset, run start t0 in columns, run length, z, y, x0) for each run of
/// output positions in p0..p1-1 sharing one output row.
#define CK_FOR_RUNS(g, p0, p1, ...)                                              \
    for (int p_ = (p0); p_ < (p1);) {                                             \
        int x0 = p_ % (g)->ow, zy = p_ / (g)->ow;                                 \
        int z = zy / (g)->oh, y = zy % (g)->oh;                                   \
        int len = (g)->ow - x0;                                                   \
        if (len > (p1) - p_) len = (p1) - p_;                                     \
        int t0 = p_ - (p0);                                                       \
        __VA_ARGS__ \
        p_ += len;                                                                \
    }

void ck_im2col(const ck_conv_geom *g, const float *x, int p0, int p1, float *col, ptrdiff_t ldcol) {
    const ptrdiff_t plane = (ptrdiff_t)g->ih * g->iw, chan = (ptrdiff_t)g->id * plane;
    int k = 0;
    for (int c = 0; c < g->c; c++)
        for (int a = 0; a < g->kd; a++)
            for (int b = 0; b < g->kh; b++)
                for (int e = 0; e < g->kw; e++, k++) {
                    float *row = col + (ptrdiff_t)k * ldcol;
                    CK_FOR_RUNS(g, p0, p1, {
                        int iz = z * g->sd - g->pd + a * g->dd, iy = y * g->sh - g->ph + b * g->dh;
                        int ix = x0 * g->sw - g->pw + e * g->dw;
                        float *dst = row + t0;
                        if (iz < 0 || iz >= g->id || iy < 0 || iy >= g->ih) {
                            for (int t = 0; t < len; t++) dst[t] = 0.0f;
                        } else {
                            const float *src = x + c * chan + iz * plane + (ptrdiff_t)iy * g->iw;
                            if (g->sw == 1) {
                                // Contiguous: zeros left of the row, one copy, zeros right of it.
                                int lo = ix < 0 ? -ix : 0, hi = g->iw - ix;
                                if (lo > len) lo = len;
                                if (hi > len) hi = len;
                                if (hi < lo) hi = lo;
                                for (int t = 0; t < lo; t++) dst[t] = 0.0f;
                                if (hi > lo) memcpy(dst + lo, src + ix + lo, (size_t)(hi - lo) * sizeof(float));
                                for (int t = hi; t < len; t++) dst[t] = 0.0f;
                            } else {
                                for (int t = 0; t < len; t++) {
                                    int xx = ix + t * g->sw;
                                    dst[t] = (xx >= 0 && xx < g->iw) ? src[xx] : 0.0f;
                                }
                            }
                        }
                    })
                }
}

void ck_col2im(const ck_conv_geom *g, const float *col, ptrdiff_t ldcol, int p0, int p1, int c0, int c1, float *x) {
    const ptrdiff_t plane = (ptrdiff_t)g->ih * g->iw, chan = (ptrdiff_t)g->id * plane;
    const int kvol = g->kd * g->kh * g->kw;
    for (int c = c0; c < c1; c++) {
        int k = c * kvol;
        for (int a = 0; a < g->kd; a++)
            for (int b = 0; b < g->kh; b++)
                for (int e = 0; e < g->kw; e++, k++) {
                    const float *row = col + (ptrdiff_t)k * ldcol;
                    CK_FOR_RUNS(g, p0, p1, {
                        int iz = z * g->sd - g->pd + a * g->dd, iy = y * g->sh - g->ph + b * g->dh;
                        if (iz >= 0 && iz < g->id && iy >= 0 && iy < g->ih) {
                            int ix = x0 * g->sw - g->pw + e * g->dw;
                            float *dst = x + c * chan + iz * plane + (ptrdiff_t)iy * g->iw;
                            const float *src = row + t0;
                            for (int t = 0; t < len; t++) {
                                int xx = ix + t * g->sw;
                                if (xx >= 0 && xx < g->iw) dst[xx] += src[t];
                            }
                        }
                    })
                }
    }
}
