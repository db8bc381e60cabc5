// BF16 GEMM for the CPU planner's hidden layers (AVX512_BF16, fp32 accumulate).
//
// C (rows x n, fp32) = A (rows x k, bf16) * B (k x n, bf16 packed). Products of BF16 values are
// exact in fp32, so the result equals an fp32 GEMM on BF16-rounded inputs up to the summation
// order. Only available on CPUs with AVX512_BF16 (checked at run time: Supported()).
#pragma once

#include <cstdint>
#include <vector>

#include "mbrlhpo/export.h"

namespace mbrlhpo::bf16 {

// True when this CPU runs the kernels (avx512f, avx512bw, avx512vl, avx512bf16).
MBRLHPO_API bool Supported();
// Throws mbrlhpo::Error naming the missing feature when !Supported().
MBRLHPO_API void RequireSupported();

// Round-to-nearest-even float -> bf16 bits (NaN stays NaN).
MBRLHPO_API uint16_t FromFloat(float x);
MBRLHPO_API float ToFloat(uint16_t b);

// Row stride (in uint16) of a bf16 activation matrix with k columns: k rounded up to even.
inline int PaddedK(int k) { return (k + 1) & ~1; }

// B packed for the kernel: weight w (k x n, row-major fp32) in column panels of 16..64
// columns; within a panel, for each pair of rows (2p, 2p+1) and column j the two bf16 values
// are adjacent (one 32-bit word), zero-padded to even k and to a multiple of 16 columns.
struct PackedB {
  int k = 0, n = 0;
  std::vector<uint32_t> data;
};
MBRLHPO_API void PackB(const float* w, int k, int n, PackedB* out);

// a: rows x k bf16 with row stride lda (>= PaddedK(k), the pad column zero when k is odd);
// c: rows x b.n fp32 with row stride ldc. Requires Supported().
MBRLHPO_API void Gemm(int rows, const uint16_t* a, int lda, const PackedB& b, float* c, int ldc);

// Fused epilogues: c = swish(A B + bias) stored as fp32 (stride ldc) or as bf16 (stride ldc >=
// PaddedK(n), the pad column zeroed): the next BF16 layer's input, no separate pass.
void GemmSwish(int rows, const uint16_t* a, int lda, const PackedB& b, const float* bias, float* c,
               int ldc);
void GemmSwishBf16(int rows, const uint16_t* a, int lda, const PackedB& b, const float* bias,
                   uint16_t* c, int ldc);

// dst (rows x PaddedK(cols) bf16) <- src (rows x cols fp32, stride cols), pad column zeroed.
MBRLHPO_API void ConvertRows(const float* src, int rows, int cols, uint16_t* dst);

}  // namespace mbrlhpo::bf16
