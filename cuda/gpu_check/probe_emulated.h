// The conformance probes (conformance.h) on the host emulator: the reference gpu_check compares
// the GPU's runs (probe_runs.h) with. Header-only; g++ only (it instantiates the emulator).
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "conformance.h"
#include "probe_runs.h"
#include "simt_host.h"

namespace mbrlhpo::cuda::probes::emulated {

inline void Require(const simt::LaunchReport& r, const char* what) {
  if (!r.ok()) throw std::runtime_error(std::string("emulated probe ") + what + ": " + r.Summary());
}

inline simt::HostLaunchOptions Shuffled() {
  simt::HostLaunchOptions o;
  o.order = simt::Order::kShuffled;
  o.seed = 7;
  return o;
}

inline void Tf32(const std::vector<float>& in, std::vector<uint32_t>* out) {
  const int n = static_cast<int>(in.size());
  out->assign(in.size(), 0);
  Require(simt::LaunchHost((n + kWarp - 1) / kWarp, kWarp, 0, Shuffled(),
                           [&](simt::HostCtx& c) { Tf32Body(c, in.data(), out->data(), n); }),
          "tf32");
}

inline void Mma(const std::vector<float>& a, const std::vector<float>& b,
                const std::vector<float>& c, std::vector<float>* d) {
  const int trials = static_cast<int>(a.size() / 128);
  d->assign(a.size(), 0.0f);
  Require(simt::LaunchHost(
              trials, kWarp, 0, Shuffled(),
              [&](simt::HostCtx& x) { MmaBody(x, a.data(), b.data(), c.data(), d->data()); }),
          "mma");
}

inline void Shfl(const std::vector<float>& in, std::vector<float>* out) {
  const int warps = static_cast<int>(in.size() / kWarp);
  out->assign(in.size() * 5, 0.0f);
  Require(simt::LaunchHost(warps, kWarp, 0, Shuffled(),
                           [&](simt::HostCtx& c) { ShflBody(c, in.data(), out->data()); }),
          "shfl");
}

inline void Math(const std::vector<float>& x, const std::vector<float>& u, MathOut* out) {
  const int n = static_cast<int>(x.size());
  for (auto* v :
       {&out->exp, &out->swish, &out->fast_swish, &out->softplus, &out->truncated_normal}) {
    v->assign(x.size(), 0.0f);
  }
  Require(simt::LaunchHost((n + kWarp - 1) / kWarp, kWarp, 0, Shuffled(),
                           [&](simt::HostCtx& c) {
                             MathBody(c, x.data(), u.data(), out->exp.data(), out->swish.data(),
                                      out->fast_swish.data(), out->softplus.data(),
                                      out->truncated_normal.data(), n);
                           }),
          "math");
}

inline void TopK(const std::vector<float>& returns, int num, int k, std::vector<int32_t>* elites) {
  const int trials = static_cast<int>(returns.size() / num);
  const int sort_size = kernels::SortSize(num);
  elites->assign(static_cast<size_t>(trials) * k, -1);
  Require(simt::LaunchHost(trials, kRefitThreads, kernels::RefitSmemBytes(num), Shuffled(),
                           [&](simt::HostCtx& c) {
                             TopKBody(c, returns.data(), num, sort_size, k, elites->data());
                           }),
          "top-k");
}

}  // namespace mbrlhpo::cuda::probes::emulated
