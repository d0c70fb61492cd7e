// Declarations shared by the kernel files; not part of the public header.
#ifndef CK_INTERNAL_H
#define CK_INTERNAL_H
#include "include/ck_kernels.h"

/// The x86-64 kernels (AVX2, AVX-512) are compiled on x86-64 hosts; elsewhere only portable C.
/// -DCK_PORTABLE_ONLY builds the portable path alone on any host (used to check it compiles).
#if defined(__x86_64__) && !defined(CK_PORTABLE_ONLY)
#define CK_X86 1
#else
#define CK_X86 0
#endif
#include <string.h>
#include <stdlib.h>

/// A per-thread scratch buffer (64-byte aligned) of at least `nfloats`, reused across calls; `slot`
/// distinguishes buffers that are live at the same time. Never freed: worker threads are persistent.
float *ck_workspace(int slot, size_t nfloats);

/// Calls name_avx512 / name_avx2 / name_generic(args…) for the active ISA and returns from the caller.
#if CK_X86
#define CK_PICK(name, ...)                                                              \
    switch (ck_active_isa()) {                                                          \
    case CK_ISA_AVX512: name##_avx512(__VA_ARGS__); return;                             \
    case CK_ISA_AVX2: name##_avx2(__VA_ARGS__); return;                                 \
    default: name##_generic(__VA_ARGS__); return;                                       \
    }
#else
#define CK_PICK(name, ...) { name##_generic(__VA_ARGS__); return; }
#endif

/// Target attributes of the x86-64 kernel families (AVX-512 implies the AVX2 subset the bodies may use).
#define CK_TARGET_AVX2 __attribute__((target("avx2,fma")))
#define CK_TARGET_AVX512 __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")))

/// Instantiates VARIANT(suffix, attribute) once per kernel family this build has: a file writes its bodies
/// once (always_inline) and its wrappers in one macro, then `CK_INSTANTIATE(ITS_VARIANT)`.
#if CK_X86
#define CK_INSTANTIATE(VARIANT) VARIANT(generic, ) VARIANT(avx2, CK_TARGET_AVX2) VARIANT(avx512, CK_TARGET_AVX512)
#else
#define CK_INSTANTIATE(VARIANT) VARIANT(generic, )
#endif

#define CK_DECLARE_ISA(sfx) \
    void ck_sgemm_##sfx(int, int, int, float, const float *, ptrdiff_t, ptrdiff_t, const float *, ptrdiff_t, \
                        ptrdiff_t, float, float *, ptrdiff_t); \
    void ck_conv_gemm_##sfx(const ck_conv_geom *, int, const float *, ptrdiff_t, const float *, int, int, \
                            float, float, float *, ptrdiff_t);
CK_DECLARE_ISA(generic)
#if CK_X86
CK_DECLARE_ISA(avx2)
CK_DECLARE_ISA(avx512)
#endif
#endif
