// Kernel body SampleCandidates: the candidates of one iteration, one element per thread, exactly
// the CPU planner's formula (planner_math::SampleAction on the counter RNG's stream 0).
// Grid: num_members x blocks_per_member blocks of kSampleThreads; block b of member i covers
// elements [b, b + 1) x kSampleThreads of that member's N x H x A. No shared memory.
#pragma once

#include "mbrlhpo/cuda/kernels/common.h"
#include "mbrlhpo/planner_math.h"
#include "mbrlhpo/rng.h"

namespace mbrlhpo::cuda::kernels {

// Element `idx` (n * H * A + k) of member m's candidates of iteration `it`, from the CEM state
// (mean, var) of element k.
MBRLHPO_HOST_DEVICE inline float CandidateElement(const MemberArgs& m, int it, int idx, float mean,
                                                  float var) {
  const int ha = m.horizon * m.act_dim;
  const int n = idx / ha, k = idx % ha, a = k % m.act_dim;
  const uint32_t prefix =
      rng::PrefixKey(m.seed, rng::kStreamActions, m.step, static_cast<uint32_t>(it));
  return planner_math::SampleAction(mean, var, m.action_low[a], m.action_high[a],
                                    planner_math::SampleUniform(prefix, n, k));
}

// Iteration 0 also sets var = (high - low)^2 / 16 (from the bounds: no block reads what another
// writes); later iterations read var. `mean` always comes from the member's buffer.
template <class Ctx>
MBRLHPO_HOST_DEVICE void SampleCandidates(Ctx& c, const MemberArgs* members, int num_members,
                                          int blocks_per_member, int iteration) {
  const int member = c.bid() / blocks_per_member;
  if (member >= num_members) return;
  const MemberArgs& m = members[member];
  if (iteration >= m.iterations) return;
  const int ha = m.horizon * m.act_dim;
  const int idx = (c.bid() % blocks_per_member) * c.nthreads() + c.tid();
  if (idx >= m.population * ha) return;
  const int k = idx % ha;
  float var;
  if (iteration == 0) {
    const int a = k % m.act_dim;
    var = planner_math::InitialVariance(m.action_low[a], m.action_high[a]);
    if (idx < ha) m.var[k] = var;
  } else {
    var = m.var[k];
  }
  m.candidates[idx] = CandidateElement(m, iteration, idx, m.mean[k], var);
}

}  // namespace mbrlhpo::cuda::kernels
