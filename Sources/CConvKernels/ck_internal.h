// Declarations shared by the kernel files; not part of the public header.
#ifndef CK_INTERNAL_H
#define CK_INTERNAL_H
#include "include/ck_kernels.h"
#include <string.h>
#include <stdlib.h>

/// A per-thread scratch buffer (64-byte aligned) of at least `nfloats`, reused across calls; `slot`
/// distinguishes buffers that are live at the same time. Never freed: worker threads are persistent.
float *ck_workspace(int slot, size_t nfloats);

#define CK_DECLARE_ISA(sfx) \
    void ck_sgemm_##sfx(int, int, int, float, const float *, ptrdiff_t, ptrdiff_t, const float *, ptrdiff_t, \
                        ptrdiff_t, float, float *, ptrdiff_t); \
    void ck_conv_gemm_##sfx(const ck_conv_geom *, int, const float *, ptrdiff_t, const float *, int, int, \
                            float, float, float *, ptrdiff_t);
CK_DECLARE_ISA(generic)
#if defined(__x86_64__)
CK_DECLARE_ISA(avx2)
CK_DECLARE_ISA(avx512)
#endif
#endif
