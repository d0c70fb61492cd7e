// The blocked GEMM driver (BLIS loop order), written once and compiled once per ISA.
//
// An ISA file defines, before including this header:
//   CK_MR, CK_NR       the micro-tile (rows of A × columns of B held in registers)
//   CK_FN(name)        appends the ISA suffix to a function name
//   a static micro-kernel  CK_FN(ukr)(int kc, const float *a, const float *b, float *c, ptrdiff_t ldc, float beta)
//                      computing c[MR×NR] = a_panel · b_panel + beta · c (c not read when beta == 0)
// and wraps the include in a target attribute region, so packing loops get the same vector width.
//
// Loop nest:  jc (NC columns of B) → pc (KC of the shared dimension: pack B block) → ic (MC rows: pack A
// block) → jr (NR: one B micro-panel, stays in L1) → ir (MR: A micro-panels stream from L2).

#include "ck_internal.h"


#ifndef CK_COPY_RUN
/// dst[t] = lo <= t < hi ? src[t] : 0 for t in [0, len): one output row's run of an im2col panel.
/// ISA files may supply a masked-vector version; src is only read at [lo, hi).
#define CK_COPY_RUN(dst, src, lo, hi, len) do {                                   \
        for (int t_ = 0; t_ < (lo); t_++) (dst)[t_] = 0.0f;                          \
        for (int t_ = (lo); t_ < (hi); t_++) (dst)[t_] = (src)[t_];                  \
        for (int t_ = (hi); t_ < (len); t_++) (dst)[t_] = 0.0f;                      \
    } while (0)
#endif

#ifndef CK_COPY_RUN_STRIDE2
/// dst[t] = src[2t] for t in [0, len): a stride-2 run (ResNet's and AlexNet's strided convolutions).
#define CK_COPY_RUN_STRIDE2(dst, src, len) do { for (int t_ = 0; t_ < (len); t_++) (dst)[t_] = (src)[2 * t_]; } while (0)
#endif

#define CK_KC 512
#define CK_MC (CK_MR * 6)
#define CK_NC (CK_NR * 128)

/// Packs rows i0..i0+m-1 and columns k0..k0+kc-1 of A (scaled by alpha) into MR-row panels, zero-padded.
static void CK_FN(pack_a)(const float *A, ptrdiff_t rsa, ptrdiff_t csa, int m, int kc, float alpha, float *dst) {
    for (int ip = 0; ip < m; ip += CK_MR) {
        int mr = m - ip < CK_MR ? m - ip : CK_MR;
        const float *src = A + (ptrdiff_t)ip * rsa;
#ifdef CK_PACK_A_PANEL
        if (csa == 1 && alpha == 1.0f && mr == CK_MR) {
            CK_PACK_A_PANEL(src, rsa, kc, dst);
            dst += (ptrdiff_t)kc * CK_MR;
            continue;
        }
#endif
        if (csa == 1) {
            for (int k = 0; k < kc; k++) {
                int i = 0;
                for (; i < mr; i++) dst[k * CK_MR + i] = alpha * src[(ptrdiff_t)i * rsa + k];
                for (; i < CK_MR; i++) dst[k * CK_MR + i] = 0.0f;
            }
        } else {
            for (int k = 0; k < kc; k++) {
                int i = 0;
                for (; i < mr; i++) dst[k * CK_MR + i] = alpha * src[(ptrdiff_t)i * rsa + (ptrdiff_t)k * csa];
                for (; i < CK_MR; i++) dst[k * CK_MR + i] = 0.0f;
            }
        }
        dst += (ptrdiff_t)kc * CK_MR;
    }
}

/// Packs rows 0..kc-1 and columns 0..nc-1 of a strided B into NR-column panels, zero-padded.
static void CK_FN(pack_b_strided)(const float *B, ptrdiff_t rsb, ptrdiff_t csb, int kc, int nc, float *dst) {
    for (int jp = 0; jp < nc; jp += CK_NR) {
        int nr = nc - jp < CK_NR ? nc - jp : CK_NR;
        const float *src = B + (ptrdiff_t)jp * csb;
        if (csb == 1 && nr == CK_NR) {
            for (int k = 0; k < kc; k++) memcpy(dst + k * CK_NR, src + (ptrdiff_t)k * rsb, sizeof(float) * CK_NR);
        } else if (rsb == 1) {
            for (int j = 0; j < nr; j++) {
                const float *col = src + (ptrdiff_t)j * csb;
                for (int k = 0; k < kc; k++) dst[k * CK_NR + j] = col[k];
            }
            for (int k = 0; k < kc; k++)
                for (int j = nr; j < CK_NR; j++) dst[k * CK_NR + j] = 0.0f;
        } else {
            for (int k = 0; k < kc; k++) {
                int j = 0;
                for (; j < nr; j++) dst[k * CK_NR + j] = src[(ptrdiff_t)k * rsb + (ptrdiff_t)j * csb];
                for (; j < CK_NR; j++) dst[k * CK_NR + j] = 0.0f;
            }
        }
        dst += (ptrdiff_t)kc * CK_NR;
    }
}

/// Packs im2col rows k0..k0+kc-1, columns (output positions) p0..p0+nc-1 into NR-column panels.
/// Columns of a panel are split into runs that share one output row (same depth and height), so the
/// taps of a run read one input row: contiguous when the width stride is 1.
static void CK_FN(pack_b_conv)(const ck_conv_geom *g, const float *x, int k0, int kc, int p0, int nc, float *dst) {
    const int kvol = g->kd * g->kh * g->kw;
    const ptrdiff_t plane = (ptrdiff_t)g->ih * g->iw, chan = (ptrdiff_t)g->id * plane;
    for (int jp = 0; jp < nc; jp += CK_NR) {
        int nr = nc - jp < CK_NR ? nc - jp : CK_NR;
        // Runs of columns within this panel sharing (z, y).
        int run_start[CK_NR + 1], run_z[CK_NR], run_y[CK_NR], run_x[CK_NR], nruns = 0;
        int p = p0 + jp;
        for (int j = 0; j < nr;) {
            int x0 = p % g->ow, zy = p / g->ow;
            int len = g->ow - x0;
            if (len > nr - j) len = nr - j;
            run_start[nruns] = j; run_z[nruns] = zy / g->oh; run_y[nruns] = zy % g->oh; run_x[nruns] = x0;
            nruns++; j += len; p += len;
        }
        run_start[nruns] = nr;
        int k = k0;
        if (g->pd == 0 && g->ph == 0 && g->pw == 0) {
            // No padding: every tap lands inside the input, so each run is a plain (strided) copy from
            // x + offset(k) + base(run).
            ptrdiff_t base[CK_NR];
            for (int r = 0; r < nruns; r++)
                base[r] = (ptrdiff_t)run_z[r] * g->sd * plane + (ptrdiff_t)run_y[r] * g->sh * g->iw + (ptrdiff_t)run_x[r] * g->sw;
            int e = k % g->kw, b = (k / g->kw) % g->kh, a = (k / (g->kw * g->kh)) % g->kd, c = k / kvol;
            for (int kk = 0; kk < kc; kk++) {
                float *row = dst + (ptrdiff_t)kk * CK_NR;
                const float *src = x + c * chan + (ptrdiff_t)a * g->dd * plane + (ptrdiff_t)b * g->dh * g->iw + e * g->dw;
                for (int r = 0; r < nruns; r++) {
                    int j0 = run_start[r], len = run_start[r + 1] - j0;
                    const float *s = src + base[r];
                    if (g->sw == 1) CK_COPY_RUN(row + j0, s, 0, len, len);
                    else if (g->sw == 2) CK_COPY_RUN_STRIDE2(row + j0, s, len);
                    else for (int t = 0; t < len; t++) row[j0 + t] = s[(ptrdiff_t)t * g->sw];
                }
                for (int j = nr; j < CK_NR; j++) row[j] = 0.0f;
                if (++e == g->kw) { e = 0; if (++b == g->kh) { b = 0; if (++a == g->kd) { a = 0; c++; } } }
            }
            dst += (ptrdiff_t)kc * CK_NR;
            continue;
        }
        int e = k % g->kw, b = (k / g->kw) % g->kh, a = (k / (g->kw * g->kh)) % g->kd, c = k / kvol;
        for (int kk = 0; kk < kc; kk++, k++) {
            float *row = dst + (ptrdiff_t)kk * CK_NR;
            for (int r = 0; r < nruns; r++) {
                int j0 = run_start[r], len = run_start[r + 1] - j0;
                int iz = run_z[r] * g->sd - g->pd + a * g->dd;
                int iy = run_y[r] * g->sh - g->ph + b * g->dh;
                if (iz < 0 || iz >= g->id || iy < 0 || iy >= g->ih) {
                    CK_COPY_RUN(row + j0, row + j0, 0, 0, len);   // all zeros, nothing read
                    continue;
                }
                const float *src = x + c * chan + iz * plane + (ptrdiff_t)iy * g->iw;
                int ix = run_x[r] * g->sw - g->pw + e * g->dw;
                if (g->sw == 1) {
                    int lo = ix < 0 ? -ix : 0;              // first t with ix + t >= 0
                    int hi = g->iw - ix;                     // first t with ix + t >= iw
                    if (hi > len) hi = len;
                    if (lo > len) lo = len;
                    if (hi < lo) hi = lo;
                    CK_COPY_RUN(row + j0, src + ix, lo, hi, len);
                } else {
                    for (int t = 0; t < len; t++) {
                        int xx = ix + t * g->sw;
                        row[j0 + t] = (xx >= 0 && xx < g->iw) ? src[xx] : 0.0f;
                    }
                }
            }
            for (int j = nr; j < CK_NR; j++) row[j] = 0.0f;
            if (++e == g->kw) { e = 0; if (++b == g->kh) { b = 0; if (++a == g->kd) { a = 0; c++; } } }
        }
        dst += (ptrdiff_t)kc * CK_NR;
    }
}

/// Runs the micro-kernel over an mc×nc block of packed A and B, handling ragged edges through a tile buffer.
static void CK_FN(macro_kernel)(int mc, int nc, int kc, const float *Ap, const float *Bp,
                                float beta, float *C, ptrdiff_t ldc) {
#ifndef CK_UKR_PARTIAL
    float tile[CK_MR * CK_NR] __attribute__((aligned(64)));
#endif
    for (int jr = 0; jr < nc; jr += CK_NR) {
        int nr = nc - jr < CK_NR ? nc - jr : CK_NR;
        const float *b = Bp + (ptrdiff_t)jr * kc;
        for (int ir = 0; ir < mc; ir += CK_MR) {
            int mr = mc - ir < CK_MR ? mc - ir : CK_MR;
            const float *a = Ap + (ptrdiff_t)ir * kc;
            float *c = C + (ptrdiff_t)ir * ldc + jr;
#ifdef CK_UKR_PARTIAL
            CK_FN(ukr)(kc, a, b, c, ldc, beta, mr, nr);
#else
            if (mr == CK_MR && nr == CK_NR) {
                CK_FN(ukr)(kc, a, b, c, ldc, beta);
            } else {
                CK_FN(ukr)(kc, a, b, tile, CK_NR, 0.0f);
                for (int i = 0; i < mr; i++)
                    for (int j = 0; j < nr; j++) {
                        float v = tile[i * CK_NR + j];
                        c[(ptrdiff_t)i * ldc + j] = beta == 0.0f ? v : v + beta * c[(ptrdiff_t)i * ldc + j];
                    }
            }
#endif
        }
    }
}

/// The source of B: a strided matrix or the implicit im2col matrix of a convolution.
typedef struct {
    const float *B; ptrdiff_t rsb, csb;     // strided
    const ck_conv_geom *geom; const float *x; int p0;  // conv (geom != NULL)
} CK_FN(bsource);

static void CK_FN(gemm_blocked)(int M, int N, int K, float alpha, const float *A, ptrdiff_t rsa, ptrdiff_t csa,
                                const CK_FN(bsource) *src, float beta, float *C, ptrdiff_t ldc) {
    if (M <= 0 || N <= 0) return;
    if (K <= 0) {
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++) C[(ptrdiff_t)i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[(ptrdiff_t)i * ldc + j];
        return;
    }
    float *Ap = ck_workspace(0, (size_t)CK_MC * CK_KC);
    float *Bp = ck_workspace(1, (size_t)CK_KC * CK_NC);
    if (!Ap || !Bp) return;   // out of memory, recorded by ck_workspace
    for (int jc = 0; jc < N; jc += CK_NC) {
        int nc = N - jc < CK_NC ? N - jc : CK_NC;
        for (int pc = 0; pc < K; pc += CK_KC) {
            int kc = K - pc < CK_KC ? K - pc : CK_KC;
            if (src->geom)
                CK_FN(pack_b_conv)(src->geom, src->x, pc, kc, src->p0 + jc, nc, Bp);
            else
                CK_FN(pack_b_strided)(src->B + (ptrdiff_t)pc * src->rsb + (ptrdiff_t)jc * src->csb,
                                      src->rsb, src->csb, kc, nc, Bp);
            float b = pc == 0 ? beta : 1.0f;
            for (int ic = 0; ic < M; ic += CK_MC) {
                int mc = M - ic < CK_MC ? M - ic : CK_MC;
                CK_FN(pack_a)(A + (ptrdiff_t)ic * rsa + (ptrdiff_t)pc * csa, rsa, csa, mc, kc, alpha, Ap);
                CK_FN(macro_kernel)(mc, nc, kc, Ap, Bp, b, C + (ptrdiff_t)ic * ldc + jc, ldc);
            }
        }
    }
}

void CK_FN(ck_sgemm)(int M, int N, int K, float alpha, const float *A, ptrdiff_t rsa, ptrdiff_t csa,
                     const float *B, ptrdiff_t rsb, ptrdiff_t csb, float beta, float *C, ptrdiff_t ldc) {
    CK_FN(bsource) s = { B, rsb, csb, NULL, NULL, 0 };
    CK_FN(gemm_blocked)(M, N, K, alpha, A, rsa, csa, &s, beta, C, ldc);
}

void CK_FN(ck_conv_gemm)(const ck_conv_geom *g, int M, const float *W, ptrdiff_t ldw, const float *x,
                         int p0, int p1, float alpha, float beta, float *out, ptrdiff_t ldc) {
    CK_FN(bsource) s = { NULL, 0, 0, g, x, p0 };
    int K = g->c * g->kd * g->kh * g->kw;
    CK_FN(gemm_blocked)(M, p1 - p0, K, alpha, W, ldw, 1, &s, beta, out, ldc);
}
