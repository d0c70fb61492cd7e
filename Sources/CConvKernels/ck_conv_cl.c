// Convolution with output channels in vector lanes, for small output maps (ResNet's 7×7 layer4 at batch 1).
//
// The im2col GEMM puts output positions in vector lanes; 49 positions fill 49 of its 64 columns. Here the
// product is transposed: a 7 × 32 micro-tile holds 7 positions (a run of an output row, broadcast) by 32 output
// channels (two vectors), so maps whose width is a multiple of 7 waste nothing (other widths gather the panels
// that cross a row end). Each k-block packs the patches
// of every position (7-wide runs: masked loads, permutes for stride 2) and the weights of the caller's channels
// (k-major by 16×16 register transposes), accumulates the products into a [positions × channels] scratch,
// and finally stores it transposed to NCHW through the epilogue (bias, residual, clamp).
#include "ck_internal.h"
#if CK_X86
#include <immintrin.h>

#pragma clang attribute push(CK_TARGET_AVX512, apply_to = function)
#include "ck_avx512_transpose.h"

#define CL_MR 7
#define CL_NR 32
#define CL_KC 512
/// Largest map handled (positions): patches for one k-block stay in L2 (196 × 512 floats = 392 KiB).
#define CL_MAX_POSITIONS 196

/// c[7 × 32] (row stride ldc) = a[kc][7] · b[kc][32] (+ c when accumulate).
static inline __attribute__((always_inline)) void cl_ukr(int kc, const float *a, const float *b, float *c, ptrdiff_t ldc,
                                                          int accumulate) {
    __m512 acc[CL_MR][2];
    for (int i = 0; i < CL_MR; i++) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
    for (int k = 0; k < kc; k++) {
        const __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
        for (int i = 0; i < CL_MR; i++) {
            const __m512 ai = _mm512_set1_ps(a[i]);
            acc[i][0] = _mm512_fmadd_ps(ai, b0, acc[i][0]);
            acc[i][1] = _mm512_fmadd_ps(ai, b1, acc[i][1]);
        }
        a += CL_MR; b += CL_NR;
    }
    for (int i = 0; i < CL_MR; i++) {
        float *r = c + (ptrdiff_t)i * ldc;
        if (accumulate) {
            acc[i][0] = _mm512_add_ps(acc[i][0], _mm512_loadu_ps(r));
            acc[i][1] = _mm512_add_ps(acc[i][1], _mm512_loadu_ps(r + 16));
        }
        _mm512_storeu_ps(r, acc[i][0]);
        _mm512_storeu_ps(r + 16, acc[i][1]);
    }
}

/// Patches of positions [7q, 7q + 7) for taps [k0, k0 + kc): dst[q][k][i], pre-padded input. A panel whose 7
/// positions lie in one output row is one masked load (a permute for stride 2); one that crosses a row end (maps
/// whose width is not a multiple of 7) or passes the last position is gathered lane by lane, zeros past the end.
static void cl_pack_patches(const ck_conv_geom *g, const float *x, int k0, int kc, int panels, float *dst) {
    const ptrdiff_t plane = (ptrdiff_t)g->ih * g->iw;
    const int kvol = g->kh * g->kw, P = g->oh * g->ow;
    const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    enum { MAXQ = (CL_MAX_POSITIONS + CL_MR - 1) / CL_MR };
    ptrdiff_t off[MAXQ][CL_MR];   // each lane's position in channel 0 (−1: past the last position)
    int whole[MAXQ];              // the panel is one run of a row
    for (int q = 0; q < panels; q++) {
        const int p = q * CL_MR;
        whole[q] = p + CL_MR <= P && p % g->ow + CL_MR <= g->ow;
        for (int i = 0; i < CL_MR; i++) {
            const int pi = p + i, oy = pi / g->ow, ox = pi % g->ow;
            off[q][i] = pi < P ? (ptrdiff_t)oy * g->sh * g->iw + (ptrdiff_t)ox * g->sw : -1;
        }
    }
    int e = k0 % g->kw, b = (k0 / g->kw) % g->kh, c = k0 / kvol;
    for (int kk = 0; kk < kc; kk++) {
        const float *tap = x + c * plane + (ptrdiff_t)b * g->dh * g->iw + (ptrdiff_t)e * g->dw;
        float *d = dst + kk * CL_MR;
        for (int q = 0; q < panels; q++) {
            float *dq = d + (ptrdiff_t)q * kc * CL_MR;
            if (whole[q] && g->sw == 1) {
                _mm512_mask_storeu_ps(dq, 0x7F, _mm512_maskz_loadu_ps(0x7F, tap + off[q][0]));
            } else if (whole[q] && g->sw == 2) {   // s[0], s[2], …, s[12]
                _mm512_mask_storeu_ps(dq, 0x7F, _mm512_permutexvar_ps(even, _mm512_maskz_loadu_ps(0x1FFF, tap + off[q][0])));
            } else {
                for (int i = 0; i < CL_MR; i++) dq[i] = off[q][i] >= 0 ? tap[off[q][i]] : 0.0f;
            }
        }
        if (++e == g->kw) { e = 0; if (++b == g->kh) { b = 0; c++; } }
    }
}

static void cl_forward(const ck_conv_geom *g, const float *W, const float *x, int m0, int m1, const float *bias,
                       const float *res, float lo, float hi, float *out) {
    const int K = g->c * g->kh * g->kw, P = g->oh * g->ow, panels = (P + CL_MR - 1) / CL_MR;
    const int mc = m1 - m0, npanels = (mc + CL_NR - 1) / CL_NR, ldc = npanels * CL_NR;
    float *Ap = ck_workspace(0, (size_t)panels * CL_MR * CL_KC);
    float *Bp = ck_workspace(1, (size_t)ldc * CL_KC);
    float *Ct = ck_workspace(4, (size_t)panels * CL_MR * ldc);   // rows past P are computed and not stored
    if (!Ap || !Bp || !Ct) return;   // out of memory, recorded by ck_workspace
    for (int pc = 0; pc < K; pc += CL_KC) {
        const int kc = K - pc < CL_KC ? K - pc : CL_KC;
        cl_pack_patches(g, x, pc, kc, panels, Ap);
        for (int j = 0; j < npanels; j++)
            for (int h = 0; h < 2; h++) {
                int row = j * CL_NR + h * 16, rows = mc - row < 16 ? mc - row : 16;
                if (rows < 0) rows = 0;
                transpose_rows_avx512(W + (ptrdiff_t)(m0 + (rows > 0 ? row : 0)) * K + pc, K, rows, kc,
                                      Bp + (ptrdiff_t)j * kc * CL_NR + h * 16, CL_NR);
            }
        for (int j = 0; j < npanels; j++)
            for (int q = 0; q < panels; q++)
                cl_ukr(kc, Ap + (ptrdiff_t)q * kc * CL_MR, Bp + (ptrdiff_t)j * kc * CL_NR,
                       Ct + (ptrdiff_t)q * CL_MR * ldc + j * CL_NR, ldc, pc > 0);
    }
    // [positions × channels] → out [channels × positions], 16 positions at a time, then the epilogue.
    for (int p0 = 0; p0 < P; p0 += 16) {
        const int rows = P - p0 < 16 ? P - p0 : 16;
        transpose_rows_width_avx512(Ct + (ptrdiff_t)p0 * ldc, ldc, rows, rows, mc, out + (ptrdiff_t)m0 * P + p0, P);
    }
    ck_conv_epilogue(out + (ptrdiff_t)m0 * P, mc, P, P, bias ? bias + m0 : NULL, res ? res + (ptrdiff_t)m0 * P : NULL, P, lo, hi);
}

#pragma clang attribute pop
#endif

int ck_conv_cl_supported(const ck_conv_geom *g) {
#if CK_X86
    return ck_active_isa() == CK_ISA_AVX512 && g->id == 1 && g->kd == 1 && g->od == 1 && g->pd == 0 && g->ph == 0 &&
           g->pw == 0 && g->oh * g->ow <= CL_MAX_POSITIONS;
#else
    (void)g;
    return 0;
#endif
}

void ck_conv_cl_forward(const ck_conv_geom *g, const float *W, const float *x, int m0, int m1, const float *bias,
                        const float *res, float lo, float hi, float *out) {
#if CK_X86
    if (ck_conv_cl_supported(g)) { cl_forward(g, W, x, m0, m1, bias, res, lo, hi, out); return; }
#endif
    (void)g; (void)W; (void)x; (void)m0; (void)m1; (void)bias; (void)res; (void)lo; (void)hi; (void)out;
    abort();   // callers check ck_conv_cl_supported first
}
