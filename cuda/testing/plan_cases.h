// Planning cases shared by the driver's ctest and gpu_check: a random ensemble placed in a
// launcher's memory, and the comparison of a CudaPlanner with the CPU CemPlanner on one task
// (returns, elites up to near-ties, first action, CEM means/variances per iteration).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "mbrlhpo/cem_planner.h"
#include "mbrlhpo/cuda/cuda_planner.h"
#include "mbrlhpo/planner_task.h"

namespace mbrlhpo::cuda::cases {

// An ensemble with random weights (scaled like PyTorch's default init), biases, normaliser and
// log-variance bounds, held on the host and, for the CUDA planner, copied into `launcher`
// memory (released by the destructor).
struct RandomModel {
  std::vector<std::vector<float>> w, b;
  std::vector<float> max_lv, min_lv, in_mean, in_std;
  std::vector<int> sizes;
  int ensemble = 0;
  Launcher* launcher = nullptr;
  std::vector<void*> device;

  RandomModel(const PlannerTask& task, int ens, const std::vector<int>& hidden, uint32_t seed)
      : ensemble(ens) {
    std::mt19937 gen(seed);
    std::uniform_real_distribution<float> uni(-1.0f, 1.0f);
    sizes.push_back(task.model_input_dim + task.act_dim);
    for (int h : hidden) sizes.push_back(h);
    sizes.push_back(2 * task.obs_dim);
    for (size_t l = 0; l + 1 < sizes.size(); ++l) {
      const float scale = 1.0f / std::sqrt(static_cast<float>(sizes[l]));
      std::vector<float> wl(static_cast<size_t>(ens) * sizes[l] * sizes[l + 1]);
      std::vector<float> bl(static_cast<size_t>(ens) * sizes[l + 1]);
      for (float& v : wl) v = scale * uni(gen);
      for (float& v : bl) v = 0.1f * uni(gen);
      w.push_back(wl);
      b.push_back(bl);
    }
    for (int o = 0; o < task.obs_dim; ++o) {
      max_lv.push_back(0.5f + 0.1f * uni(gen));
      min_lv.push_back(-5.0f + 0.1f * uni(gen));
    }
    for (int d = 0; d < sizes[0]; ++d) {
      in_mean.push_back(0.1f * uni(gen));
      in_std.push_back(1.0f + 0.5f * std::fabs(uni(gen)));
    }
  }
  ~RandomModel() {
    for (void* p : device) launcher->Release(p);
  }
  RandomModel(const RandomModel&) = delete;
  RandomModel& operator=(const RandomModel&) = delete;

  EnsembleView HostView() const {
    EnsembleView v;
    v.ensemble_size = ensemble;
    v.layer_sizes = sizes;
    for (size_t l = 0; l < w.size(); ++l) {
      v.weights.push_back(w[l].data());
      v.biases.push_back(b[l].data());
    }
    v.max_logvar = max_lv.data();
    v.min_logvar = min_lv.data();
    v.input_mean = in_mean.data();
    v.input_std = in_std.data();
    return v;
  }

  // The same weights copied into the launcher's memory (once; re-copied by Upload()).
  EnsembleView DeviceView(Launcher& l) {
    if (device.empty()) {
      launcher = &l;
      for (size_t q = 0; q < w.size(); ++q) device.push_back(l.Allocate(w[q].size() * 4));
      for (size_t q = 0; q < b.size(); ++q) device.push_back(l.Allocate(b[q].size() * 4));
      for (const auto* v : {&max_lv, &min_lv, &in_mean, &in_std}) {
        device.push_back(l.Allocate(v->size() * 4));
      }
    }
    Upload();
    EnsembleView v;
    v.ensemble_size = ensemble;
    v.layer_sizes = sizes;
    const size_t nl = w.size();
    for (size_t q = 0; q < nl; ++q) {
      v.weights.push_back(static_cast<const float*>(device[q]));
      v.biases.push_back(static_cast<const float*>(device[nl + q]));
    }
    v.max_logvar = static_cast<const float*>(device[2 * nl]);
    v.min_logvar = static_cast<const float*>(device[2 * nl + 1]);
    v.input_mean = static_cast<const float*>(device[2 * nl + 2]);
    v.input_std = static_cast<const float*>(device[2 * nl + 3]);
    return v;
  }

  void Upload() {
    const size_t nl = w.size();
    for (size_t q = 0; q < nl; ++q) launcher->CopyIn(device[q], w[q].data(), w[q].size() * 4);
    for (size_t q = 0; q < nl; ++q) launcher->CopyIn(device[nl + q], b[q].data(), b[q].size() * 4);
    const std::vector<float>* rest[] = {&max_lv, &min_lv, &in_mean, &in_std};
    for (size_t q = 0; q < 4; ++q) {
      launcher->CopyIn(device[2 * nl + q], rest[q]->data(), rest[q]->size() * 4);
    }
    launcher->Finish();
  }
};

// One member's problem settings, inputs and outputs (host side), and its PlanRequest.
struct Problem {
  const PlannerTask* task = nullptr;
  CemSettings cem;
  uint64_t seed = 0;
  uint32_t step = 0;
  std::vector<float> obs, init_mean, low, high, out_mean;
  std::vector<float> tr_returns, tr_means, tr_vars;
  std::vector<int32_t> tr_elites;

  Problem(const PlannerTask& t, const CemSettings& c, uint64_t s, uint32_t seed_obs)
      : task(&t), cem(c), seed(s) {
    std::mt19937 gen(seed_obs);
    std::normal_distribution<float> normal(0.0f, 0.3f);
    for (int o = 0; o < t.obs_dim; ++o) obs.push_back(normal(gen));
    for (int a = 0; a < t.act_dim; ++a) {
      low.push_back(-1.0f);
      high.push_back(1.0f);
    }
    init_mean.assign(static_cast<size_t>(c.horizon) * t.act_dim, 0.0f);
  }

  PlanRequest Request(const EnsembleView& net, bool trace) {
    PlanRequest r;
    r.problem.task = task;
    r.problem.net = net;
    r.problem.cem = cem;
    r.problem.seed = seed;
    r.problem.action_low = low.data();
    r.problem.action_high = high.data();
    r.inputs.obs = obs.data();
    r.inputs.warm_start = init_mean.data();
    r.inputs.step = step;
    const size_t ha = init_mean.size(), it = cem.iterations;
    out_mean.assign(ha, 0.0f);
    r.outputs.mean = out_mean.data();
    if (trace) {
      tr_returns.assign(it * cem.population, 0.0f);
      tr_elites.assign(it * cem.num_elites, -1);
      tr_means.assign(it * ha, 0.0f);
      tr_vars.assign(it * ha, 0.0f);
      r.outputs.trace_returns = tr_returns.data();
      r.outputs.trace_elites = tr_elites.data();
      r.outputs.trace_means = tr_means.data();
      r.outputs.trace_vars = tr_vars.data();
    }
    return r;
  }

  // The planner's warm start for the next step: the mean shifted by one, tail 0 (mid-range).
  void Advance() {
    const int a = task->act_dim;
    std::copy(out_mean.begin() + a, out_mean.end(), init_mean.begin());
    std::fill(init_mean.end() - a, init_mean.end(), 0.0f);
    ++step;
  }
};

// How far a CUDA plan is from the CPU plan of the same problem.
struct Diff {
  double returns_rel = 0;      // max |r_gpu - r_cpu| / max(1, |r_cpu|)
  int elite_mismatch = 0;      // elite positions that differ ...
  int elite_not_near_tie = 0;  // ... of which the returns are not within the tolerance
  double action_rel = 0;       // max |a_gpu - a_cpu| / (high - low), first action
  double mean_abs = 0;         // max |mean_gpu - mean_cpu| over the trace
  bool finite = true;
};

inline Diff Compare(const Problem& cpu, const Problem& gpu, double near_tie) {
  Diff d;
  for (size_t i = 0; i < cpu.tr_returns.size(); ++i) {
    const double rc = cpu.tr_returns[i], rg = gpu.tr_returns[i];
    if (std::isinf(rc) && rc == rg) continue;
    d.returns_rel = std::max(d.returns_rel, std::fabs(rg - rc) / std::max(1.0, std::fabs(rc)));
  }
  const int n = cpu.cem.population, k = cpu.cem.num_elites;
  for (size_t i = 0; i < cpu.tr_elites.size(); ++i) {
    const int ec = cpu.tr_elites[i], eg = gpu.tr_elites[i];
    if (ec == eg) continue;
    ++d.elite_mismatch;
    const size_t it = i / k;
    const double rc = cpu.tr_returns[it * n + ec];
    const bool valid = eg >= 0 && eg < n;
    const double rg = valid ? cpu.tr_returns[it * n + eg] : 1e30;
    if (std::fabs(rg - rc) > near_tie * std::max(1.0, std::fabs(rc))) ++d.elite_not_near_tie;
  }
  const int a = cpu.task->act_dim;
  for (int q = 0; q < a; ++q) {
    const double span = cpu.high[q] - cpu.low[q];
    d.action_rel = std::max(d.action_rel, std::fabs(gpu.out_mean[q] - cpu.out_mean[q]) / span);
  }
  for (size_t i = 0; i < cpu.tr_means.size(); ++i) {
    d.mean_abs =
        std::max(d.mean_abs, static_cast<double>(std::fabs(gpu.tr_means[i] - cpu.tr_means[i])));
  }
  for (float v : gpu.out_mean) d.finite = d.finite && std::isfinite(v);
  return d;
}

inline bool Within(const Diff& d, double tol) {
  return d.finite && d.returns_rel <= tol && d.elite_not_near_tie == 0 && d.action_rel <= tol;
}

inline void Print(const char* what, const Diff& d) {
  std::printf(
      "  %-28s returns %.2e  elites %d differ (%d not near-ties)  action %.2e  "
      "means %.2e%s\n",
      what, d.returns_rel, d.elite_mismatch, d.elite_not_near_tie, d.action_rel, d.mean_abs,
      d.finite ? "" : "  NOT FINITE");
}

// Plans `steps` consecutive steps of one problem with both planners (warm start carried) and
// returns the largest differences seen.
inline Diff CompareSteps(CudaPlanner& cuda_planner, CemPlanner& cpu_planner, RandomModel& model,
                         const PlannerTask& task, const CemSettings& cem, Gemm gemm, int steps,
                         uint64_t seed, double near_tie) {
  Problem pc(task, cem, seed, static_cast<uint32_t>(seed)),
      pg(task, cem, seed, static_cast<uint32_t>(seed));
  Launcher& launcher = const_cast<Launcher&>(cuda_planner.launcher());
  const EnsembleView host_net = model.HostView();
  const EnsembleView dev_net = model.DeviceView(launcher);
  Diff worst;
  for (int s = 0; s < steps; ++s) {
    cpu_planner.Plan({pc.Request(host_net, true)});
    cuda_planner.Plan({CudaPlanRequest{pg.Request(dev_net, true), gemm}});
    const Diff d = Compare(pc, pg, near_tie);
    worst.returns_rel = std::max(worst.returns_rel, d.returns_rel);
    worst.elite_mismatch += d.elite_mismatch;
    worst.elite_not_near_tie += d.elite_not_near_tie;
    worst.action_rel = std::max(worst.action_rel, d.action_rel);
    worst.mean_abs = std::max(worst.mean_abs, d.mean_abs);
    worst.finite = worst.finite && d.finite;
    pc.Advance();
    pg.Advance();
  }
  return worst;
}

}  // namespace mbrlhpo::cuda::cases
