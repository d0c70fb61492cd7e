// A 16-lane float vector written once for every instruction set with clang's vector extensions: AVX-512 keeps
// one in a zmm register, AVX2 in two ymm, portable C in four xmm. The kernels of the blocked layout (NCHW16c:
// 16 channels in the lanes) are written against it, the way ggml writes its kernels against a small vector
// abstraction, and instantiated per ISA with CK_INSTANTIATE.
#ifndef CK_VEC16_H
#define CK_VEC16_H
#include <stddef.h>
// The helpers are always inlined into ISA-attributed functions, so the vector ABI of a non-AVX-512 caller never
// applies to them.
#pragma clang diagnostic ignored "-Wpsabi"

typedef float ck_v16 __attribute__((vector_size(64)));
typedef float ck_v16u __attribute__((vector_size(64), aligned(4)));
typedef int ck_i16 __attribute__((vector_size(64)));

#define CK_V16_INLINE static inline __attribute__((always_inline))

CK_V16_INLINE ck_v16 v16_load(const float *p) { return *(const ck_v16u *)p; }
CK_V16_INLINE void v16_store(float *p, ck_v16 v) { *(ck_v16u *)p = v; }
/// Every lane = s (a broadcast load when s comes from memory).
CK_V16_INLINE ck_v16 v16_splat(float s) { return (ck_v16){s, s, s, s, s, s, s, s, s, s, s, s, s, s, s, s}; }
CK_V16_INLINE ck_v16 v16_zero(void) { return v16_splat(0.0f); }
/// Lanes of a where mask is all ones, of b where it is zero.
CK_V16_INLINE ck_v16 v16_select(ck_i16 mask, ck_v16 a, ck_v16 b) {
    return (ck_v16)(((ck_i16)a & mask) | ((ck_i16)b & ~mask));
}
/// a < b ? b : a per lane (NaN in a stays NaN), and a > b ? b : a.
CK_V16_INLINE ck_v16 v16_max(ck_v16 a, ck_v16 b) { return v16_select(a < b, b, a); }
CK_V16_INLINE ck_v16 v16_min(ck_v16 a, ck_v16 b) { return v16_select(a > b, b, a); }
/// v < lo ? lo : (v > hi ? hi : v), the scalar epilogue's clamp (NaN passes through).
CK_V16_INLINE ck_v16 v16_clamp(ck_v16 v, ck_v16 lo, ck_v16 hi) { return v16_min(v16_max(v, lo), hi); }

/// The same 16-float zero block every kernel points taps outside the input at.
extern const float ck_zero_block[16];

#endif
