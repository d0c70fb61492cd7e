// Small elementwise loops used on hot paths.
#include "ck_internal.h"

void ck_relu_forward(const float *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

void ck_relu_backward(const float *x, const float *dy, float *dx, size_t n) {
    for (size_t i = 0; i < n; i++) dx[i] = x[i] > 0.0f ? dy[i] : 0.0f;
}

void ck_axpy(size_t n, float a, const float *x, float *y) {
    for (size_t i = 0; i < n; i++) y[i] += a * x[i];
}

void ck_pad_planes(const float *x, int planes, int id, int ih, int iw, int pd0, int pd1, int ph0, int ph1,
                   int pw0, int pw1, float *out) {
    const int od = id + pd0 + pd1, oh = ih + ph0 + ph1, ow = iw + pw0 + pw1;
    for (int p = 0; p < planes; p++)
        for (int z = 0; z < od; z++)
            for (int y = 0; y < oh; y++) {
                float *o = out + (((ptrdiff_t)p * od + z) * oh + y) * ow;
                int sz = z - pd0, sy = y - ph0;
                if (sz < 0 || sz >= id || sy < 0 || sy >= ih) { memset(o, 0, sizeof(float) * ow); continue; }
                const float *s = x + (((ptrdiff_t)p * id + sz) * ih + sy) * iw;
                memset(o, 0, sizeof(float) * pw0);
                memcpy(o + pw0, s, sizeof(float) * iw);
                memset(o + pw0 + iw, 0, sizeof(float) * pw1);
            }
}
