// Depthwise convolution over the unpadded input (AVX-512), one output vector at a time with every tap summed
// in a register and the epilogue fused:
// - zero padding comes from load masks (masked-off lanes are never read, so no padded copy is made);
// - width stride 2 loads 32 consecutive columns and keeps the even ones by one two-source permute;
// - maps of at most 8 columns put two output rows in one vector (their outputs are contiguous in memory), so a
//   7×7 map fills 14 of 16 lanes instead of 7.
#include "ck_internal.h"

#if CK_X86
#include <immintrin.h>

/// Lanes j of a 16-wide load that fall in [lo, hi).
static inline __mmask16 lane_range(int lo, int hi) {
    if (lo < 0) lo = 0;
    if (hi > 16) hi = 16;
    if (hi <= lo) return 0;
    return (__mmask16)(((1u << hi) - 1u) & ~((1u << lo) - 1u));
}

/// How the 16 lanes of an output vector read the input: width stride 1, width stride 2 (32 columns, even ones
/// kept), or two output rows of a map ≤ 8 wide.
enum { DW_STRIDE1 = 0, DW_STRIDE2 = 1, DW_PAIR = 2 };

/// Load masks of tap column e in output block blk (16 outputs, or one row pair): `a` for the first load, `b` for
/// the second (stride 2: columns 16…31 of the run; pair: the second row, same columns). Zero padding is a lane
/// that is masked off.
typedef struct { __mmask16 a, b; } dw_masks;
enum { DW_MAX_MASKS = 4096 };

static int dw_mode(const ck_conv_geom *g) { return g->ow <= 8 ? DW_PAIR : g->sw == 1 ? DW_STRIDE1 : DW_STRIDE2; }
static int dw_blocks(const ck_conv_geom *g) { return dw_mode(g) == DW_PAIR ? 1 : (g->ow + 15) / 16; }

static void dw_column_masks(const ck_conv_geom *g, dw_masks *table) {
    const int mode = dw_mode(g), blocks = dw_blocks(g), iw = g->iw;
    for (int blk = 0; blk < blocks; blk++)
        for (int e = 0; e < g->kw; e++) {
            const int ix = blk * 16 * g->sw - g->pw + e * g->dw;
            dw_masks m = {lane_range(-ix, iw - ix), 0};
            m.b = mode == DW_STRIDE2 ? lane_range(-ix - 16, iw - ix - 16) : m.a;
            table[blk * g->kw + e] = m;
        }
}

/// One channel: out[z, y, x] = clamp(Σ_taps w[t]·x[tap position] + bias (+ res), lo, hi), KD×KH×KW taps.
/// In DW_PAIR mode lanes [0, ow) hold output row y and [ow, 2·ow) row y + 1.
CK_TARGET_AVX512 static inline __attribute__((always_inline)) void
dw_rows_channel(const ck_conv_geom *g, const dw_masks *restrict masks, const float *restrict xc,
                const float *restrict wc, float bias, const float *restrict resc, float lo, float hi,
                float *restrict outc, const int MODE, const int KD, const int KH, const int KW) {
    const int iw = g->iw, ih = g->ih, ow = g->ow, oh = g->oh, sw = g->sw, sh = g->sh;
    const ptrdiff_t iplane = (ptrdiff_t)ih * iw, oplane = (ptrdiff_t)oh * ow;
    __m512 wr[64];
    for (int t = 0; t < KD * KH * KW; t++) wr[t] = _mm512_set1_ps(wc[t]);
    int lanes[16];
    for (int l = 0; l < 16; l++) lanes[l] = MODE == DW_PAIR ? (l < ow ? sw * l : 16 + sw * (l - ow)) : sw * l;
    const __m512i idx = _mm512_loadu_si512(lanes);
    const __m512 b0 = _mm512_set1_ps(bias), vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
    const int ystep = MODE == DW_PAIR ? 2 : 1, blocks = MODE == DW_PAIR ? 1 : (ow + 15) / 16;
    for (int z = 0; z < g->od; z++) {
        for (int y = 0; y < oh; y += ystep) {
            const int second = MODE == DW_PAIR && y + 1 < oh;
            for (int blk = 0; blk < blocks; blk++) {
                const int x0 = blk * 16;
                const int n = MODE == DW_PAIR ? (second ? 2 * ow : ow) : (ow - x0 < 16 ? ow - x0 : 16);
                const __mmask16 store = lane_range(0, n);
                const dw_masks *bm = masks + blk * KW;
                __m512 acc = b0;
                for (int a = 0; a < KD; a++) {
                    const int iz = z * g->sd - g->pd + a * g->dd;
                    if (iz < 0 || iz >= g->id) continue;
                    const float *plane = xc + iz * iplane;
                    for (int b = 0; b < KH; b++) {
                        const int iy0 = y * sh - g->ph + b * g->dh, iy1 = iy0 + sh;
                        const int ok0 = iy0 >= 0 && iy0 < ih, ok1 = second && iy1 >= 0 && iy1 < ih;
                        if (!ok0 && !ok1) continue;
                        // Rows outside the input are read through an all-zero mask at a valid address.
                        const float *row0 = ok0 ? plane + (ptrdiff_t)iy0 * iw : plane;
                        const float *row1 = ok1 ? plane + (ptrdiff_t)iy1 * iw : plane;
                        const __mmask16 keep0 = ok0 ? 0xFFFF : 0, keep1 = ok1 ? 0xFFFF : 0;
                        for (int e = 0; e < KW; e++) {
                            const int ix = x0 * sw - g->pw + e * g->dw;
                            const dw_masks m = bm[e];
                            __m512 v;
                            if (MODE == DW_STRIDE1) {
                                v = _mm512_maskz_loadu_ps(m.a, row0 + ix);
                            } else if (MODE == DW_STRIDE2) {
                                const __m512 A = _mm512_maskz_loadu_ps(m.a, row0 + ix);
                                const __m512 B = _mm512_maskz_loadu_ps(m.b, row0 + ix + 16);
                                v = _mm512_permutex2var_ps(A, idx, B);
                            } else {
                                const __m512 A = _mm512_maskz_loadu_ps(m.a & keep0, row0 + (ok0 ? ix : 0));
                                const __m512 B = _mm512_maskz_loadu_ps(m.b & keep1, row1 + (ok1 ? ix : 0));
                                v = _mm512_permutex2var_ps(A, idx, B);
                            }
                            acc = _mm512_fmadd_ps(wr[(a * KH + b) * KW + e], v, acc);
                        }
                    }
                }
                const ptrdiff_t o = z * oplane + (ptrdiff_t)y * ow + x0;
                if (resc) acc = _mm512_add_ps(acc, _mm512_maskz_loadu_ps(store, resc + o));
                acc = _mm512_min_ps(_mm512_max_ps(acc, vlo), vhi);
                _mm512_mask_storeu_ps(outc + o, store, acc);
            }
        }
    }
}

#define CK_DW_ROWS_CHANNELS(MODE, KD, KH, KW)                                                                   \
    for (int c = c0; c < c1; c++)                                                                                 \
        dw_rows_channel(g, masks, x + c * ichan, w + (ptrdiff_t)c * kvol, bias ? bias[c] : 0.0f,                  \
                        res ? res + c * ochan : NULL, lo, hi, out + c * ochan, MODE, KD, KH, KW);

/// One instantiation per (kernel shape): the mode is a constant inside each branch, so the tap loops unroll.
#define CK_DW_ROWS_KERNEL(name, KD, KH, KW)                                                                       \
    CK_TARGET_AVX512 static void name(const ck_conv_geom *g, const float *x, const float *w, const float *bias,   \
                                      const float *res, float lo, float hi, int c0, int c1, float *out) {          \
        const ptrdiff_t ichan = (ptrdiff_t)g->id * g->ih * g->iw, ochan = (ptrdiff_t)g->od * g->oh * g->ow;      \
        const int kvol = g->kd * g->kh * g->kw;                                                                   \
        dw_masks masks[DW_MAX_MASKS];                                                                             \
        dw_column_masks(g, masks);                                                                                \
        switch (dw_mode(g)) {                                                                                     \
        case DW_STRIDE1: CK_DW_ROWS_CHANNELS(DW_STRIDE1, KD, KH, KW) break;                                       \
        case DW_STRIDE2: CK_DW_ROWS_CHANNELS(DW_STRIDE2, KD, KH, KW) break;                                       \
        default: CK_DW_ROWS_CHANNELS(DW_PAIR, KD, KH, KW) break;                                                  \
        }                                                                                                         \
    }

CK_DW_ROWS_KERNEL(dw_rows_3x3, 1, 3, 3)
CK_DW_ROWS_KERNEL(dw_rows_5x5, 1, 5, 5)
CK_DW_ROWS_KERNEL(dw_rows_any, g->kd, g->kh, g->kw)
#endif

int ck_depthwise_rows_supported(const ck_conv_geom *g) {
#if CK_X86
    return ck_active_isa() == CK_ISA_AVX512 && (g->sw == 1 || g->sw == 2) && g->kd * g->kh * g->kw <= 64 &&
           (long)dw_blocks(g) * g->kw <= DW_MAX_MASKS;
#else
    (void)g;
    return 0;
#endif
}

void ck_depthwise_rows_forward(const ck_conv_geom *g, const float *x, const float *w, const float *bias,
                               const float *res, float lo, float hi, int c0, int c1, float *out) {
#if CK_X86
    if (g->kd == 1 && g->kh == 3 && g->kw == 3) dw_rows_3x3(g, x, w, bias, res, lo, hi, c0, c1, out);
    else if (g->kd == 1 && g->kh == 5 && g->kw == 5) dw_rows_5x5(g, x, w, bias, res, lo, hi, c0, c1, out);
    else dw_rows_any(g, x, w, bias, res, lo, hi, c0, c1, out);
#else
    (void)g; (void)x; (void)w; (void)bias; (void)res; (void)lo; (void)hi; (void)c0; (void)c1; (void)out;
#endif
}
