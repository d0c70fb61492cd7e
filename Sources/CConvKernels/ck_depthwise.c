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
    }

static inline __attribute__((always_inline)) void dw_forward_body(const ck_conv_geom *g, const float *x, const float *w, const float *bias,
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

static inline __attribute__((always_inline)) void dw_backward_body(const ck_conv_geom *g, const float *x, const float *w, const float *dy,
                                                                    int c0, int c1, float *dx, float *dw) {
    const int sw = g->sw;
    // 16 partial sums per weight, so the reduction over positions is elementwise (it vectorizes) and
    // summed once per (row, tap).
    CK_DW_LOOP({
        const float *gy = dy + orow;
        if (dx) {
            const float wv = w[widx];
            float *dst = dx + irow;
            if (sw == 1) for (int ox = lo; ox < hi; ox++) dst[ox] += wv * gy[ox];
            else for (int ox = lo; ox < hi; ox++) dst[ox * sw] += wv * gy[ox];
        }
        if (dw) {
            const float *src = x + irow;
            float lanes[16] = {0};
            int ox = lo;
            if (sw == 1) for (; ox + 16 <= hi; ox += 16) for (int l = 0; l < 16; l++) lanes[l] += gy[ox + l] * src[ox + l];
            float s = 0.0f;
            for (; ox < hi; ox++) s += gy[ox] * src[ox * sw];
            for (int l = 0; l < 16; l++) s += lanes[l];
            dw[widx] += s;
        }
    })
}

#define CK_DW_VARIANT(sfx, attr)                                                                                    \
    attr static void dwf_##sfx(const ck_conv_geom *g, const float *x, const float *w, const float *b, int c0, int c1, \
                               float *out) { dw_forward_body(g, x, w, b, c0, c1, out); }                            \
    attr static void dwb_##sfx(const ck_conv_geom *g, const float *x, const float *w, const float *dy, int c0,        \
                               int c1, float *dx, float *dw) { dw_backward_body(g, x, w, dy, c0, c1, dx, dw); }

CK_INSTANTIATE(CK_DW_VARIANT)

#if CK_X86
#include <immintrin.h>
/// off[t] = the offset of tap t (depth a, row b, column e) from a window's origin in a channel: a·dd·plane + b·dh·iw + e·dw.
static void dw_tap_offsets(const ck_conv_geom *g, ptrdiff_t *off) {
    const ptrdiff_t iplane = (ptrdiff_t)g->ih * g->iw;
    for (int t = 0; t < g->kd * g->kh * g->kw; t++) {
        int e = t % g->kw, b = (t / g->kw) % g->kh, a = t / (g->kw * g->kh);
        off[t] = (ptrdiff_t)a * g->dd * iplane + (ptrdiff_t)b * g->dh * g->iw + e * g->dw;
    }
}
/// AVX-512, pre-padded input and stride 1 along the width: each 16-wide output segment sums all taps in one
/// register (k² loads and FMAs, one store) instead of k² passes over the output.
CK_TARGET_AVX512
static void dwf_avx512_blocked(const ck_conv_geom *g, const float *x, const float *w, const float *bias, int c0, int c1, float *out) {
    const ptrdiff_t iplane = (ptrdiff_t)g->ih * g->iw, ichan = (ptrdiff_t)g->id * iplane;
    const ptrdiff_t oplane = (ptrdiff_t)g->oh * g->ow, ochan = (ptrdiff_t)g->od * oplane;
    const int kvol = g->kd * g->kh * g->kw, ow = g->ow;
    ptrdiff_t off[64];
    dw_tap_offsets(g, off);
    for (int c = c0; c < c1; c++) {
        const float *wc = w + (ptrdiff_t)c * kvol;
        const __m512 b0 = _mm512_set1_ps(bias ? bias[c] : 0.0f);
        for (int z = 0; z < g->od; z++)
            for (int y = 0; y < g->oh; y++) {
                const float *row = x + c * ichan + (ptrdiff_t)z * g->sd * iplane + (ptrdiff_t)y * g->sh * g->iw;
                float *dst = out + c * ochan + z * oplane + (ptrdiff_t)y * ow;
                for (int x0 = 0; x0 < ow; x0 += 16) {
                    const int n = ow - x0 < 16 ? ow - x0 : 16;
                    const __mmask16 mask = (__mmask16)((1u << n) - 1u);
                    __m512 acc = b0;
                    for (int t = 0; t < kvol; t++)
                        acc = _mm512_fmadd_ps(_mm512_set1_ps(wc[t]), _mm512_maskz_loadu_ps(mask, row + off[t] + x0), acc);
                    _mm512_mask_storeu_ps(dst + x0, mask, acc);
                }
            }
    }
}
#endif

void ck_depthwise_forward(const ck_conv_geom *g, const float *x, const float *w, const float *bias, int c0, int c1, float *out) {
    switch (ck_active_isa()) {
#if CK_X86
    case CK_ISA_AVX512:
        if (g->pd == 0 && g->ph == 0 && g->pw == 0 && g->sw == 1 && g->kd * g->kh * g->kw <= 64) dwf_avx512_blocked(g, x, w, bias, c0, c1, out);
        else dwf_avx512(g, x, w, bias, c0, c1, out);
        return;
    case CK_ISA_AVX2: dwf_avx2(g, x, w, bias, c0, c1, out); return;
#endif
    default: dwf_generic(g, x, w, bias, c0, c1, out); return;
    }
}

#if CK_X86
/// AVX-512 weight gradient on a pre-padded input, stride 1 along the width, ≤ 16 taps: one vector
/// accumulator per tap; each 16-wide segment of dy is loaded once and met with every shifted input row.
CK_TARGET_AVX512
static void dwb_avx512_blocked_weights(const ck_conv_geom *g, const float *x, const float *dy, int c0, int c1, float *dw) {
    const ptrdiff_t iplane = (ptrdiff_t)g->ih * g->iw, ichan = (ptrdiff_t)g->id * iplane;
    const ptrdiff_t oplane = (ptrdiff_t)g->oh * g->ow, ochan = (ptrdiff_t)g->od * oplane;
    const int kvol = g->kd * g->kh * g->kw, ow = g->ow;
    ptrdiff_t off[16];
    dw_tap_offsets(g, off);
    for (int c = c0; c < c1; c++) {
        __m512 acc[16];
        for (int t = 0; t < 16; t++) acc[t] = _mm512_setzero_ps();
        for (int z = 0; z < g->od; z++)
            for (int y = 0; y < g->oh; y++) {
                const float *row = x + c * ichan + (ptrdiff_t)z * g->sd * iplane + (ptrdiff_t)y * g->sh * g->iw;
                const float *gy = dy + c * ochan + z * oplane + (ptrdiff_t)y * ow;
                for (int x0 = 0; x0 < ow; x0 += 16) {
                    const int n = ow - x0 < 16 ? ow - x0 : 16;
                    const __mmask16 mask = (__mmask16)((1u << n) - 1u);
                    const __m512 d = _mm512_maskz_loadu_ps(mask, gy + x0);
                    for (int t = 0; t < kvol; t++) acc[t] = _mm512_fmadd_ps(d, _mm512_maskz_loadu_ps(mask, row + off[t] + x0), acc[t]);
                }
            }
        for (int t = 0; t < kvol; t++) dw[(ptrdiff_t)c * kvol + t] += _mm512_reduce_add_ps(acc[t]);
    }
}

/// AVX-512, pre-padded input, width stride 2, ≤ 16 taps: both gradients 16 outputs at a time (the generic body
/// runs scalar strided loops there). dW: the even columns of 32 input columns (one two-source permute) met with
/// dy, one accumulator per tap. dx: w·dy interleaved with zeros over 32 columns and added at each tap's offset
/// (the zero lanes leave the odd columns as they are; a task owns its channels, so the read-modify-write is safe).
CK_TARGET_AVX512
static void dwb_avx512_stride2(const ck_conv_geom *g, const float *x, const float *w, const float *dy, int c0, int c1,
                               float *dx, float *dw) {
    const ptrdiff_t iplane = (ptrdiff_t)g->ih * g->iw, ichan = (ptrdiff_t)g->id * iplane;
    const ptrdiff_t oplane = (ptrdiff_t)g->oh * g->ow, ochan = (ptrdiff_t)g->od * oplane;
    const int kvol = g->kd * g->kh * g->kw, ow = g->ow;
    ptrdiff_t off[16];
    dw_tap_offsets(g, off);
    int even[16], lo[16], hi[16];
    for (int l = 0; l < 16; l++) { even[l] = 2 * l; lo[l] = l % 2 ? 16 : l / 2; hi[l] = l % 2 ? 16 : 8 + l / 2; }
    const __m512i ieven = _mm512_loadu_si512(even), ilo = _mm512_loadu_si512(lo), ihi = _mm512_loadu_si512(hi);
    const __m512 zero = _mm512_setzero_ps();
    for (int c = c0; c < c1; c++) {
        __m512 acc[16], wv[16];
        for (int t = 0; t < kvol; t++) { acc[t] = zero; wv[t] = _mm512_set1_ps(w[(ptrdiff_t)c * kvol + t]); }
        for (int z = 0; z < g->od; z++)
            for (int y = 0; y < g->oh; y++) {
                const ptrdiff_t row = c * ichan + (ptrdiff_t)z * g->sd * iplane + (ptrdiff_t)y * g->sh * g->iw;
                const float *gy = dy + c * ochan + z * oplane + (ptrdiff_t)y * ow;
                for (int x0 = 0; x0 < ow; x0 += 16) {
                    const int n = ow - x0 < 16 ? ow - x0 : 16, cols = 2 * n - 1;   // input columns 2·x0 … 2·x0 + cols − 1
                    const __mmask16 mask = (__mmask16)((1u << n) - 1u);
                    const __mmask16 ma = (__mmask16)(cols >= 16 ? 0xFFFFu : (1u << cols) - 1u);
                    const __mmask16 mb = (__mmask16)(cols <= 16 ? 0u : (1u << (cols - 16)) - 1u);
                    const __m512 d = _mm512_maskz_loadu_ps(mask, gy + x0);
                    for (int t = 0; t < kvol; t++) {
                        const ptrdiff_t at = row + off[t] + 2 * x0;
                        if (dw) {
                            const __m512 A = _mm512_maskz_loadu_ps(ma, x + at), B = _mm512_maskz_loadu_ps(mb, x + at + 16);
                            acc[t] = _mm512_fmadd_ps(d, _mm512_permutex2var_ps(A, ieven, B), acc[t]);
                        }
                        if (dx) {
                            const __m512 p = _mm512_mul_ps(wv[t], d);
                            float *dst = dx + at;
                            _mm512_mask_storeu_ps(dst, ma, _mm512_add_ps(_mm512_maskz_loadu_ps(ma, dst), _mm512_permutex2var_ps(p, ilo, zero)));
                            _mm512_mask_storeu_ps(dst + 16, mb, _mm512_add_ps(_mm512_maskz_loadu_ps(mb, dst + 16), _mm512_permutex2var_ps(p, ihi, zero)));
                        }
                    }
                }
            }
        if (dw) for (int t = 0; t < kvol; t++) dw[(ptrdiff_t)c * kvol + t] += _mm512_reduce_add_ps(acc[t]);
    }
}
#endif

void ck_depthwise_backward(const ck_conv_geom *g, const float *x, const float *w, const float *dy, int c0, int c1, float *dx, float *dw) {
    switch (ck_active_isa()) {
#if CK_X86
    case CK_ISA_AVX512:
        if (!dx && dw && g->pd == 0 && g->ph == 0 && g->pw == 0 && g->sw == 1 && g->kd * g->kh * g->kw <= 16) {
            dwb_avx512_blocked_weights(g, x, dy, c0, c1, dw);
            return;
        }
        if (g->pd == 0 && g->ph == 0 && g->pw == 0 && g->sw == 2 && g->kd * g->kh * g->kw <= 16) {
            dwb_avx512_stride2(g, x, w, dy, c0, c1, dx, dw);
            return;
        }
        dwb_avx512(g, x, w, dy, c0, c1, dx, dw);
        return;
    case CK_ISA_AVX2: dwb_avx2(g, x, w, dy, c0, c1, dx, dw); return;
#endif
    default: dwb_generic(g, x, w, dy, c0, c1, dx, dw); return;
    }
}
