// Direct convolution for layers with few filters (LeNet-sized): no im2col and no packing, which dominate
// when M·K is small. The input is pre-padded (geometry without padding). Bodies are written once and
// compiled per ISA by inlining into target-attributed wrappers, so the row loops vectorize at full width.
#include <stdlib.h>
#include "ck_internal.h"

/// out[m] (+)= Σ_{c,a,b,e} W[m][c][a][b][e] · x[c] shifted, for m in 0..M-1; out is [M, od, oh, ow].
static inline __attribute__((always_inline)) void direct_forward(const ck_conv_geom *g, int M, const float *W,
                                                                  const float *x, float *out) {
    const ptrdiff_t iplane = (ptrdiff_t)g->ih * g->iw, ichan = (ptrdiff_t)g->id * iplane;
    const ptrdiff_t oplane = (ptrdiff_t)g->oh * g->ow, ochan = (ptrdiff_t)g->od * oplane;
    const int kvol = g->kd * g->kh * g->kw, K = g->c * kvol, ow = g->ow, sw = g->sw;
    for (int m = 0; m < M; m++) {
        float *om = out + m * ochan;
        const float *wm = W + (ptrdiff_t)m * K;
        for (int c = 0; c < g->c; c++)
            for (int a = 0; a < g->kd; a++)
                for (int b = 0; b < g->kh; b++)
                    for (int e = 0; e < g->kw; e++) {
                        const float wv = wm[((c * g->kd + a) * g->kh + b) * g->kw + e];
                        for (int z = 0; z < g->od; z++)
                            for (int y = 0; y < g->oh; y++) {
                                const float *src = x + c * ichan + (ptrdiff_t)(z * g->sd + a * g->dd) * iplane +
                                                   (ptrdiff_t)(y * g->sh + b * g->dh) * g->iw + e * g->dw;
                                float *dst = om + z * oplane + (ptrdiff_t)y * ow;
                                if (sw == 1) for (int t = 0; t < ow; t++) dst[t] += wv * src[t];
                                else for (int t = 0; t < ow; t++) dst[t] += wv * src[t * sw];
                            }
                    }
    }
}

/// dW[m][c][a][b][e] += Σ_positions dy[m] · x[c] shifted.
static inline __attribute__((always_inline)) void direct_dweight(const ck_conv_geom *g, int M, const float *dy,
                                                                  const float *x, float *dW) {
    const ptrdiff_t iplane = (ptrdiff_t)g->ih * g->iw, ichan = (ptrdiff_t)g->id * iplane;
    const ptrdiff_t oplane = (ptrdiff_t)g->oh * g->ow, ochan = (ptrdiff_t)g->od * oplane;
    const int kvol = g->kd * g->kh * g->kw, K = g->c * kvol, ow = g->ow, sw = g->sw;
    // Per-lane partial sums over the row positions, so the inner loop is an elementwise FMA (which
    // vectorizes) rather than a scalar reduction (which does not without reassociation).
    float lanes[512];
    if (ow > 512) {   // very wide rows: plain scalar accumulation
        for (int m = 0; m < M; m++)
            for (int k = 0; k < K; k++) {
                int e = k % g->kw, b = (k / g->kw) % g->kh, a = (k / (g->kw * g->kh)) % g->kd, c = k / kvol;
                float s = 0.0f;
                for (int z = 0; z < g->od; z++)
                    for (int y = 0; y < g->oh; y++) {
                        const float *src = x + c * ichan + (ptrdiff_t)(z * g->sd + a * g->dd) * iplane + (ptrdiff_t)(y * g->sh + b * g->dh) * g->iw + e * g->dw;
                        const float *gy = dy + m * ochan + z * oplane + (ptrdiff_t)y * ow;
                        for (int t = 0; t < ow; t++) s += gy[t] * src[t * sw];
                    }
                dW[(ptrdiff_t)m * K + k] += s;
            }
        return;
    }
    for (int m = 0; m < M; m++)
        for (int c = 0; c < g->c; c++)
            for (int a = 0; a < g->kd; a++)
                for (int b = 0; b < g->kh; b++)
                    for (int e = 0; e < g->kw; e++) {
                        for (int t = 0; t < ow; t++) lanes[t] = 0.0f;
                        for (int z = 0; z < g->od; z++)
                            for (int y = 0; y < g->oh; y++) {
                                const float *src = x + c * ichan + (ptrdiff_t)(z * g->sd + a * g->dd) * iplane +
                                                   (ptrdiff_t)(y * g->sh + b * g->dh) * g->iw + e * g->dw;
                                const float *gy = dy + m * ochan + z * oplane + (ptrdiff_t)y * ow;
                                if (sw == 1) for (int t = 0; t < ow; t++) lanes[t] += gy[t] * src[t];
                                else for (int t = 0; t < ow; t++) lanes[t] += gy[t] * src[t * sw];
                            }
                        float s = 0.0f;
                        for (int t = 0; t < ow; t++) s += lanes[t];
                        dW[(ptrdiff_t)m * K + ((c * g->kd + a) * g->kh + b) * g->kw + e] += s;
                    }
}

#define CK_DIRECT_VARIANT(sfx, attr)                                                                          \
    attr static void fwd_##sfx(const ck_conv_geom *g, int M, const float *W, const float *x, float *out) {   \
        direct_forward(g, M, W, x, out);                                                                      \
    }                                                                                                         \
    attr static void dw_##sfx(const ck_conv_geom *g, int M, const float *dy, const float *x, float *dW) {    \
        direct_dweight(g, M, dy, x, dW);                                                                      \
    }

CK_INSTANTIATE(CK_DIRECT_VARIANT)

#if CK_X86
#include <immintrin.h>

/// The register-blocked forwards' set-up, in per-thread scratch: weights transposed to [chunk][K][F] (F filters a
/// chunk, zeros past M) and the input offset of every tap (c, a, b, e). NULL when the scratch cannot be had (the
/// failure is recorded by ck_workspace).
static float *direct_chunked_taps(const ck_conv_geom *g, int M, const float *W, int F, ptrdiff_t **offsets) {
    const ptrdiff_t iplane = (ptrdiff_t)g->ih * g->iw, ichan = (ptrdiff_t)g->id * iplane;
    const int kvol = g->kd * g->kh * g->kw, K = g->c * kvol, chunks = (M + F - 1) / F;
    float *wt = ck_workspace(4, (size_t)chunks * K * F);
    ptrdiff_t *off = (ptrdiff_t *)ck_workspace(5, (size_t)K * 2);
    if (!wt || !off) return NULL;
    for (int k = 0; k < K; k++) {
        for (int m = 0; m < chunks * F; m++) wt[((m / F) * K + k) * F + m % F] = m < M ? W[(ptrdiff_t)m * K + k] : 0.0f;
        int e = k % g->kw, b = (k / g->kw) % g->kh, a = (k / (g->kw * g->kh)) % g->kd, c = k / kvol;
        off[k] = c * ichan + (ptrdiff_t)a * g->dd * iplane + (ptrdiff_t)b * g->dh * g->iw + e * g->dw;
    }
    *offsets = off;
    return wt;
}
/// AVX-512, stride 1 along the width: register-blocked like a GEMM micro-kernel without packing.
/// Filters go in chunks of 8; for each 16-wide segment of an output row, 8 accumulators (one per filter)
/// sum every tap: one masked load of the shifted input row and 8 FMAs per tap.
CK_TARGET_AVX512
static void fwd_avx512_blocked(const ck_conv_geom *g, int M, const float *W, const float *x, float *out) {
    const ptrdiff_t iplane = (ptrdiff_t)g->ih * g->iw;
    const ptrdiff_t oplane = (ptrdiff_t)g->oh * g->ow, ochan = (ptrdiff_t)g->od * oplane;
    const int K = g->c * g->kd * g->kh * g->kw, ow = g->ow;
    const int chunks = (M + 7) / 8;
    ptrdiff_t *off = NULL;
    const float *wt = direct_chunked_taps(g, M, W, 8, &off);
    if (!wt) return;   // out of memory, recorded by ck_workspace
    for (int ch = 0; ch < chunks; ch++) {
        const float *wc = wt + (ptrdiff_t)ch * K * 8;
        const int mc = M - ch * 8 < 8 ? M - ch * 8 : 8;
        for (int z = 0; z < g->od; z++)
            for (int y = 0; y < g->oh; y++) {
                const float *row = x + (ptrdiff_t)z * g->sd * iplane + (ptrdiff_t)y * g->sh * g->iw;
                for (int x0 = 0; x0 < ow; x0 += 16) {
                    const int n = ow - x0 < 16 ? ow - x0 : 16;
                    const __mmask16 mask = (__mmask16)((1u << n) - 1u);
                    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
                    const float *base = row + x0;
                    for (int k = 0; k < K; k++) {
                        const __m512 v = _mm512_maskz_loadu_ps(mask, base + off[k]);
                        const float *w = wc + k * 8;
                        a0 = _mm512_fmadd_ps(_mm512_set1_ps(w[0]), v, a0);
                        a1 = _mm512_fmadd_ps(_mm512_set1_ps(w[1]), v, a1);
                        a2 = _mm512_fmadd_ps(_mm512_set1_ps(w[2]), v, a2);
                        a3 = _mm512_fmadd_ps(_mm512_set1_ps(w[3]), v, a3);
                        a4 = _mm512_fmadd_ps(_mm512_set1_ps(w[4]), v, a4);
                        a5 = _mm512_fmadd_ps(_mm512_set1_ps(w[5]), v, a5);
                        a6 = _mm512_fmadd_ps(_mm512_set1_ps(w[6]), v, a6);
                        a7 = _mm512_fmadd_ps(_mm512_set1_ps(w[7]), v, a7);
                    }
                    __m512 acc[8] = {a0, a1, a2, a3, a4, a5, a6, a7};
                    for (int m = 0; m < mc; m++) {
                        float *dst = out + (ch * 8 + m) * ochan + z * oplane + (ptrdiff_t)y * ow + x0;
                        _mm512_mask_storeu_ps(dst, mask, _mm512_add_ps(acc[m], _mm512_maskz_loadu_ps(mask, dst)));
                    }
                }
            }
    }
}

/// AVX-512 weight gradient, stride 1 along the width. For each chunk of 8 filters and each kernel row (c, a, b),
/// taps are taken three along the width at a time: 24 vector accumulators (8 filters × 3 taps) run over every
/// 16-wide output segment, so each dy vector loaded feeds 3 FMAs and each shifted input vector 8 (11 loads per
/// 24 FMAs, against 9 per 8 one tap at a time). The output rows are visited in bands small enough that the band's
/// dy (8 filters × band rows) stays in cache while every kernel row passes over it; the accumulators are kept in
/// a buffer between bands and reduced horizontally at the end.
CK_TARGET_AVX512
static void dw_avx512_blocked(const ck_conv_geom *g, int M, const float *dy, const float *x, float *dW) {
    const ptrdiff_t iplane = (ptrdiff_t)g->ih * g->iw, ichan = (ptrdiff_t)g->id * iplane;
    const ptrdiff_t oplane = (ptrdiff_t)g->oh * g->ow, ochan = (ptrdiff_t)g->od * oplane;
    const int kw = g->kw, kvol = g->kd * g->kh * kw, K = g->c * kvol, ow = g->ow, rows = K / kw;
    const int chunks = (kw + 2) / 3, outRows = g->od * g->oh;
    int band = (int)(65536 / ((ptrdiff_t)32 * (ow > 0 ? ow : 1)));
    if (band < 1) band = 1;
    if (band > outRows) band = outRows;
    const size_t slots = (size_t)rows * chunks * 24;
    __m512 *buffer = NULL;
    if (posix_memalign((void **)&buffer, 64, slots * sizeof(__m512)) != 0) buffer = NULL;
    for (int m0 = 0; m0 < M; m0 += 8) {
        const int mc = M - m0 < 8 ? M - m0 : 8;
        const float *d[8];
        for (int m = 0; m < 8; m++) d[m] = dy + (ptrdiff_t)(m0 + (m < mc ? m : 0)) * ochan;
        // Without a buffer (allocation failed) one band covers every row: the same sums, less cache reuse.
        __m512 local[24];
        const int bandRows = buffer ? band : outRows;
        if (buffer) for (size_t i = 0; i < slots; i++) buffer[i] = _mm512_setzero_ps();
        for (int row0 = 0; row0 < outRows; row0 += bandRows) {
            const int row1 = row0 + bandRows < outRows ? row0 + bandRows : outRows;
            for (int r = 0; r < rows; r++) {
                const int b = r % g->kh, a = (r / g->kh) % g->kd, c = r / (g->kh * g->kd);
                const ptrdiff_t rowOff = c * ichan + (ptrdiff_t)a * g->dd * iplane + (ptrdiff_t)b * g->dh * g->iw;
                for (int ec = 0; ec < chunks; ec++) {
                    const int e0 = ec * 3, ne = kw - e0 < 3 ? kw - e0 : 3;
                    __m512 *acc = buffer ? buffer + ((size_t)r * chunks + ec) * 24 : local;
                    if (!buffer) for (int i = 0; i < 24; i++) local[i] = _mm512_setzero_ps();
                    __m512 a0[8], a1[8], a2[8];
                    for (int m = 0; m < 8; m++) { a0[m] = acc[m * 3]; a1[m] = acc[m * 3 + 1]; a2[m] = acc[m * 3 + 2]; }
                    for (int zy = row0; zy < row1; zy++) {
                        const int z = zy / g->oh, y = zy % g->oh;
                        const float *src = x + rowOff + (ptrdiff_t)z * g->sd * iplane + (ptrdiff_t)y * g->sh * g->iw + e0 * g->dw;
                        const ptrdiff_t o = z * oplane + (ptrdiff_t)y * ow;
                        for (int x0 = 0; x0 < ow; x0 += 16) {
                            const int n = ow - x0 < 16 ? ow - x0 : 16;
                            const __mmask16 mask = (__mmask16)((1u << n) - 1u);
                            const __m512 v0 = _mm512_maskz_loadu_ps(mask, src + x0);
                            const __m512 v1 = ne > 1 ? _mm512_maskz_loadu_ps(mask, src + x0 + g->dw) : v0;
                            const __m512 v2 = ne > 2 ? _mm512_maskz_loadu_ps(mask, src + x0 + 2 * g->dw) : v0;
#pragma clang loop unroll(full)
                            for (int m = 0; m < 8; m++) {
                                const __m512 dv = _mm512_maskz_loadu_ps(mask, d[m] + o + x0);
                                a0[m] = _mm512_fmadd_ps(dv, v0, a0[m]);
                                a1[m] = _mm512_fmadd_ps(dv, v1, a1[m]);
                                a2[m] = _mm512_fmadd_ps(dv, v2, a2[m]);
                            }
                        }
                    }
                    for (int m = 0; m < 8; m++) { acc[m * 3] = a0[m]; acc[m * 3 + 1] = a1[m]; acc[m * 3 + 2] = a2[m]; }
                    if (!buffer)
                        for (int m = 0; m < mc; m++)
                            for (int j = 0; j < ne; j++) dW[(ptrdiff_t)(m0 + m) * K + r * kw + e0 + j] += _mm512_reduce_add_ps(local[m * 3 + j]);
                }
            }
        }
        if (buffer)
            for (int r = 0; r < rows; r++)
                for (int ec = 0; ec < chunks; ec++) {
                    const int e0 = ec * 3, ne = kw - e0 < 3 ? kw - e0 : 3;
                    const __m512 *acc = buffer + ((size_t)r * chunks + ec) * 24;
                    for (int m = 0; m < mc; m++)
                        for (int j = 0; j < ne; j++) dW[(ptrdiff_t)(m0 + m) * K + r * kw + e0 + j] += _mm512_reduce_add_ps(acc[m * 3 + j]);
                }
    }
    free(buffer);
}

/// One tile of ck_direct_rows_forward: 6 filters × NV 16-wide vectors of one output row, summed over all K
/// taps in registers (NV is a constant at each call, so the loops unroll and the 24 accumulators stay in
/// registers). The last vector is loaded and stored under `last`.
CK_TARGET_AVX512 static inline __attribute__((always_inline))
void rows_tile(const int NV, int K, const float *w6, const float *base, const ptrdiff_t *off, __mmask16 last,
               int mc, float *dst, ptrdiff_t ochan) {
    __m512 acc[6][4];
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 4; j++) acc[i][j] = _mm512_setzero_ps();
    for (int k = 0; k < K; k++) {
        const float *src = base + off[k];
        __m512 v[4];
        for (int j = 0; j < NV; j++)
            v[j] = j == NV - 1 ? _mm512_maskz_loadu_ps(last, src + 16 * j) : _mm512_loadu_ps(src + 16 * j);
        const float *w = w6 + (ptrdiff_t)k * 6;
        for (int i = 0; i < 6; i++) {
            const __m512 wi = _mm512_set1_ps(w[i]);
            for (int j = 0; j < NV; j++) acc[i][j] = _mm512_fmadd_ps(wi, v[j], acc[i][j]);
        }
    }
    for (int i = 0; i < mc; i++)
        for (int j = 0; j < NV; j++) {
            if (j == NV - 1) _mm512_mask_storeu_ps(dst + i * ochan + 16 * j, last, acc[i][j]);
            else _mm512_storeu_ps(dst + i * ochan + 16 * j, acc[i][j]);
        }
}

/// AVX-512 direct convolution over output rows (few input channels or long rows; K ≤ 1280 taps): output rows
/// y0..y1-1 of a 2-D convolution, width stride 1 or 2 (2 with rows split into even and odd columns), width
/// dilation 1, pre-padded input. No patch packing: each tile reads its input rows in place.
CK_TARGET_AVX512
static void rows_forward_avx512(const ck_conv_geom *g, int M, const float *W, const float *x, int y0, int y1, float *out) {
    const ptrdiff_t iplane = (ptrdiff_t)g->ih * g->iw, ochan = (ptrdiff_t)g->oh * g->ow;
    const int kvol = g->kh * g->kw, K = g->c * kvol, ow = g->ow, half = (g->iw + 1) / 2;
    const int blocks = (M + 5) / 6;
    // Each tap's offset in the (split) input rows, and one block's weights as [K][6] (zero past M), on the
    // stack: K ≤ 1280 (ck_direct_rows_supported).
    ptrdiff_t off[1280];
    float w6[1280 * 6] __attribute__((aligned(64)));
    for (int k = 0; k < K; k++) {
        int e = k % g->kw, b = (k / g->kw) % g->kh, c = k / kvol;
        int col = g->split_even_odd ? ((e & 1) ? half + (e >> 1) : (e >> 1)) : e;
        off[k] = c * iplane + (ptrdiff_t)b * g->dh * g->iw + col;
    }
    for (int blk = 0; blk < blocks; blk++) {
        const int mc = M - blk * 6 < 6 ? M - blk * 6 : 6;
        for (int k = 0; k < K; k++)
            for (int i = 0; i < 6; i++) w6[k * 6 + i] = i < mc ? W[(ptrdiff_t)(blk * 6 + i) * K + k] : 0.0f;
        for (int y = y0; y < y1; y++) {
            const float *row = x + (ptrdiff_t)y * g->sh * g->iw;
            float *orow = out + (ptrdiff_t)blk * 6 * ochan + (ptrdiff_t)y * ow;
            for (int x0 = 0; x0 < ow; x0 += 64) {
                const int n = ow - x0 < 64 ? ow - x0 : 64, nv = (n + 15) / 16, r = n - 16 * (nv - 1);
                const __mmask16 last = (__mmask16)(r == 16 ? 0xFFFF : (1u << r) - 1u);
                switch (nv) {
                case 4: rows_tile(4, K, w6, row + x0, off, last, mc, orow + x0, ochan); break;
                case 3: rows_tile(3, K, w6, row + x0, off, last, mc, orow + x0, ochan); break;
                case 2: rows_tile(2, K, w6, row + x0, off, last, mc, orow + x0, ochan); break;
                default: rows_tile(1, K, w6, row + x0, off, last, mc, orow + x0, ochan); break;
                }
            }
        }
    }
}

/// AVX2, stride 1 along the width: the AVX-512 kernel's scheme at 8 lanes. Filters in chunks of 4; each 16-wide
/// segment of an output row is two vectors, so a tap costs two (masked) input loads and 4 weight broadcasts for
/// 8 FMAs into 8 accumulators (4 filters × 2 halves).
CK_TARGET_AVX2
static void fwd_avx2_blocked(const ck_conv_geom *g, int M, const float *W, const float *x, float *out) {
    const ptrdiff_t iplane = (ptrdiff_t)g->ih * g->iw;
    const ptrdiff_t oplane = (ptrdiff_t)g->oh * g->ow, ochan = (ptrdiff_t)g->od * oplane;
    const int K = g->c * g->kd * g->kh * g->kw, ow = g->ow;
    const int chunks = (M + 3) / 4;
    ptrdiff_t *off = NULL;
    const float *wt = direct_chunked_taps(g, M, W, 4, &off);
    if (!wt) return;   // out of memory, recorded by ck_workspace
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    for (int ch = 0; ch < chunks; ch++) {
        const float *wc = wt + (ptrdiff_t)ch * K * 4;
        const int mc = M - ch * 4 < 4 ? M - ch * 4 : 4;
        for (int z = 0; z < g->od; z++)
            for (int y = 0; y < g->oh; y++) {
                const float *row = x + (ptrdiff_t)z * g->sd * iplane + (ptrdiff_t)y * g->sh * g->iw;
                for (int x0 = 0; x0 < ow; x0 += 16) {
                    const int n = ow - x0 < 16 ? ow - x0 : 16;
                    // Lanes past the row read nothing (masked loads) and are not stored.
                    const __m256i m0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(n), lane);
                    const __m256i m1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(n - 8), lane);
                    __m256 a00 = _mm256_setzero_ps(), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
                    const float *base = row + x0;
                    for (int k = 0; k < K; k++) {
                        const __m256 v0 = _mm256_maskload_ps(base + off[k], m0);
                        const __m256 v1 = _mm256_maskload_ps(base + off[k] + 8, m1);
                        const float *w = wc + k * 4;
                        const __m256 w0 = _mm256_broadcast_ss(w), w1 = _mm256_broadcast_ss(w + 1);
                        const __m256 w2 = _mm256_broadcast_ss(w + 2), w3 = _mm256_broadcast_ss(w + 3);
                        a00 = _mm256_fmadd_ps(w0, v0, a00); a01 = _mm256_fmadd_ps(w0, v1, a01);
                        a10 = _mm256_fmadd_ps(w1, v0, a10); a11 = _mm256_fmadd_ps(w1, v1, a11);
                        a20 = _mm256_fmadd_ps(w2, v0, a20); a21 = _mm256_fmadd_ps(w2, v1, a21);
                        a30 = _mm256_fmadd_ps(w3, v0, a30); a31 = _mm256_fmadd_ps(w3, v1, a31);
                    }
                    const __m256 acc[4][2] = {{a00, a01}, {a10, a11}, {a20, a21}, {a30, a31}};
                    for (int m = 0; m < mc; m++) {
                        float *dst = out + (ch * 4 + m) * ochan + z * oplane + (ptrdiff_t)y * ow + x0;
                        _mm256_maskstore_ps(dst, m0, _mm256_add_ps(acc[m][0], _mm256_maskload_ps(dst, m0)));
                        _mm256_maskstore_ps(dst + 8, m1, _mm256_add_ps(acc[m][1], _mm256_maskload_ps(dst + 8, m1)));
                    }
                }
            }
    }
}

/// Sum of the 8 lanes.
CK_TARGET_AVX2 static inline float hsum_avx2(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}

/// AVX2 weight gradient, stride 1 along the width: the AVX-512 kernel's scheme at 8 lanes with 4 filters per
/// chunk, so that 12 accumulators (4 filters × 3 taps), 3 shifted input vectors and one dy vector fill the 16
/// registers: each 8-wide segment costs 4 dy loads and 3 input loads for 12 FMAs. Bands of output rows keep a band's
/// dy in cache while every kernel row passes over it; accumulators wait in a buffer between bands.
CK_TARGET_AVX2
static void dw_avx2_blocked(const ck_conv_geom *g, int M, const float *dy, const float *x, float *dW) {
    const ptrdiff_t iplane = (ptrdiff_t)g->ih * g->iw, ichan = (ptrdiff_t)g->id * iplane;
    const ptrdiff_t oplane = (ptrdiff_t)g->oh * g->ow, ochan = (ptrdiff_t)g->od * oplane;
    const int kw = g->kw, kvol = g->kd * g->kh * kw, K = g->c * kvol, ow = g->ow, rows = K / kw;
    const int chunks = (kw + 2) / 3, outRows = g->od * g->oh;
    int band = (int)(32768 / ((ptrdiff_t)16 * (ow > 0 ? ow : 1)));
    if (band < 1) band = 1;
    if (band > outRows) band = outRows;
    const size_t slots = (size_t)rows * chunks * 12;
    __m256 *buffer = NULL;
    if (posix_memalign((void **)&buffer, 32, slots * sizeof(__m256)) != 0) buffer = NULL;
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    for (int m0 = 0; m0 < M; m0 += 4) {
        const int mc = M - m0 < 4 ? M - m0 : 4;
        const float *d[4];
        for (int m = 0; m < 4; m++) d[m] = dy + (ptrdiff_t)(m0 + (m < mc ? m : 0)) * ochan;
        // Without a buffer (allocation failed) one band covers every row: the same sums, less cache reuse.
        __m256 local[12];
        const int bandRows = buffer ? band : outRows;
        if (buffer) for (size_t i = 0; i < slots; i++) buffer[i] = _mm256_setzero_ps();
        for (int row0 = 0; row0 < outRows; row0 += bandRows) {
            const int row1 = row0 + bandRows < outRows ? row0 + bandRows : outRows;
            for (int r = 0; r < rows; r++) {
                const int b = r % g->kh, a = (r / g->kh) % g->kd, c = r / (g->kh * g->kd);
                const ptrdiff_t rowOff = c * ichan + (ptrdiff_t)a * g->dd * iplane + (ptrdiff_t)b * g->dh * g->iw;
                for (int ec = 0; ec < chunks; ec++) {
                    const int e0 = ec * 3, ne = kw - e0 < 3 ? kw - e0 : 3;
                    __m256 *acc = buffer ? buffer + ((size_t)r * chunks + ec) * 12 : local;
                    if (!buffer) for (int i = 0; i < 12; i++) local[i] = _mm256_setzero_ps();
                    __m256 a0[4], a1[4], a2[4];
                    for (int m = 0; m < 4; m++) { a0[m] = acc[m * 3]; a1[m] = acc[m * 3 + 1]; a2[m] = acc[m * 3 + 2]; }
                    for (int zy = row0; zy < row1; zy++) {
                        const int z = zy / g->oh, y = zy % g->oh;
                        const float *src = x + rowOff + (ptrdiff_t)z * g->sd * iplane + (ptrdiff_t)y * g->sh * g->iw + e0 * g->dw;
                        const ptrdiff_t o = z * oplane + (ptrdiff_t)y * ow;
                        for (int x0 = 0; x0 < ow; x0 += 8) {
                            const int n = ow - x0 < 8 ? ow - x0 : 8;
                            const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(n), lane);
                            const __m256 v0 = _mm256_maskload_ps(src + x0, mask);
                            const __m256 v1 = ne > 1 ? _mm256_maskload_ps(src + x0 + g->dw, mask) : v0;
                            const __m256 v2 = ne > 2 ? _mm256_maskload_ps(src + x0 + 2 * g->dw, mask) : v0;
#pragma clang loop unroll(full)
                            for (int m = 0; m < 4; m++) {
                                const __m256 dv = _mm256_maskload_ps(d[m] + o + x0, mask);
                                a0[m] = _mm256_fmadd_ps(dv, v0, a0[m]);
                                a1[m] = _mm256_fmadd_ps(dv, v1, a1[m]);
                                a2[m] = _mm256_fmadd_ps(dv, v2, a2[m]);
                            }
                        }
                    }
                    for (int m = 0; m < 4; m++) { acc[m * 3] = a0[m]; acc[m * 3 + 1] = a1[m]; acc[m * 3 + 2] = a2[m]; }
                    if (!buffer)
                        for (int m = 0; m < mc; m++)
                            for (int j = 0; j < ne; j++) dW[(ptrdiff_t)(m0 + m) * K + r * kw + e0 + j] += hsum_avx2(local[m * 3 + j]);
                }
            }
        }
        if (buffer)
            for (int r = 0; r < rows; r++)
                for (int ec = 0; ec < chunks; ec++) {
                    const int e0 = ec * 3, ne = kw - e0 < 3 ? kw - e0 : 3;
                    const __m256 *acc = buffer + ((size_t)r * chunks + ec) * 12;
                    for (int m = 0; m < mc; m++)
                        for (int j = 0; j < ne; j++) dW[(ptrdiff_t)(m0 + m) * K + r * kw + e0 + j] += hsum_avx2(acc[m * 3 + j]);
                }
    }
    free(buffer);
}
#endif

void ck_direct_conv_forward(const ck_conv_geom *g, int M, const float *W, const float *x, float *out) {
#if CK_X86
    if (ck_active_isa() == CK_ISA_AVX512 && g->sw == 1) { fwd_avx512_blocked(g, M, W, x, out); return; }
    if (ck_active_isa() == CK_ISA_AVX2 && g->sw == 1) { fwd_avx2_blocked(g, M, W, x, out); return; }
#endif
    CK_PICK(fwd, g, M, W, x, out)
}

void ck_direct_conv_dweight(const ck_conv_geom *g, int M, const float *dy, const float *x, float *dW) {
#if CK_X86
    if (ck_active_isa() == CK_ISA_AVX512 && g->sw == 1) { dw_avx512_blocked(g, M, dy, x, dW); return; }
    if (ck_active_isa() == CK_ISA_AVX2 && g->sw == 1) { dw_avx2_blocked(g, M, dy, x, dW); return; }
#endif
    CK_PICK(dw, g, M, dy, x, dW)
}

int ck_direct_rows_supported(const ck_conv_geom *g) {
#if CK_X86
    return ck_active_isa() == CK_ISA_AVX512 && g->c * g->kh * g->kw <= 1280 && g->id == 1 && g->kd == 1 && g->od == 1 && g->dw == 1 &&
           g->pd == 0 && g->ph == 0 && g->pw == 0 && (g->sw == 1 || (g->sw == 2 && g->split_even_odd));
#else
    (void)g;
    return 0;
#endif
}

void ck_direct_rows_forward(const ck_conv_geom *g, int M, const float *W, const float *x, int y0, int y1, float *out) {
#if CK_X86
    if (ck_direct_rows_supported(g)) { rows_forward_avx512(g, M, W, x, y0, y1, out); return; }
#endif
    (void)g; (void)M; (void)W; (void)x; (void)y0; (void)y1; (void)out;
    abort();   // callers check ck_direct_rows_supported first
}
