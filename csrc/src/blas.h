// The CPU GEMM the planner runs on: a thin row-major wrapper over the linked CBLAS
// (OpenBLAS from scipy-openblas32 by default), so no other file names a BLAS symbol.
#pragma once

#include "mbrlhpo/export.h"

namespace mbrlhpo::blas {

// C (m x n) = alpha * op(A) (m x k) * op(B) (k x n) + beta * C, all row-major.
MBRLHPO_API void Sgemm(bool transpose_a, bool transpose_b, int m, int n, int k, float alpha,
                       const float* a, int lda, const float* b, int ldb, float beta, float* c,
                       int ldc);

// Threads the BLAS itself uses for one call. The core's own pools call Sgemm from several
// threads with this set to 1.
void SetNumThreads(int num_threads);
int NumThreads();

// The BLAS's description of itself (library, kernel, threading).
const char* Config();

}  // namespace mbrlhpo::blas
