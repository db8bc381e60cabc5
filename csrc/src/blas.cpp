#include "blas.h"

#include <cblas.h>

// scipy-openblas32 prefixes every symbol so it can sit beside another BLAS in one process.
#if defined(MBRLHPO_BLAS_SCIPY_OPENBLAS)
#define MBRLHPO_CBLAS(name) scipy_cblas_##name
#define MBRLHPO_OPENBLAS(name) scipy_openblas_##name
#else
#define MBRLHPO_CBLAS(name) cblas_##name
#endif

namespace mbrlhpo::blas {

void Sgemm(bool transpose_a, bool transpose_b, int m, int n, int k, float alpha, const float* a,
           int lda, const float* b, int ldb, float beta, float* c, int ldc) {
  MBRLHPO_CBLAS(sgemm)(CblasRowMajor, transpose_a ? CblasTrans : CblasNoTrans,
                       transpose_b ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b, ldb,
                       beta, c, ldc);
}

#if defined(MBRLHPO_BLAS_SCIPY_OPENBLAS)
void SetNumThreads(int num_threads) { MBRLHPO_OPENBLAS(set_num_threads)(num_threads); }
int NumThreads() { return MBRLHPO_OPENBLAS(get_num_threads)(); }
const char* Config() { return MBRLHPO_OPENBLAS(get_config)(); }
#else
void SetNumThreads(int) {}
int NumThreads() { return 1; }
const char* Config() { return "generic CBLAS"; }
#endif

}  // namespace mbrlhpo::blas
