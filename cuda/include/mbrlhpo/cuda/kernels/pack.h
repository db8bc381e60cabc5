// Kernel body PackWeights: the weights of every TF32 member, copied once per plan into the
// layout Tf32Mma reads (kernels/gemm.h Tf32Packed: tf32 bits in B-fragment order, zero-padded to
// whole tiles), so the rollout's k-loop loads each B fragment with one 64-bit load and neither
// converts nor tests bounds. The model is read at every plan (training updates it in place);
// the cost is one pass over the weights, against the rollout's population x particles x horizon
// x iterations passes. Grid: num_members x max_layers x max_ensemble x blocks_per_matrix blocks
// of kPackThreads threads, one packed word per thread. No shared memory.
#pragma once

#include "mbrlhpo/cuda/kernels/common.h"
#include "mbrlhpo/cuda/kernels/gemm.h"
#include "mbrlhpo/cuda/simt.h"

namespace mbrlhpo::cuda::kernels {

template <class Ctx>
MBRLHPO_HOST_DEVICE void PackWeights(Ctx& c, const MemberArgs* members, int num_members,
                                     int max_layers, int max_ensemble, int blocks_per_matrix) {
  int b = c.bid();
  const int chunk = b % blocks_per_matrix;
  b /= blocks_per_matrix;
  const int e = b % max_ensemble;
  b /= max_ensemble;
  const int l = b % max_layers, member = b / max_layers;
  if (member >= num_members) return;
  const MemberArgs& m = members[member];
  if (m.gemm != static_cast<int32_t>(Gemm::kTf32) || l >= m.num_layers || e >= m.ensemble_size) {
    return;
  }
  const int k = m.layer_sizes[l], n = m.layer_sizes[l + 1];
  const size_t words = Tf32Packed::Words(k, n);
  const size_t word = static_cast<size_t>(chunk) * c.nthreads() + c.tid();
  if (word >= words) return;
  const float* w = m.weights[l] + static_cast<int64_t>(e) * k * n;
  m.packed_weights[l][e * words + word] =
      simt::Tf32Value(c.tf32(Tf32Packed::Source(w, k, n, word)));
}

}  // namespace mbrlhpo::cuda::kernels
