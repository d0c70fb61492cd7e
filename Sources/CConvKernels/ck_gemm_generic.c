// Portable GEMM: a 4×16 micro-tile in plain C that compilers vectorize for the baseline ISA.
#include "ck_internal.h"

#define CK_MR 4
#define CK_NR 16
#define CK_FN(name) name##_generic

static void ukr_generic(int kc, const float *a, const float *b, float *c, ptrdiff_t ldc, float beta) {
    float acc[CK_MR][CK_NR] = {{0}};
    for (int k = 0; k < kc; k++)
        for (int i = 0; i < CK_MR; i++)
            for (int j = 0; j < CK_NR; j++) acc[i][j] += a[k * CK_MR + i] * b[k * CK_NR + j];
    for (int i = 0; i < CK_MR; i++)
        for (int j = 0; j < CK_NR; j++)
            c[i * ldc + j] = beta == 0.0f ? acc[i][j] : acc[i][j] + beta * c[i * ldc + j];
}

#include "ck_gemm_driver.h"
