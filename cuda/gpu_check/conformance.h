// Conformance probes for gpu_check: tiny kernel bodies (templates over the SIMT context) that
// exercise each primitive the emulator models, so the same body run on the GPU (DeviceCtx) and
// on the emulator (HostCtx) shows whether the emulator matches the hardware: cvt.rna.tf32
// rounding, the mma.sync m16n8k8 fragment layout, the shfl_xor butterfly, and the device math
// the kernels use (expf in swish and the log-variance bounds, the TF32 rollout's fast swish of
// MUFU ex2 and rcp, the double ErfInv of the truncated normal), and the elite top-K (the refit
// kernel's bitonic sort in shared memory, with its barriers). One warp (32 threads) per block,
// except top-K (the refit kernel's block size); global memory in, global memory out.
#pragma once

#include <cstdint>

#include "mbrlhpo/cuda/kernels/refit.h"
#include "mbrlhpo/cuda/plan_kernels.h"
#include "mbrlhpo/host_device.h"
#include "mbrlhpo/planner_math.h"
#include "mbrlhpo/rng.h"

namespace mbrlhpo::cuda::probes {

inline constexpr int kWarp = 32;

// out[i] = tf32 bits of in[i]; block b covers [32 b, 32 b + 32).
template <class Ctx>
MBRLHPO_HOST_DEVICE void Tf32Body(Ctx& c, const float* in, uint32_t* out, int n) {
  const int i = c.bid() * kWarp + c.tid();
  if (i < n) out[i] = c.tf32(in[i]);
}

// One m16n8k8 product per block (trial): D = A (16 x 8, row-major) B (8 x 8, row-major k x n)
// + C (16 x 8), fragments loaded by the PTX ISA layout (g = lane / 4, q = lane % 4):
// a = {A[g][q], A[g+8][q], A[g][q+4], A[g+8][q+4]}, b = {B[q][g], B[q+4][g]},
// c/d = {C[g][2q], C[g][2q+1], C[g+8][2q], C[g+8][2q+1]}.
template <class Ctx>
MBRLHPO_HOST_DEVICE void MmaBody(Ctx& c, const float* a, const float* b, const float* cin,
                                 float* d) {
  const int t = c.bid(), lane = c.tid(), g = lane >> 2, q = lane & 3;
  const float* at = a + t * 128;
  const float* bt = b + t * 64;
  const float* ct = cin + t * 128;
  float* dt = d + t * 128;
  const uint32_t af[4] = {c.tf32(at[g * 8 + q]), c.tf32(at[(g + 8) * 8 + q]),
                          c.tf32(at[g * 8 + q + 4]), c.tf32(at[(g + 8) * 8 + q + 4])};
  const uint32_t bf[2] = {c.tf32(bt[q * 8 + g]), c.tf32(bt[(q + 4) * 8 + g])};
  float acc[4] = {ct[g * 8 + 2 * q], ct[g * 8 + 2 * q + 1], ct[(g + 8) * 8 + 2 * q],
                  ct[(g + 8) * 8 + 2 * q + 1]};
  c.mma_tf32(acc, af, bf);
  dt[g * 8 + 2 * q] = acc[0];
  dt[g * 8 + 2 * q + 1] = acc[1];
  dt[(g + 8) * 8 + 2 * q] = acc[2];
  dt[(g + 8) * 8 + 2 * q + 1] = acc[3];
}

// Butterfly sum over the warp with shfl_xor (masks 16 .. 1), each lane's partial after every
// stage recorded: out[(b * 5 + s) * 32 + lane].
template <class Ctx>
MBRLHPO_HOST_DEVICE void ShflBody(Ctx& c, const float* in, float* out) {
  const int b = c.bid(), lane = c.tid();
  float v = in[b * kWarp + lane];
  int s = 0;
  for (int mask = 16; mask >= 1; mask >>= 1, ++s) {
    v += c.shfl_xor(v, mask);
    out[(b * 5 + s) * kWarp + lane] = v;
  }
}

// The device math of the kernels: exp, swish, the fast swish (TF32 only; its MUFU bits are not
// the emulator's, so gpu_check holds it to a tolerance, not to equality), softplus (float) and
// the truncated normal from a uniform (double ErfInv), per element.
template <class Ctx>
MBRLHPO_HOST_DEVICE void MathBody(Ctx& c, const float* x, const float* u, float* exp_out,
                                  float* swish_out, float* fast_swish_out, float* softplus_out,
                                  float* tn_out, int n) {
  const int i = c.bid() * kWarp + c.tid();
  if (i >= n) return;
  exp_out[i] = expf(x[i]);
  swish_out[i] = planner_math::Swish(x[i]);
  fast_swish_out[i] = planner_math::FastSwish(x[i]);
  softplus_out[i] = planner_math::Softplus(x[i]);
  tn_out[i] = static_cast<float>(rng::TruncatedNormalFromUniform(u[i]));
}

// Top-K as the refit kernel picks elites: block t (kRefitThreads threads) takes returns
// [t * num, t * num + num), non-finite ones as -inf, pads to sort_size with -inf, sorts with
// kernels::SortElites (the kernel's own code) and writes the first k indices to
// elites[t * k, t * k + k). Shared memory: kernels::RefitSmemBytes(num).
template <class Ctx>
MBRLHPO_HOST_DEVICE void TopKBody(Ctx& c, const float* returns, int num, int sort_size, int k,
                                  int32_t* elites) {
  const int t = c.bid();
  float* key = c.template smem<float>();
  int32_t* idx = reinterpret_cast<int32_t*>(key + sort_size);
  for (int i = c.tid(); i < sort_size; i += c.nthreads()) {
    c.sts(&key[i], i < num ? planner_math::FiniteOrNegInf(returns[t * num + i]) : -INFINITY);
    c.sts(&idx[i], static_cast<int32_t>(i));
  }
  c.sync();
  kernels::SortElites(c, key, idx, sort_size);
  for (int i = c.tid(); i < k; i += c.nthreads()) elites[t * k + i] = c.lds(&idx[i]);
}

}  // namespace mbrlhpo::cuda::probes
