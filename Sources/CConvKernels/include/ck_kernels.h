/// ConvKit's C kernels: the hot loops only. Everything here is single-threaded; the Swift layer splits
/// work across threads and calls these on disjoint pieces. All matrices are float32. Layout of images is
/// NCHW (NCDHW for 3-D): a 1-D or 2-D problem is a 3-D one with depth (and height) 1.
///
/// The instruction set (AVX-512, AVX2+FMA, portable C) is chosen once, at the first call, from what the
/// CPU reports (`__builtin_cpu_supports`): see ck_dispatch.c.
#ifndef CK_KERNELS_H
#define CK_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Which kernel family runs: 0 portable C, 1 AVX2+FMA, 2 AVX-512.
typedef enum { CK_ISA_GENERIC = 0, CK_ISA_AVX2 = 1, CK_ISA_AVX512 = 2 } ck_isa;

/// The ISA picked at run time (the best the CPU supports, or the one forced by ck_force_isa).
ck_isa ck_active_isa(void);
/// Forces an ISA (for tests and benchmarks); an ISA the CPU lacks falls back to the best it has.
void ck_force_isa(ck_isa isa);
/// Column-panel width of the active micro-kernel (callers align column splits to it).
int ck_gemm_nr(void);

/// C[M×N] = alpha · A[M×K] · B[K×N] + beta · C, with arbitrary element strides, so transposes are free:
/// A[i][k] = A[i*rsa + k*csa], B[k][j] = B[k*rsb + j*csb], C[i][j] = C[i*ldc + j].
/// With beta == 0, C is not read (it may hold garbage).
void ck_sgemm(int M, int N, int K, float alpha,
              const float *A, ptrdiff_t rsa, ptrdiff_t csa,
              const float *B, ptrdiff_t rsb, ptrdiff_t csb,
              float beta, float *C, ptrdiff_t ldc);

/// Geometry of one convolution group on one image, 3-D in general (1-D/2-D: leading sizes 1).
/// Output positions are numbered p = (od*oh + y)*ow + x; rows of the im2col matrix are numbered
/// k = ((c*kd + a)*kh + b)*kw + e, which is the memory order of a PyTorch weight [Cout, Cin/g, kd, kh, kw].
/// Input coordinate of tap (a,b,e) at output (z,y,x): (z*sd - pd + a*dd, y*sh - ph + b*dh, x*sw - pw + e*dw);
/// coordinates outside the input read as zero (this is how explicit, asymmetric and 'same' padding work).
typedef struct {
    int c;                 ///< input channels of this group
    int id, ih, iw;        ///< input depth, height, width
    int kd, kh, kw;        ///< kernel extent
    int sd, sh, sw;        ///< stride
    int pd, ph, pw;        ///< padding before (front, top, left)
    int dd, dh, dw;        ///< dilation
    int od, oh, ow;        ///< output depth, height, width
    /// Width stride 2: each input row is stored as its even columns followed by its odd ones
    /// (ck_split_even_odd), so every tap reads a contiguous run. Only ck_direct_rows_forward reads it.
    int split_even_odd;
} ck_conv_geom;

/// out[M × P'] (row stride ldc) = alpha · W[M × K] (row stride ldw) · im2col(x)[K × (p0..p1)] + beta · out,
/// where K = c·kd·kh·kw, without materializing the im2col matrix: patches are packed straight into the
/// GEMM's panel format. `x` points at channel 0 of the group; channels are id·ih·iw apart.
void ck_conv_gemm(const ck_conv_geom *g, int M, const float *W, ptrdiff_t ldw,
                  const float *x, int p0, int p1, float alpha, float beta, float *out, ptrdiff_t ldc);

/// Rearranges each of `rows` rows of width w (≤ 4096) in place into its even elements, then its odd ones.
void ck_split_even_odd(float *x, long rows, int w);

/// Direct forward convolution for first layers (small K = c·kh·kw, any number of filters M), writing
/// (not accumulating) output rows y0..y1-1 of out [M, oh, ow]: 2-D, pre-padded input, width dilation 1,
/// width stride 1, or 2 with split rows. AVX-512 only: call when ck_direct_rows_supported(g).
int ck_direct_rows_supported(const ck_conv_geom *g);
void ck_direct_rows_forward(const ck_conv_geom *g, int M, const float *W, const float *x, int y0, int y1, float *out);

/// Convolution with output channels in vector lanes for small maps (7 positions × 32 channels per
/// micro-tile): output channels [m0, m1) of out [M, oh, ow] = clamp(conv + bias + res, lo, hi) (bias, res may
/// be NULL). 2-D, pre-padded input, ow a multiple of 7, AVX-512: call when ck_conv_cl_supported(g).
int ck_conv_cl_supported(const ck_conv_geom *g);
void ck_conv_cl_forward(const ck_conv_geom *g, const float *W, const float *x, int m0, int m1, const float *bias,
                        const float *res, float lo, float hi, float *out);

/// Direct convolution for few filters (no im2col, no packing); the input must be pre-padded (g has zero
/// padding). Forward accumulates: out [M, od, oh, ow] += W [M, K] ⊛ x. Weight gradient accumulates:
/// dW [M, K] += dy [M, od, oh, ow] ⋆ x.
void ck_direct_conv_forward(const ck_conv_geom *g, int M, const float *W, const float *x, float *out);
void ck_direct_conv_dweight(const ck_conv_geom *g, int M, const float *dy, const float *x, float *dW);

/// Winograd F(2×2, 3×3) pieces for 3×3 stride-1 convolutions (ck_winograd.c):
/// weights w [M][C][3][3] → U [16][M][C] for filters m0..m1-1;
/// pre-padded input x [C][H][W] (H ≥ 2·tH + 2, W ≥ 2·tW + 2) → V [16][C][tH·tW] for channels c0..c1-1;
/// products Mx [16][M][tH·tW] → out [M][OH][OW] (+ bias) for filters m0..m1-1.
/// Planes of U, V and products are ck_winograd_plane(size of one plane) floats apart.
ptrdiff_t ck_winograd_plane(ptrdiff_t n);
void ck_winograd_weights(const float *w, int M, int C, int m0, int m1, float *U);
void ck_winograd_input(const float *x, int C, int H, int W, int tH, int tW, int c0, int c1, float *V);
void ck_winograd_output(const float *Mx, int M, int tH, int tW, int OH, int OW, int m0, int m1, const float *bias, float *out);

/// Writes im2col(x) rows 0..K-1, columns p0..p1-1 into col (row stride ldcol).
void ck_im2col(const ck_conv_geom *g, const float *x, int p0, int p1, float *col, ptrdiff_t ldcol);
/// Adds col (rows c0·kvol..c1·kvol-1, columns p0..p1-1, row stride ldcol) back into the input positions they
/// were read from, for input channels c0..c1-1 only (the adjoint of im2col; channels are independent, so
/// disjoint channel ranges can run in parallel).
void ck_col2im(const ck_conv_geom *g, const float *col, ptrdiff_t ldcol, int p0, int p1,
               int c0, int c1, float *x);

/// Depthwise (groups == channels, one filter per channel) direct convolution for channels c0..c1-1:
/// out[c] = sum over taps of w[c, a, b, e] · x[c, input coordinate] (+ bias[c] if bias != NULL).
/// g->c is ignored; x, w, out point at channel 0.
void ck_depthwise_forward(const ck_conv_geom *g, const float *x, const float *w, const float *bias,
                          int c0, int c1, float *out);
/// Whether ck_depthwise_rows_forward handles g (AVX-512 active, width stride 1 or 2, at most 64 taps).
int ck_depthwise_rows_supported(const ck_conv_geom *g);
/// Depthwise forward over the unpadded input (padding read as zeros through load masks) with the epilogue fused:
/// out[c] = clamp(conv(x[c], w[c]) + bias[c] + res[c], lo, hi) for channels c0..c1-1 (bias, res may be NULL;
/// res has out's layout). x, w, res, out point at channel 0.
void ck_depthwise_rows_forward(const ck_conv_geom *g, const float *x, const float *w, const float *bias,
                               const float *res, float lo, float hi, int c0, int c1, float *out);
/// Depthwise backward for channels c0..c1-1: dx += conv^T(dy, w) (if dx != NULL), dw += corr(x, dy) (if dw != NULL).
void ck_depthwise_backward(const ck_conv_geom *g, const float *x, const float *w, const float *dy,
                           int c0, int c1, float *dx, float *dw);

/// Pooling geometry uses ck_conv_geom with c = number of planes handled (channels × batch).
/// Max pooling over planes c0..c1-1: out = max over the window of valid input positions (padding never wins);
/// argmax (may be NULL) receives the flat index inside the plane of the winner, or -1 for an empty window.
void ck_maxpool_forward(const ck_conv_geom *g, const float *x, int c0, int c1, float *out, int32_t *argmax);
/// dx[argmax] += dy for planes c0..c1-1.
void ck_maxpool_backward(const ck_conv_geom *g, const float *dy, const int32_t *argmax, int c0, int c1, float *dx);
/// Average pooling; divisor = window size counting padding if count_include_pad, else valid positions only.
/// Windows are clipped to input + padding (ceil mode may run past both), as PyTorch does.
void ck_avgpool_forward(const ck_conv_geom *g, const float *x, int c0, int c1, int count_include_pad, float *out);
void ck_avgpool_backward(const ck_conv_geom *g, const float *dy, int c0, int c1, int count_include_pad, float *dx);

/// Zero-pads planes 0..planes-1 of x [planes, id, ih, iw] by (before, after) amounts per axis into
/// out [planes, id+pd0+pd1, ih+ph0+ph1, iw+pw0+pw1].
void ck_pad_planes(const float *x, int planes, int id, int ih, int iw, int pd0, int pd1, int ph0, int ph1,
                   int pw0, int pw1, float *out);

/// A per-thread scratch buffer of at least n floats (64-byte aligned), reused across calls on the same
/// thread. Slots 0 and 1 belong to the GEMM, 4 and 5 to the direct convolution; callers use slots 2 and 3. Valid until the next call with
/// the same slot on the same thread.
float *ck_scratch(int slot, size_t n);
/// Bytes of the last scratch allocation that failed since the previous call (SIZE_MAX when the size itself
/// overflowed), then 0: a kernel whose scratch could not be allocated returns without writing its output
/// instead of aborting, and callers turn this into an error.
size_t ck_take_allocation_failure(void);
/// Records a failed allocation made outside the C kernels (the Swift layer's own scratch requests).
void ck_record_allocation_failure(size_t bytes);

/// y[i] = max(x[i], 0) style helpers used in hot paths.
void ck_relu_forward(const float *x, float *y, size_t n);
void ck_relu_backward(const float *x, const float *dy, float *dx, size_t n);
/// y[i] += a · x[i]
void ck_axpy(size_t n, float a, const float *x, float *y);
/// y[r] = Σ_k W[r·ldw + k]·x[k] for r in [r0, r1) (batch-1 dense layers: the weights streamed as stored).
void ck_gemv_rows(const float *W, ptrdiff_t ldw, int K, const float *x, int r0, int r1, float *y);
/// y[i·ldy + r] = Σ_k x[i·ldx + k] · W[r·ldw + k] for inputs i < M (1…8) and rows r in [r0, r1): dense layers at
/// small batch, every weight row read once for all M inputs.
void ck_gemm_rows_small(const float *W, ptrdiff_t ldw, int K, const float *x, ptrdiff_t ldx, int M, int r0, int r1,
                        float *y, ptrdiff_t ldy);
/// The fused tail of an inference convolution, in place on rows × cols of y (row i = output channel i):
/// y[i][j] = clamp(y[i][j] + bias[i] + res[i][j], lo, hi). bias and res may be NULL.
void ck_conv_epilogue(float *y, int rows, int cols, ptrdiff_t ldy, const float *bias, const float *res, ptrdiff_t ldr,
                      float lo, float hi);

/// The blocked layout of inference plans (NCHW16c): a map [C, H, W] is stored as ⌈C/16⌉ blocks of [H][W][16],
/// channel 16·b + l of position (y, x) at ((b·H + y)·W + x)·16 + l; lanes past C hold zeros.
/// A convolution into the blocked layout reads a blocked input (16 channels a block, 1 apart, positions 16 apart)
/// or, for first layers, a plain NCHW input that carries its own zero padding (all channels in one block,
/// ih·iw apart, positions 1 apart).
typedef struct {
    int icb;          ///< channels per input block: 16 (blocked input) or the plain input's channel count
    int nib;          ///< input blocks (of this group)
    ptrdiff_t ics;    ///< elements between consecutive channels of a block: 1 blocked, ih·iw plain
    ptrdiff_t ps;     ///< elements between horizontally adjacent input positions: 16 blocked, 1 plain
    ptrdiff_t ibs;    ///< elements between input blocks: ih·iw·16 blocked
    int ih, iw, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow;
    int nob;          ///< output blocks (of this group): the weights' grouping depends on it
} ck_blocked_geom;

/// Output blocks [ob0, ob1) and rows [oy0, oy1) of out [ob][oh][ow][16] = clamp(conv(x, w) + bias + res, lo, hi).
/// Weights are packed in groups of 4 output blocks (the last group holds the rest): group q holds blocks
/// [4q, 4q + s) as [ib][kh][kw][c][s][16] (input block, tap, input channel, block of the group, 16 output channels)
/// and starts at 4q·nib·kh·kw·icb·16. bias [16·blocks] and res (out's layout) may be NULL. x, w, bias, res and out point at block 0. A plain input must carry its padding (ph = pw = 0).
void ck_blocked_conv(const ck_blocked_geom *g, const float *x, const float *w, const float *bias, const float *res,
                     float lo, float hi, int ob0, int ob1, int oy0, int oy1, float *out);
/// The most taps (kh·kw·channels) a plain input may have; ck_blocked_conv writes nothing beyond it.
int ck_blocked_plain_taps_max(void);

/// The weight gradient of a convolution (2-D as depth 1, or 3-D; groups 1) in the blocked layout, for one image.
/// x: the input with all its padding, depth-major and blocked, [dp][cb][hp][wp][16] (lanes past C zero);
/// dy: ∂L/∂y blocked per output depth, [od][ob][oh][ow][16]; output rows r = z·oh + y in [r0, r1).
/// Accumulates into dw tiles [ob][cb][kd][kh][kw][16 input channels][16 output channels]:
/// dw[o][b][k][i][j][c][l] += Σ_{z,y,x} dy[z][o][y][x][l] · x[z·sd + k·dd][b][y·sh + i·dh][x·sw + j·dw][c].
typedef struct {
    int kd, kh, kw, sd, sh, sw, dd, dh, dw;
    int od, oh, ow;
    int cb, ob;           ///< input and output blocks
    ptrdiff_t xslice;     ///< elements between input depth slices: cb·hp·wp·16
    ptrdiff_t xblock;     ///< elements between input blocks: hp·wp·16
    ptrdiff_t xrow;       ///< elements between input rows: wp·16
} ck_dweight_geom;
void ck_blocked_dweight(const ck_dweight_geom *g, const float *x, const float *dy, int r0, int r1, float *dw);

/// Depthwise convolution (one filter per channel) in the blocked layout, blocks [b0, b1) and rows [oy0, oy1):
/// out[b] = clamp(Σ_taps w[b][kh][kw][16] · x[b][tap] + bias[b] + res[b], lo, hi); w [blocks][kh][kw][16], bias and
/// res may be NULL; x, w, bias, res and out point at block 0 (g->icb, nib, ics, ps, ibs are not read).
void ck_blocked_depthwise(const ck_blocked_geom *g, const float *x, const float *w, const float *bias, const float *res,
                          float lo, float hi, int b0, int b1, int oy0, int oy1, float *out);
/// Pooling in the blocked layout over blocks [b0, b1), rows [oy0, oy1): mode 0 max (NaN propagates, padding never
/// wins, an empty window gives −FLT_MAX), 1 average counting the padding, 2 average over the valid positions —
/// the windows of ck_maxpool_forward / ck_avgpool_forward.
void ck_blocked_pool(int mode, const ck_blocked_geom *g, const float *x, int b0, int b1, int oy0, int oy1, float *out);
/// out[b][0..16) = mean over the P positions of x[b][P][16], for blocks [b0, b1).
void ck_blocked_global_average(const float *x, ptrdiff_t P, int b0, int b1, float *out);
/// out[i] = clamp(a[i] + b[i], lo, hi) for the 16·n floats of n vectors (b NULL: clamp(a[i], lo, hi); out may be a).
void ck_blocked_add(const float *a, const float *b, float lo, float hi, ptrdiff_t n, float *out);
/// Blocked products: same shapes (per_vector 0, n vectors), or a per-block vector scale — a holds n vectors in
/// runs of per_vector positions, b one vector per run: out = a ⊙ b[run].
void ck_blocked_mul(const float *a, const float *b, ptrdiff_t n, ptrdiff_t per_vector, float *out);

/// Winograd F(m×m, 3×3), m = 2 or 4 (tiles t = m + 2), in the blocked layout, for one image. Input transform:
/// V[ξ][cb][tile][16] = Bᵀ·d·B for blocks [cb0, cb1), d the t×t window of tile (ty, tx) at rows ty·m − ph… and columns
/// tx·m − pw… of x [blocks][ih][iw][16] (zeros outside); ξ = i·t + j planes are vstride floats apart, tiles tH × tW.
void ck_winograd_blocked_input(int m, const ck_blocked_geom *g, const float *x, int cb0, int cb1, int tH, int tW,
                               ptrdiff_t vstride, float *V);
/// Output transform: out[ob][oy][ox][16] = clamp(Aᵀ·M·A + bias + res, lo, hi) for blocks [ob0, ob1), from the
/// products M[ξ][ob][tile][16] (planes mstride floats apart); edge tiles clipped to oh × ow. bias, res may be NULL.
void ck_winograd_blocked_output(int m, const float *M, ptrdiff_t mstride, int ob0, int ob1, int tH, int tW, int oh, int ow,
                                const float *bias, const float *res, float lo, float hi, float *out);

/// Blocks [b0, b1) of the blocked layout out [⌈C/16⌉][P][16] from the plain x [C][P] (lanes past C zero), and
/// the inverse: channels of blocks [b0, b1) of out [C][P] from x [⌈C/16⌉][P][16]. P = positions of a plane.
void ck_to_blocked(const float *x, int C, ptrdiff_t P, int b0, int b1, float *out);
void ck_from_blocked(const float *x, int C, ptrdiff_t P, int b0, int b1, float *out);
/// The same with strides: channel c of x at x + c·cs (P positions), block b of out at out + b·bs ([P][16]); and back.
/// Slices of volumes ([C][D][H·W]: cs = D·H·W) and padded rows (bs = a block's whole padded plane).
void ck_to_blocked_strided(const float *x, int C, ptrdiff_t cs, ptrdiff_t P, int b0, int b1, float *out, ptrdiff_t bs);
void ck_from_blocked_strided(const float *x, ptrdiff_t bs, int C, ptrdiff_t P, int b0, int b1, float *out, ptrdiff_t cs);

/// A task of a parallel loop: runs iteration i with the caller's context.
typedef void (*ck_task_fn)(void *ctx, long i);
/// Runs fn(ctx, i) for i in 0..<count on the calling thread and up to threads − 1 persistent workers;
/// returns when all are done. Returns 0 without running anything when the pool is busy (a loop on another
/// thread, or a nested loop from inside a task): the caller then runs the loop some other way.
int ck_parallel_run(long count, int threads, ck_task_fn fn, void *ctx);
/// Rows r0..<r1 of the IoU matrix out[n][m] of boxes a (xyxy, row-major [n,4]) against m boxes given as planes
/// x1, y1, x2, y2 and area = (x2 − x1)(y2 − y1); torchvision's box_iou arithmetic (IoU = inter / (a + b − inter)).
void ck_box_iou_rows(const float *a, int r0, int r1, const float *bx1, const float *by1, const float *bx2,
                     const float *by2, const float *barea, int m, float *out);
/// Greedy non-max suppression of n boxes already in priority order (planes x1, y1, x2, y2, area): keep[i] = 1
/// unless a kept box before i has IoU > thr with it (torchvision's nms arithmetic). A spatial grid of kept boxes
/// makes sparse scenes O(n); thresholds < 0 or non-finite coordinates use the O(n²) definition.
/// Returns 0, or −1 when memory ran out (keep is then undefined).
int ck_nms_sorted(const float *x1, const float *y1, const float *x2, const float *y2, const float *area, int n,
                  double thr, uint8_t *keep);
/// A process-wide counter (atomic): a fresh value each call, never 0. Versions of parameters and buffers.
uint64_t ck_next_version(void);
/// The calling thread's `withoutGradients` depth, and a change of it.
int ck_no_grad_depth(void);
void ck_no_grad_adjust(int delta);

#ifdef __cplusplus
}
#endif
#endif
