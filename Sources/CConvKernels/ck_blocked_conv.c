// Direct convolution in the blocked layout (NCHW16c): output channels in the vector lanes, no im2col, no packing.
//
// A micro-tile holds OCB output blocks (16 channels each) × PW output positions of one row in OCB·PW vector
// accumulators. For every input channel c and tap (kh, kw) it loads OCB weight vectors w[ob][…][c][0..16) and
// broadcasts the input value of each of the PW positions: OCB·PW FMAs for OCB + PW loads, so the FMA units, not
// the loads, set the pace. Each position's input address is taken per tap from a table where taps outside the
// input point at a zero block, so borders, padding, stride and dilation need no special kernels (the table costs
// PW selects per tap against 16·OCB·PW FMAs). A pointwise convolution is one long row of the whole map.
// Input blocks are taken in chunks whose weights stay in L1, partial sums kept in the output between chunks;
// weights are packed in groups of 4 output blocks so that a tile's weight vectors for one input channel are adjacent;
// the epilogue (bias at the start, residual and clamp at the end) is applied while the tile is in registers.
#include "ck_internal.h"
#include "ck_vec16.h"

const float ck_zero_block[16] __attribute__((aligned(64))) = {0};

enum { MODE_TABLE = 0, MODE_PLAIN = 1 };
enum { MAX_PW = 12 };

/// One call's fixed arguments: weights, output and residual already offset to the tile's output block.
typedef struct {
    const ck_blocked_geom *g;
    const float *x;     ///< input at the chunk's first block
    const float *w;     ///< weights at the tile's first output block and the chunk's first input block
    ptrdiff_t wc;       ///< elements between one input channel's weights and the next's (16 × blocks in the group)
    ptrdiff_t wib;      ///< elements between input blocks' weights (kh·kw·icb·wc)
    ptrdiff_t obs;      ///< elements between output blocks (oh·ow·16)
    int nb, first, last, clamp;
    const float *bias;  ///< at the tile's first output block, or NULL
    const float *res;   ///< at the tile's first output block, row and position, or NULL
    const ptrdiff_t *taps;  ///< plain input: offset of tap (kh, kw, c) = c·ics + kh·dh·iw + kw·dw from a position's first
    float *out;         ///< at the tile's first output block, row and position
    float lo, hi;
} tile_args;

typedef void (*tile_fn)(const tile_args *a, int oy, int x0, int kh0, int kh1);

CK_V16_INLINE void conv_tile(const int OCB, const int PW, const int MODE, const tile_args *a, int oy, int x0,
                             int kh0, int kh1) {
    const ck_blocked_geom *g = a->g;
    float *const out = a->out;
    const float *const res = a->res;
    const ptrdiff_t obs = a->obs;
    ck_v16 acc[4][MAX_PW];
#pragma clang loop unroll(full)
    for (int o = 0; o < OCB; o++) {
        const ck_v16 b = a->bias ? v16_load(a->bias + o * 16) : v16_zero();
#pragma clang loop unroll(full)
        for (int j = 0; j < PW; j++) acc[o][j] = a->first ? b : v16_load(out + o * obs + j * 16);
    }
    if (MODE == MODE_PLAIN) {
        // A plain (first-layer) input carries its padding: every tap is inside. All taps (kh, kw, c) are one loop over
        // the driver's offset table (7×7 on 3 channels: 147 steps) instead of kernel-row and column loops of icb
        // steps each, whose set-up cost as much as their 3 steps of FMAs.
        const int nt = g->kh * g->kw * g->icb;
        const float *xr = a->x + (ptrdiff_t)oy * g->sh * g->iw;
        const float *p[MAX_PW];
#pragma clang loop unroll(full)
        for (int j = 0; j < PW; j++) p[j] = xr + (ptrdiff_t)(x0 + j) * g->sw;
        for (int t = 0; t < nt; t++) {
            const ptrdiff_t off = a->taps[t];
            ck_v16 wv[4];
#pragma clang loop unroll(full)
            for (int o = 0; o < OCB; o++) wv[o] = v16_load(a->w + t * a->wc + o * 16);
#pragma clang loop unroll(full)
            for (int j = 0; j < PW; j++) {
                const ck_v16 xv = v16_splat(p[j][off]);
#pragma clang loop unroll(full)
                for (int o = 0; o < OCB; o++) acc[o][j] += wv[o] * xv;
            }
        }
    } else {
        const ptrdiff_t rows = (ptrdiff_t)g->iw * 16;
        for (int ib = 0; ib < a->nb; ib++) {
            const float *xb = a->x + ib * g->ibs;
            const float *wk = a->w + ib * a->wib + (ptrdiff_t)kh0 * g->kw * 16 * a->wc;
            for (int kh = kh0; kh < kh1; kh++) {
                const float *xr = xb + (ptrdiff_t)(oy * g->sh - g->ph + kh * g->dh) * rows;
                for (int kw = 0; kw < g->kw; kw++, wk += 16 * a->wc) {
                    const int ix0 = x0 * g->sw - g->pw + kw * g->dw;
                    const float *p[MAX_PW];
#pragma clang loop unroll(full)
                    for (int j = 0; j < PW; j++) {
                        const int ix = ix0 + j * g->sw;
                        p[j] = (unsigned)ix < (unsigned)g->iw ? xr + ix * 16 : ck_zero_block;
                    }
                    // Not unrolled: unrolled, the scheduler hoists weight loads of later channels and spills them.
#pragma clang loop unroll(disable)
                    for (int c = 0; c < 16; c++) {
                        ck_v16 wv[4];
#pragma clang loop unroll(full)
                        for (int o = 0; o < OCB; o++) wv[o] = v16_load(wk + c * a->wc + o * 16);
#pragma clang loop unroll(full)
                        for (int j = 0; j < PW; j++) {
                            const ck_v16 xv = v16_splat(p[j][c]);
#pragma clang loop unroll(full)
                            for (int o = 0; o < OCB; o++) acc[o][j] += wv[o] * xv;
                        }
                    }
                }
            }
        }
    }
    if (a->last && (res || a->clamp)) {
        const ck_v16 lo = v16_splat(a->lo), hi = v16_splat(a->hi);
#pragma clang loop unroll(full)
        for (int o = 0; o < OCB; o++)
#pragma clang loop unroll(full)
            for (int j = 0; j < PW; j++) {
                if (res) acc[o][j] += v16_load(res + o * obs + j * 16);
                if (a->clamp) acc[o][j] = v16_clamp(acc[o][j], lo, hi);
            }
    }
#pragma clang loop unroll(full)
    for (int o = 0; o < OCB; o++)
#pragma clang loop unroll(full)
        for (int j = 0; j < PW; j++) v16_store(out + o * obs + j * 16, acc[o][j]);
}

/// Splits [x0, x1) of row oy into tiles of at most pwmax positions (sizes differing by at most one).
CK_V16_INLINE void run_segment(const tile_fn *fns, int pwmax, tile_args *a, int oy, int x0, int x1, int kh0, int kh1,
                               float *rowOut, const float *rowRes) {
    const int len = x1 - x0;
    if (len <= 0) return;
    const int n = (len + pwmax - 1) / pwmax, base = len / n, extra = len % n;
    for (int t = 0, x = x0; t < n; t++) {
        const int pw = base + (t < extra);
        a->out = rowOut + (ptrdiff_t)x * 16;
        a->res = rowRes ? rowRes + (ptrdiff_t)x * 16 : NULL;
        fns[pw](a, oy, x, kh0, kh1);
        x += pw;
    }
}

/// The driver, instantiated per ISA with its tile table: tiles[mode][oi][pw] for OCB = ocbs[oi].
CK_V16_INLINE void blocked_conv(tile_fn (*tiles)[3][MAX_PW + 1], const int *ocbs, const int *pwmax, int nocb,
                                const ck_blocked_geom *g, const float *x, const float *w, const float *bias,
                                const float *res, float lo, float hi, int ob0, int ob1, int oy0, int oy1, float *out) {
    const int plain = g->icb != 16 || g->ics != 1;
    // Weights come in groups of 4 output blocks, [group][ib][kh][kw][c][block of the group][16]: the vectors a tile
    // loads for one input channel are adjacent (4 separate streams 64 KiB apart cost up to 8% on 1×1 layers).
    const ptrdiff_t perBlock = (ptrdiff_t)g->kh * g->kw * g->icb * 16 * g->nib;
    const ptrdiff_t obs = (ptrdiff_t)g->oh * g->ow * 16;
    // Input blocks per chunk: the chunk's weights for a group of 4 output blocks stay in L1 (~32 KiB).
    int chunk = (int)(32768 / (perBlock / g->nib * 4 * 4));
    if (chunk < 1) chunk = 1;
    if (chunk > g->nib) chunk = g->nib;
    // A pointwise convolution over the whole map reads and writes positions in the same order: one long row, so
    // that tiles are full whatever the map's width.
    ck_blocked_geom flat;
    const int pointwise = g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->ph == 0 && g->pw == 0 &&
                          g->oh == g->ih && g->ow == g->iw;
    if (pointwise) {
        flat = *g;
        flat.iw = flat.ow = g->ih * g->iw;
        flat.ih = flat.oh = 1;
    }
    // Plain inputs: the offsets of the kernel's taps (kh, kw, c), in the weights' order.
    enum { MAX_TAPS = 1024 };
    ptrdiff_t taps[MAX_TAPS];
    if (plain) {
        if (g->kh * g->kw * g->icb > MAX_TAPS) return;   // see ck_blocked_plain_taps_max
        for (int kh = 0, t = 0; kh < g->kh; kh++)
            for (int kw = 0; kw < g->kw; kw++)
                for (int c = 0; c < g->icb; c++, t++) taps[t] = c * g->ics + ((ptrdiff_t)kh * g->dh * g->iw + (ptrdiff_t)kw * g->dw);
    }
    tile_args a = {.g = pointwise ? &flat : g, .obs = obs, .lo = lo, .hi = hi, .taps = taps,
                   .clamp = lo > -__builtin_inff() || hi < __builtin_inff()};
    for (int ob = ob0; ob < ob1;) {
        const int gstart = ob / 4 * 4, gsize = g->nob - gstart < 4 ? g->nob - gstart : 4;
        const int room = ob1 < gstart + gsize ? ob1 - ob : gstart + gsize - ob;   // a tile stays in its group
        int oi = 0;
        while (oi + 1 < nocb && ocbs[oi] > room) oi++;
        const int ocb = ocbs[oi];
        a.wc = (ptrdiff_t)gsize * 16;
        a.wib = (ptrdiff_t)g->kh * g->kw * g->icb * a.wc;
        a.bias = bias ? bias + (ptrdiff_t)ob * 16 : NULL;
        for (int i0 = 0; i0 < g->nib; i0 += chunk) {
            a.nb = g->nib - i0 < chunk ? g->nib - i0 : chunk;
            a.first = i0 == 0;
            a.last = i0 + a.nb == g->nib;
            a.x = x + i0 * g->ibs;
            a.w = w + gstart * perBlock + (ob - gstart) * 16 + i0 * a.wib;
            if (pointwise) {
                run_segment(tiles[plain ? MODE_PLAIN : MODE_TABLE][oi], pwmax[oi], &a, 0, oy0 * g->ow, oy1 * g->ow, 0, 1,
                            out + ob * obs, res ? res + ob * obs : NULL);
                continue;
            }
            for (int oy = oy0; oy < oy1; oy++) {
                int kh0 = 0, kh1 = g->kh;
                while (kh0 < kh1 && (unsigned)(oy * g->sh - g->ph + kh0 * g->dh) >= (unsigned)g->ih) kh0++;
                while (kh1 > kh0 && (unsigned)(oy * g->sh - g->ph + (kh1 - 1) * g->dh) >= (unsigned)g->ih) kh1--;
                float *rowOut = out + ob * obs + (ptrdiff_t)oy * g->ow * 16;
                const float *rowRes = res ? res + ob * obs + (ptrdiff_t)oy * g->ow * 16 : NULL;
                run_segment(tiles[plain ? MODE_PLAIN : MODE_TABLE][oi], pwmax[oi], &a, oy, 0, g->ow, kh0, kh1, rowOut, rowRes);
            }
        }
        ob += ocb;
    }
}

// Tile instantiations: TILE(sfx, attr, mode, ocb, pw) defines tile_<sfx>_<mode>_<ocb>_<pw>.
#define TILE(sfx, attr, m, o, p) \
    attr static void tile_##sfx##_##m##_##o##_##p(const tile_args *a, int oy, int x0, int kh0, int kh1) { \
        conv_tile(o, p, m, a, oy, x0, kh0, kh1); }
#define PWS2(X, ...) X(__VA_ARGS__, 1) X(__VA_ARGS__, 2)
#define PWS5(X, ...) PWS2(X, __VA_ARGS__) X(__VA_ARGS__, 3) X(__VA_ARGS__, 4) X(__VA_ARGS__, 5)
#define PWS6(X, ...) PWS5(X, __VA_ARGS__) X(__VA_ARGS__, 6)
#define PWS12(X, ...) PWS6(X, __VA_ARGS__) X(__VA_ARGS__, 7) X(__VA_ARGS__, 8) X(__VA_ARGS__, 9) \
    X(__VA_ARGS__, 10) X(__VA_ARGS__, 11) X(__VA_ARGS__, 12)
#define MODES(X, ...) X(__VA_ARGS__, 0) X(__VA_ARGS__, 1)
// Table entries: [pw] = tile function.
#define ENTRY(sfx, m, o, p) [p] = tile_##sfx##_##m##_##o##_##p,

#define DEFINE_OCB(sfx, attr, o, P, m) P(TILE, sfx, attr, m, o)
#define ROW(sfx, m, O, P) {P(ENTRY, sfx, m, O)}
#define DEFINE_OCBS(sfx, attr, O, P) MODES(DEFINE_OCB, sfx, attr, O, P)

// AVX-512 (32 zmm): 4 blocks × 6 positions, 2 × 12, 1 × 12. AVX2 (a vector is two ymm): 2 × 2, 1 × 5.
// Portable C: 1 × 2.
#if CK_X86
DEFINE_OCBS(avx512, CK_TARGET_AVX512, 4, PWS6)
DEFINE_OCBS(avx512, CK_TARGET_AVX512, 2, PWS12)
DEFINE_OCBS(avx512, CK_TARGET_AVX512, 1, PWS12)
static tile_fn tiles_avx512[2][3][MAX_PW + 1] = {
    {ROW(avx512, 0, 4, PWS6), ROW(avx512, 0, 2, PWS12), ROW(avx512, 0, 1, PWS12)},
    {ROW(avx512, 1, 4, PWS6), ROW(avx512, 1, 2, PWS12), ROW(avx512, 1, 1, PWS12)},
};
static const int ocb_avx512[] = {4, 2, 1}, pw_avx512[] = {6, 12, 12};
DEFINE_OCBS(avx2, CK_TARGET_AVX2, 2, PWS2)
DEFINE_OCBS(avx2, CK_TARGET_AVX2, 1, PWS5)
static tile_fn tiles_avx2[2][3][MAX_PW + 1] = {
    {ROW(avx2, 0, 2, PWS2), ROW(avx2, 0, 1, PWS5)},
    {ROW(avx2, 1, 2, PWS2), ROW(avx2, 1, 1, PWS5)},
};
static const int ocb_avx2[] = {2, 1}, pw_avx2[] = {2, 5};
#endif
DEFINE_OCBS(generic, , 1, PWS2)
static tile_fn tiles_generic[2][3][MAX_PW + 1] = {{ROW(generic, 0, 1, PWS2)}, {ROW(generic, 1, 1, PWS2)}};
static const int ocb_generic[] = {1}, pw_generic[] = {2};

#define BLOCKED_CONV_VARIANT(sfx, attr)                                                                         \
    attr static void blocked_conv_##sfx(const ck_blocked_geom *g, const float *x, const float *w, const float *bias, \
                                        const float *res, float lo, float hi, int ob0, int ob1, int oy0, int oy1,  \
                                        float *out) {                                                           \
        blocked_conv(tiles_##sfx, ocb_##sfx, pw_##sfx, (int)(sizeof ocb_##sfx / sizeof ocb_##sfx[0]), g, x, w,   \
                     bias, res, lo, hi, ob0, ob1, oy0, oy1, out);                                               \
    }
CK_INSTANTIATE(BLOCKED_CONV_VARIANT)

int ck_blocked_plain_taps_max(void) { return 1024; }

void ck_blocked_conv(const ck_blocked_geom *g, const float *x, const float *w, const float *bias, const float *res,
                     float lo, float hi, int ob0, int ob1, int oy0, int oy1, float *out) {
    CK_PICK(blocked_conv, g, x, w, bias, res, lo, hi, ob0, ob1, oy0, oy1, out)
}
