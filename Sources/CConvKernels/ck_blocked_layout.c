// Conversions between the plain layout (NCHW) and the blocked one (NCHW16c) for inference plans.
#include "ck_internal.h"
#include "ck_vec16.h"

/// Blocks [b0, b1) of out [⌈C/16⌉][P][16] from x [C][P] (lanes past C zero).
CK_V16_INLINE void to_blocked(const float *x, int C, ptrdiff_t P, int b0, int b1, float *out) {
    for (int b = b0; b < b1; b++) {
        const int lanes = C - 16 * b < 16 ? C - 16 * b : 16;
        const float *src = x + (ptrdiff_t)16 * b * P;
        float *dst = out + (ptrdiff_t)b * P * 16;
        for (ptrdiff_t p0 = 0; p0 < P; p0 += 16) {
            const int n = P - p0 < 16 ? (int)(P - p0) : 16;
            float t[16][16];   // [position][lane]
            for (int l = 0; l < 16; l++)
                for (int i = 0; i < n; i++) t[i][l] = l < lanes ? src[(ptrdiff_t)l * P + p0 + i] : 0.0f;
            for (int i = 0; i < n; i++) v16_store(dst + (p0 + i) * 16, v16_load(t[i]));
        }
    }
}

/// Channels of blocks [b0, b1) of out [C][P] from x [⌈C/16⌉][P][16].
CK_V16_INLINE void from_blocked(const float *x, int C, ptrdiff_t P, int b0, int b1, float *out) {
    for (int b = b0; b < b1; b++) {
        const int lanes = C - 16 * b < 16 ? C - 16 * b : 16;
        const float *src = x + (ptrdiff_t)b * P * 16;
        float *dst = out + (ptrdiff_t)16 * b * P;
        for (ptrdiff_t p0 = 0; p0 < P; p0 += 16) {
            const int n = P - p0 < 16 ? (int)(P - p0) : 16;
            float t[16][16];
            for (int i = 0; i < n; i++) v16_store(t[i], v16_load(src + (p0 + i) * 16));
            for (int l = 0; l < lanes; l++)
                for (int i = 0; i < n; i++) dst[(ptrdiff_t)l * P + p0 + i] = t[i][l];
        }
    }
}

#define CK_LAYOUT_VARIANT(sfx, attr)                                                                         \
    attr static void to_blocked_##sfx(const float *x, int C, ptrdiff_t P, int b0, int b1, float *out) {      \
        to_blocked(x, C, P, b0, b1, out); }                                                                  \
    attr static void from_blocked_##sfx(const float *x, int C, ptrdiff_t P, int b0, int b1, float *out) {    \
        from_blocked(x, C, P, b0, b1, out); }
CK_INSTANTIATE(CK_LAYOUT_VARIANT)

void ck_to_blocked(const float *x, int C, ptrdiff_t P, int b0, int b1, float *out) {
    CK_PICK(to_blocked, x, C, P, b0, b1, out)
}
void ck_from_blocked(const float *x, int C, ptrdiff_t P, int b0, int b1, float *out) {
    CK_PICK(from_blocked, x, C, P, b0, b1, out)
}
