// Depthwise convolution over the unpadded input (AVX-512), one output vector at a time with every tap summed
// in a register and the epilogue fused:
// - zero padding comes from load masks (masked-off lanes are never read, so no padded copy is made);
// - width stride 2 loads 32 consecutive columns and keeps the even ones by one two-source permute;
// - maps of at most 8 columns put two output rows in one vector (their outputs are contiguous in memory), so a
//   7×7 map fills 14 of 16 lanes instead of 7.
#include "ck_internal.h"

#if CK_X86
#include <immintrin.h>
// The "any kernel" instantiation cannot unroll its runtime tap loops; the fixed ones do.
#pragma clang diagnostic ignored "-Wpass-failed"

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

/// The lanes a two-source permute keeps: even columns of 32 (stride 2) or, in DW_PAIR mode, row y's ow outputs
/// from the first load and row y + 1's from the second.
CK_TARGET_AVX512 static inline __m512i dw_lane_index(const ck_conv_geom *g, int mode) {
    int lanes[16];
    for (int l = 0; l < 16; l++)
        lanes[l] = mode == DW_PAIR ? (l < g->ow ? g->sw * l : 16 + g->sw * (l - g->ow)) : g->sw * l;
    return _mm512_loadu_si512(lanes);
}

/// Output rows (row pairs in DW_PAIR mode) computed together: independent accumulators hide the FMA latency
/// (one accumulator chain of KH·KW dependent FMAs ran at a quarter of the FMA throughput).
enum { DW_R = 4 };

/// The input rows one group of DW_R output rows (pairs) reads, per (depth tap a, row tap b, output row r) at
/// index (a·KH + b)·DW_R + r: offsets within a channel and all-or-nothing lane masks (a row outside the input,
/// or past the last output row, is read through a zero mask at offset 0). The same for every channel.
typedef struct {
    ptrdiff_t row0[64 * DW_R], row1[64 * DW_R];
    __mmask16 keep0[64 * DW_R], keep1[64 * DW_R];
} dw_rows_table;

/// Fills the table for the group starting at output row y of depth z; returns whether every entry is a real
/// input row (then the masks need not be applied).
static int dw_fill_rows(const ck_conv_geom *g, int z, int y, int mode, dw_rows_table *t) {
    const int ystep = mode == DW_PAIR ? 2 : 1, KD = g->kd, KH = g->kh;
    const ptrdiff_t iplane = (ptrdiff_t)g->ih * g->iw;
    int all = 1;
    for (int a = 0; a < KD; a++) {
        const int iz = z * g->sd - g->pd + a * g->dd, zok = iz >= 0 && iz < g->id;
        const ptrdiff_t plane = (zok ? iz : 0) * iplane;
        for (int b = 0; b < KH; b++)
            for (int r = 0; r < DW_R; r++) {
                const int i = (a * KH + b) * DW_R + r, yr = y + r * ystep;
                const int iy0 = yr * g->sh - g->ph + b * g->dh, iy1 = iy0 + g->sh;
                const int ok0 = zok && yr < g->oh && iy0 >= 0 && iy0 < g->ih;
                const int ok1 = zok && yr + 1 < g->oh && iy1 >= 0 && iy1 < g->ih;
                t->row0[i] = ok0 ? plane + (ptrdiff_t)iy0 * g->iw : 0;
                t->row1[i] = ok1 ? plane + (ptrdiff_t)iy1 * g->iw : 0;
                t->keep0[i] = ok0 ? 0xFFFF : 0;
                t->keep1[i] = ok1 ? 0xFFFF : 0;
                all &= ok0 && (mode != DW_PAIR || ok1);   // a pair past the last row is an edge group too
            }
    }
    return all;
}

/// DW_R output vectors of block blk (16 outputs, or one row pair) over the group's rows: acc[r] for output row
/// (pair) r. Each tap's weight is broadcast once for the DW_R rows. EDGE: apply the table's row masks (some rows
/// are outside the input).
CK_TARGET_AVX512 static inline __attribute__((always_inline)) void
dw_group(const ck_conv_geom *g, const dw_masks *restrict bm, const dw_rows_table *restrict t, const float *xc, int x0,
         const float *restrict wc, __m512i idx, __m512 *acc, const int MODE, const int KD, const int KH,
         const int KW, const int EDGE) {
    const int sw = g->sw;
    for (int a = 0; a < KD; a++)
        for (int b = 0; b < KH; b++) {
            const float *row0[DW_R], *row1[DW_R];
            __mmask16 keep0[DW_R], keep1[DW_R];
            _Pragma("clang loop unroll(full)")
            for (int r = 0; r < DW_R; r++) {
                const int i = (a * KH + b) * DW_R + r;
                row0[r] = xc + t->row0[i]; row1[r] = xc + t->row1[i];
                keep0[r] = EDGE ? t->keep0[i] : 0xFFFF; keep1[r] = EDGE ? t->keep1[i] : 0xFFFF;
            }
            _Pragma("clang loop unroll(full)")
            for (int e = 0; e < KW; e++) {
                const int ix = x0 * sw - g->pw + e * g->dw;
                const dw_masks m = bm[e];
                const __m512 wv = _mm512_set1_ps(wc[(a * KH + b) * KW + e]);
                _Pragma("clang loop unroll(full)")
                for (int r = 0; r < DW_R; r++) {
                    __m512 v;
                    if (MODE == DW_STRIDE1) {
                        v = _mm512_maskz_loadu_ps(m.a & keep0[r], row0[r] + ix);
                    } else if (MODE == DW_STRIDE2) {
                        const __m512 A = _mm512_maskz_loadu_ps(m.a & keep0[r], row0[r] + ix);
                        const __m512 B = _mm512_maskz_loadu_ps(m.b & keep0[r], row0[r] + ix + 16);
                        v = _mm512_permutex2var_ps(A, idx, B);
                    } else {
                        const __m512 A = _mm512_maskz_loadu_ps(m.a & keep0[r], row0[r] + ix);
                        const __m512 B = _mm512_maskz_loadu_ps(m.b & keep1[r], row1[r] + ix);
                        v = _mm512_permutex2var_ps(A, idx, B);
                    }
                    acc[r] = _mm512_fmadd_ps(wv, v, acc[r]);
                }
            }
        }
}

/// The interior case of width stride 1 with row stride and dilation 1 (2-D): the DW_R output rows read
/// DW_R + KH − 1 input rows, each loaded once per tap column and used by every output row it reaches (half the
/// loads of `dw_group` for 3×3), with the KH·KW weights in registers.
CK_TARGET_AVX512 static inline __attribute__((always_inline)) void
dw_group_shared_rows(const ck_conv_geom *g, const dw_masks *restrict bm, const float *row, int x0,
                     const float *restrict wc, __m512 *acc, const int KH, const int KW) {
    const int iw = g->iw;
    __m512 wv[KH * KW];
    _Pragma("clang loop unroll(full)")
    for (int i = 0; i < KH * KW; i++) wv[i] = _mm512_set1_ps(wc[i]);
    _Pragma("clang loop unroll(full)")
    for (int i = 0; i < DW_R + KH - 1; i++) {
        const float *src = row + (ptrdiff_t)i * iw;
        _Pragma("clang loop unroll(full)")
        for (int e = 0; e < KW; e++) {
            const int ix = x0 - g->pw + e;
            const __m512 v = _mm512_maskz_loadu_ps(bm[e].a, src + ix);
            _Pragma("clang loop unroll(full)")
            for (int r = 0; r < DW_R; r++) {
                const int b = i - r;
                if (b >= 0 && b < KH) acc[r] = _mm512_fmadd_ps(wv[b * KW + e], v, acc[r]);
            }
        }
    }
}

/// One channel, one group of rows (`t`, filled for output row y of depth z):
/// out[z, y…, x] = clamp(Σ_taps w[t]·x[tap position] + bias (+ res), lo, hi), KD×KH×KW taps.
/// In DW_PAIR mode lanes [0, ow) hold output row y and [ow, 2·ow) row y + 1. Masked-off lanes are never read,
/// so addresses outside the input are formed but not dereferenced.
CK_TARGET_AVX512 static inline __attribute__((always_inline)) void
dw_rows_channel(const ck_conv_geom *g, const dw_masks *restrict masks, const dw_rows_table *restrict t,
                int interior, int z, int y, const float *restrict xc, const float *restrict wc, float bias,
                const float *restrict resc, float lo, float hi, float *restrict outc, __m512i idx,
                const int MODE, const int KD, const int KH, const int KW) {
    const int ow = g->ow, oh = g->oh;
    const ptrdiff_t oplane = (ptrdiff_t)oh * ow;
    const __m512 b0 = _mm512_set1_ps(bias), vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
    const int ystep = MODE == DW_PAIR ? 2 : 1, blocks = MODE == DW_PAIR ? 1 : (ow + 15) / 16;
    for (int blk = 0; blk < blocks; blk++) {
        const int x0 = blk * 16;
        __m512 acc[DW_R];
        _Pragma("clang loop unroll(full)")
        for (int r = 0; r < DW_R; r++) acc[r] = b0;
        if (MODE == DW_STRIDE1 && KD == 1 && KH <= 5 && KW <= 5 && interior && g->sh == 1 && g->dh == 1 && g->dw == 1)
            dw_group_shared_rows(g, masks + blk * KW, xc + t->row0[0], x0, wc, acc, KH, KW);
        else if (interior) dw_group(g, masks + blk * KW, t, xc, x0, wc, idx, acc, MODE, KD, KH, KW, 0);
        else dw_group(g, masks + blk * KW, t, xc, x0, wc, idx, acc, MODE, KD, KH, KW, 1);
        _Pragma("clang loop unroll(full)")
        for (int r = 0; r < DW_R; r++) {
            const int yr = y + r * ystep;
            if (yr >= oh) break;
            const int n = MODE == DW_PAIR ? (yr + 1 < oh ? 2 * ow : ow) : (ow - x0 < 16 ? ow - x0 : 16);
            const __mmask16 store = lane_range(0, n);
            const ptrdiff_t o = z * oplane + (ptrdiff_t)yr * ow + x0;
            __m512 v = acc[r];
            if (resc) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(store, resc + o));
            v = _mm512_min_ps(_mm512_max_ps(v, vlo), vhi);
            _mm512_mask_storeu_ps(outc + o, store, v);
        }
    }
}

/// Row groups outermost (their table is shared by every channel), channels c0..c1 inside.
#define CK_DW_ROWS_CHANNELS(MODE, KD, KH, KW)                                                                   \
    for (int z = 0; z < g->od; z++)                                                                               \
        for (int y = 0; y < g->oh; y += (MODE == DW_PAIR ? 2 : 1) * DW_R) {                                       \
            const int interior = dw_fill_rows(g, z, y, MODE, &t);                                                \
            for (int c = c0; c < c1; c++)                                                                         \
                dw_rows_channel(g, masks, &t, interior, z, y, x + c * ichan, w + (ptrdiff_t)c * kvol,             \
                                bias ? bias[c] : 0.0f, res ? res + c * ochan : NULL, lo, hi, out + c * ochan,     \
                                dw_lane_index(g, MODE), MODE, KD, KH, KW);                                        \
        }

/// One instantiation per (kernel shape): the mode is a constant inside each branch, so the tap loops unroll.
#define CK_DW_ROWS_KERNEL(name, KD, KH, KW)                                                                       \
    CK_TARGET_AVX512 static void name(const ck_conv_geom *g, const float *x, const float *w, const float *bias,   \
                                      const float *res, float lo, float hi, int c0, int c1, float *out) {          \
        const ptrdiff_t ichan = (ptrdiff_t)g->id * g->ih * g->iw, ochan = (ptrdiff_t)g->od * g->oh * g->ow;      \
        const int kvol = g->kd * g->kh * g->kw;                                                                   \
        dw_masks masks[DW_MAX_MASKS];                                                                             \
        dw_rows_table t;                                                                                          \
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
