// Kernel body RefitAndSample: one block per member (kRefitThreads threads).
//   1. returns[n] = (sum over e, then j of row_returns) / P, -inf where not finite: one thread per
//      candidate, the CPU planner's summation order (bit-identical).
//   2. elites: a bitonic sort of (return, index) in shared memory into the CPU planner's order
//      (larger first, ties: lower index first); padding sorts last. elites = the first K.
//   3. mean/var: elite moments summed sequentially in elite order by one thread per (h, a),
//      alpha blend (planner_math::RefitElement, as the CPU planner).
//   4. traces (when non-null), then the next iteration's candidates (when there is one).
// Shared memory: RefitSmemBytes(max population).
#pragma once

#include "mbrlhpo/cuda/kernels/common.h"
#include "mbrlhpo/cuda/kernels/sample.h"
#include "mbrlhpo/planner_math.h"

namespace mbrlhpo::cuda::kernels {

// Entries of the sort: the next power of two >= population (at least 2).
MBRLHPO_HOST_DEVICE inline int SortSize(int population) {
  int s = 2;
  while (s < population) s <<= 1;
  return s;
}

MBRLHPO_HOST_DEVICE inline size_t RefitSmemBytes(int max_population) {
  return static_cast<size_t>(SortSize(max_population)) * (sizeof(float) + sizeof(int32_t));
}

// Bitonic sort of sort_size (a power of two) (return, index) pairs in shared memory into the
// CPU planner's elite order (planner_math::RanksBefore: larger return first, ties: lower index
// first); each compare-exchange pair is one thread's. Starts after and ends with a barrier. Also
// gpu_check's top-K conformance probe (cuda/gpu_check/conformance.h).
template <class Ctx>
MBRLHPO_HOST_DEVICE void SortElites(Ctx& c, float* key, int32_t* idx, int sort_size) {
  for (int size = 2; size <= sort_size; size <<= 1) {
    for (int stride = size / 2; stride > 0; stride >>= 1) {
      for (int i = c.tid(); i < sort_size; i += c.nthreads()) {
        const int j = i ^ stride;
        if (j <= i) continue;
        const float ki = c.lds(&key[i]), kj = c.lds(&key[j]);
        const int32_t ii = c.lds(&idx[i]), ij = c.lds(&idx[j]);
        const bool swap = (i & size) == 0 ? planner_math::RanksBefore(kj, ij, ki, ii)
                                          : planner_math::RanksBefore(ki, ii, kj, ij);
        if (swap) {
          c.sts(&key[i], kj);
          c.sts(&key[j], ki);
          c.sts(&idx[i], ij);
          c.sts(&idx[j], ii);
        }
      }
      c.sync();
    }
  }
}

template <class Ctx>
MBRLHPO_HOST_DEVICE void RefitAndSample(Ctx& c, const MemberArgs* members, int num_members,
                                        int sort_size, int iteration) {
  const int member = c.bid();
  if (member >= num_members) return;
  const MemberArgs& m = members[member];
  if (iteration >= m.iterations) return;
  const int num = m.population, ens = m.ensemble_size, per = m.particles / ens;
  const int k_el = m.num_elites, ha = m.horizon * m.act_dim;
  float* key = c.template smem<float>();
  int32_t* idx = reinterpret_cast<int32_t*>(key + sort_size);
  // 1. mean over particles
  for (int i = c.tid(); i < sort_size; i += c.nthreads()) {
    float v = -INFINITY;
    if (i < num) {
      float sum = 0.0f;
      for (int e = 0; e < ens; ++e) {
        const float* r = m.row_returns + (static_cast<int64_t>(e) * num + i) * per;
        for (int j = 0; j < per; ++j) sum = planner_math::AddRn(sum, r[j]);
      }
      v = planner_math::FiniteOrNegInf(sum / static_cast<float>(m.particles));
      m.returns[i] = v;
      if (m.trace_returns) m.trace_returns[static_cast<int64_t>(iteration) * num + i] = v;
    }
    c.sts(&key[i], v);
    c.sts(&idx[i], static_cast<int32_t>(i));  // padding: -inf and an index >= num, so last
  }
  c.sync();
  // 2. elite order
  SortElites(c, key, idx, sort_size);
  for (int i = c.tid(); i < k_el; i += c.nthreads()) {
    const int32_t e = c.lds(&idx[i]);
    m.elites[i] = e;
    if (m.trace_elites) m.trace_elites[static_cast<int64_t>(iteration) * k_el + i] = e;
  }
  c.sync();  // elites (global) visible to the block
  // 3. refit
  for (int q = c.tid(); q < ha; q += c.nthreads()) {
    float mean = m.mean[q], var = m.var[q];
    planner_math::RefitElement(m.candidates, m.elites, k_el, ha, q, m.alpha, &mean, &var);
    m.mean[q] = mean;
    m.var[q] = var;
    if (m.trace_means) m.trace_means[static_cast<int64_t>(iteration) * ha + q] = mean;
    if (m.trace_vars) m.trace_vars[static_cast<int64_t>(iteration) * ha + q] = var;
  }
  if (iteration + 1 >= m.iterations) return;
  c.sync();  // mean/var written, elite candidates read: the candidates may be overwritten
  // 4. the next iteration's candidates
  for (int i = c.tid(); i < num * ha; i += c.nthreads()) {
    const int k = i % ha;
    m.candidates[i] = CandidateElement(m, iteration + 1, i, m.mean[k], m.var[k]);
  }
}

}  // namespace mbrlhpo::cuda::kernels
