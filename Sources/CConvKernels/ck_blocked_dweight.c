// The weight gradient of a convolution in the blocked layout (NCHW16c), 2-D or 3-D, groups 1:
//
//   ∂L/∂W[co][ci][k][i][j] = Σ over output positions (z, y, x) of ∂L/∂y[co][z][y][x] · x[ci][z·sd + k·dd][y·sh + i·dh][x·sw + j·dw]
//
// as 16 × 16 tiles (16 input channels × 16 output channels, one tap each): for each output position the tile takes
// the outer product of the output-gradient vector (16 output channels in the lanes, one load) with the 16 input values
// at the tap (broadcast from memory) — 16 FMAs for one vector load. One output row at a time visits every tile of
// that row's taps, so the row of ∂L/∂y and the kd·kh input rows it meets stay in L1 while each tile is updated
// ow times; tiles are read and written once per row (32 vector moves for 16·ow FMAs). No im2col, no GEMM packing.
#include "ck_internal.h"
#include "ck_vec16.h"

/// CI input channels per pass over a row (16 on AVX-512: 16 accumulators; 4 elsewhere, where a vector is 2 or 4
/// registers).
CK_V16_INLINE void blocked_dweight(const int CI, const ck_dweight_geom *g, const float *x, const float *dy, int r0,
                                   int r1, float *dw) {
    const ptrdiff_t tiles = (ptrdiff_t)g->kd * g->kh * g->kw;
    for (int r = r0; r < r1; r++) {
        const int z = r / g->oh, y = r % g->oh;
        for (int o = 0; o < g->ob; o++) {
            const float *dyr = dy + (((ptrdiff_t)z * g->ob + o) * g->oh + y) * g->ow * 16;
            for (int b = 0; b < g->cb; b++) {
                float *tile = dw + ((ptrdiff_t)o * g->cb + b) * tiles * 256;
                for (int k = 0; k < g->kd; k++) {
                    for (int i = 0; i < g->kh; i++) {
                        const float *xr = x + (ptrdiff_t)(z * g->sd + k * g->dd) * g->xslice + b * g->xblock +
                                          (ptrdiff_t)(y * g->sh + i * g->dh) * g->xrow;
                        for (int j = 0; j < g->kw; j++, tile += 256) {
                            const float *xp = xr + (ptrdiff_t)j * g->dw * 16;
                            const ptrdiff_t step = (ptrdiff_t)g->sw * 16;
                            for (int c0 = 0; c0 < 16; c0 += CI) {
                                ck_v16 acc[16];
#pragma clang loop unroll(full)
                                for (int c = 0; c < CI; c++) acc[c] = v16_load(tile + (c0 + c) * 16);
                                const float *xv = xp + c0;
                                for (int p = 0; p < g->ow; p++, xv += step) {
                                    const ck_v16 d = v16_load(dyr + p * 16);
#pragma clang loop unroll(full)
                                    for (int c = 0; c < CI; c++) acc[c] += d * v16_splat(xv[c]);
                                }
#pragma clang loop unroll(full)
                                for (int c = 0; c < CI; c++) v16_store(tile + (c0 + c) * 16, acc[c]);
                            }
                        }
                    }
                }
            }
        }
    }
}

enum { DWEIGHT_CI_generic = 4, DWEIGHT_CI_avx2 = 4, DWEIGHT_CI_avx512 = 16 };
#define CK_DWEIGHT_VARIANT(sfx, attr)                                                                            \
    attr static void blocked_dweight_##sfx(const ck_dweight_geom *g, const float *x, const float *dy, int r0,    \
                                           int r1, float *dw) {                                                  \
        blocked_dweight(DWEIGHT_CI_##sfx, g, x, dy, r0, r1, dw);                                                 \
    }
CK_INSTANTIATE(CK_DWEIGHT_VARIANT)

void ck_blocked_dweight(const ck_dweight_geom *g, const float *x, const float *dy, int r0, int r1, float *dw) {
    CK_PICK(blocked_dweight, g, x, dy, r0, r1, dw)
}
