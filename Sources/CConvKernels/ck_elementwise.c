// Small elementwise loops used on hot paths, compiled per ISA (inlined into target-attributed wrappers so
// the loops vectorize at full width) and chosen at run time.
#include "ck_internal.h"

static inline __attribute__((always_inline)) void relu_fwd(const float *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}
static inline __attribute__((always_inline)) void relu_bwd(const float *x, const float *dy, float *dx, size_t n) {
    for (size_t i = 0; i < n; i++) dx[i] = x[i] > 0.0f ? dy[i] : 0.0f;
}
static inline __attribute__((always_inline)) void axpy(size_t n, float a, const float *x, float *y) {
    for (size_t i = 0; i < n; i++) y[i] += a * x[i];
}

static inline __attribute__((always_inline)) void epilogue(float *y, int rows, int cols, ptrdiff_t ldy, const float *bias,
                                                           const float *res, ptrdiff_t ldr, float lo, float hi) {
    for (int i = 0; i < rows; i++) {
        float *r = y + (ptrdiff_t)i * ldy;
        const float b = bias ? bias[i] : 0.0f;
        if (res) {
            const float *s = res + (ptrdiff_t)i * ldr;
            for (int j = 0; j < cols; j++) { float v = r[j] + b + s[j]; v = v < lo ? lo : v; r[j] = v > hi ? hi : v; }
        } else {
            for (int j = 0; j < cols; j++) { float v = r[j] + b; v = v < lo ? lo : v; r[j] = v > hi ? hi : v; }
        }
    }
}

#define CK_ELEMENTWISE_VARIANT(sfx, attr)                                                                           \
    attr static void relu_fwd_##sfx(const float *x, float *y, size_t n) { relu_fwd(x, y, n); }                      \
    attr static void relu_bwd_##sfx(const float *x, const float *dy, float *dx, size_t n) { relu_bwd(x, dy, dx, n); } \
    attr static void axpy_##sfx(size_t n, float a, const float *x, float *y) { axpy(n, a, x, y); }                  \
    attr static void epilogue_##sfx(float *y, int rows, int cols, ptrdiff_t ldy, const float *bias, const float *res, \
                                     ptrdiff_t ldr, float lo, float hi) { epilogue(y, rows, cols, ldy, bias, res, ldr, lo, hi); }

CK_INSTANTIATE(CK_ELEMENTWISE_VARIANT)

void ck_relu_forward(const float *x, float *y, size_t n) { CK_PICK(relu_fwd, x, y, n) }
void ck_relu_backward(const float *x, const float *dy, float *dx, size_t n) { CK_PICK(relu_bwd, x, dy, dx, n) }
void ck_axpy(size_t n, float a, const float *x, float *y) { CK_PICK(axpy, n, a, x, y) }
void ck_conv_epilogue(float *y, int rows, int cols, ptrdiff_t ldy, const float *bias, const float *res, ptrdiff_t ldr,
                      float lo, float hi) {
    CK_PICK(epilogue, y, rows, cols, ldy, bias, res, ldr, lo, hi)
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

void ck_split_even_odd(float *x, long rows, int w) {
    const int half = (w + 1) / 2;
    float odd[2048];   // callers keep w <= 4096
    for (long r = 0; r < rows; r++) {
        float *s = x + r * w;
        for (int i = 0; i < w / 2; i++) odd[i] = s[2 * i + 1];
        for (int i = 0; i < half; i++) s[i] = s[2 * i];   // s[i] is read before: 2·i ≥ i
        memcpy(s + half, odd, sizeof(float) * (size_t)(w / 2));
    }
}
