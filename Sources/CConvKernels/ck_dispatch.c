#include <stdatomic.h>
#include <stdint.h>
// Run-time choice of the kernel family, and the per-thread scratch buffers.
#include "ck_internal.h"

static int g_isa = -1;   // resolved on first use; benign race: every thread computes the same value

static ck_isa detect(void) {
#if CK_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq"))
        return CK_ISA_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return CK_ISA_AVX2;
#endif
    return CK_ISA_GENERIC;
}

ck_isa ck_active_isa(void) {
    if (g_isa < 0) g_isa = (int)detect();
    return (ck_isa)g_isa;
}

void ck_force_isa(ck_isa isa) {
    ck_isa best = detect();
    g_isa = (int)(isa > best ? best : isa);
}

int ck_gemm_nr(void) {
    switch (ck_active_isa()) {
    case CK_ISA_AVX512: return 32;
    case CK_ISA_AVX2: return 16;
    default: return 16;
    }
}

void ck_sgemm(int M, int N, int K, float alpha, const float *A, ptrdiff_t rsa, ptrdiff_t csa,
              const float *B, ptrdiff_t rsb, ptrdiff_t csb, float beta, float *C, ptrdiff_t ldc) {
    CK_PICK(ck_sgemm, M, N, K, alpha, A, rsa, csa, B, rsb, csb, beta, C, ldc)
}

void ck_conv_gemm(const ck_conv_geom *g, int M, const float *W, ptrdiff_t ldw, const float *x,
                  int p0, int p1, float alpha, float beta, float *out, ptrdiff_t ldc) {
    CK_PICK(ck_conv_gemm, g, M, W, ldw, x, p0, p1, alpha, beta, out, ldc)
}

#define CK_SLOTS 6
static _Thread_local float *tl_buf[CK_SLOTS];
static _Thread_local size_t tl_cap[CK_SLOTS];

static _Atomic size_t g_failed_bytes;

float *ck_workspace(int slot, size_t nfloats) {
    if (tl_cap[slot] < nfloats) {
        free(tl_buf[slot]);
        tl_buf[slot] = NULL;
        tl_cap[slot] = 0;
        size_t bytes = nfloats > (SIZE_MAX - 63) / sizeof(float) ? 0 : (nfloats * sizeof(float) + 63) & ~(size_t)63;
        float *p = bytes ? aligned_alloc(64, bytes) : NULL;
        if (!p) {
            // Out of memory: no abort(). The kernel returns without writing and the failure is recorded for
            // ck_take_allocation_failure, which the Swift layer turns into an error.
            atomic_store(&g_failed_bytes, bytes ? bytes : SIZE_MAX);
            return NULL;
        }
        tl_buf[slot] = p;
        tl_cap[slot] = nfloats;
    }
    return tl_buf[slot];
}

size_t ck_take_allocation_failure(void) { return atomic_exchange(&g_failed_bytes, 0); }

void ck_record_allocation_failure(size_t bytes) { atomic_store(&g_failed_bytes, bytes ? bytes : SIZE_MAX); }

float *ck_scratch(int slot, size_t n) { return ck_workspace(slot, n); }

#if defined(__linux__) && defined(__GLIBC__)
#include <malloc.h>
/// Tensors are large and short-lived: with glibc's defaults every activation buffer above the mmap
/// threshold is a fresh mmap whose pages fault in on first touch (measured: ~15 % of a conv forward).
/// Keeping such blocks in the heap lets them be reused. Set once when the library loads.
__attribute__((constructor)) static void ck_configure_allocator(void) {
    mallopt(M_MMAP_THRESHOLD, 256 << 20);
    mallopt(M_TRIM_THRESHOLD, 512 << 20);
}
#endif
