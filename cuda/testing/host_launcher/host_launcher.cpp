#include "host_launcher.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "mbrlhpo/cuda/cuda_planner.h"
#include "mbrlhpo/errors.h"
#include "mbrlhpo/planner_task.h"
#include "mbrlhpo/rng.h"

namespace mbrlhpo::cuda {
namespace {

const PlannerTask& TaskOf(const MemberArgs& m) {
  const std::vector<std::string> names = CudaPlannerTaskNames();
  MBRLHPO_CHECK(m.task >= 0 && m.task < static_cast<int>(names.size()), "bad task id ", m.task);
  return FindPlannerTask(names[m.task]);
}

float Softplus(float x) { return std::max(x, 0.0f) + std::log1p(std::exp(-std::fabs(x))); }

class HostLauncher final : public Launcher {
 public:
  HostLauncher(HostKernels kernels, host::Schedule schedule, int multiprocessors)
      : kernels_(kernels), schedule_(schedule), multiprocessors_(multiprocessors) {
    MBRLHPO_CHECK(multiprocessors >= 0, "expected a multiprocessor count >= 0, got ",
                  multiprocessors);
    if (kernels == HostKernels::kReference) {
      name_ = "host (scalar reference launches)";
    } else {
      const char* order[] = {"forward", "reverse", "shuffled"};
      name_ =
          std::string("host emulator (schedule ") + order[static_cast<int>(schedule.order)] + ")";
    }
  }
  const char* name() const override { return name_.c_str(); }
  bool on_device() const override { return false; }
  int multiprocessors() const override { return multiprocessors_; }
  // Kernel-visible memory is poisoned with NaN: a buffer the driver or a kernel forgets to
  // write shows up as NaN in the results.
  void* Allocate(size_t bytes) override {
    void* p = std::malloc(std::max<size_t>(bytes, 4));
    MBRLHPO_CHECK(p != nullptr, "host launcher: out of memory (", bytes, " bytes)");
    const float nan = std::numeric_limits<float>::quiet_NaN();
    for (size_t i = 0; i + 4 <= bytes; i += 4) std::memcpy(static_cast<char*>(p) + i, &nan, 4);
    return p;
  }
  void Release(void* ptr) override { std::free(ptr); }
  void* AllocateStaging(size_t bytes) override { return Allocate(bytes); }
  void ReleaseStaging(void* ptr) override { std::free(ptr); }
  void SetStream(void*) override {}
  void CopyIn(void* dst, const void* src, size_t bytes) override { std::memcpy(dst, src, bytes); }
  void CopyOut(void* dst, const void* src, size_t bytes) override { std::memcpy(dst, src, bytes); }
  void Run(const PlanLaunch& launch) override {
    if (kernels_ == HostKernels::kEmulator) {
      RunEmulated(launch);
      return;
    }
    const MemberArgs* ms = launch.members;  // host memory: the kernel-visible copy itself
    for (int i = 0; i < launch.num_members; ++i) HostSample(ms[i], 0);
    for (int it = 0; it < launch.max_iterations; ++it) {
      for (int i = 0; i < launch.num_members; ++i) HostRollout(ms[i], it);
      for (int i = 0; i < launch.num_members; ++i) HostRefitAndSample(ms[i], it);
    }
  }
  void Finish() override {}

 private:
  void RunEmulated(const PlanLaunch& launch) {
    host::LaunchPackWeights(launch, schedule_);
    host::LaunchSample(launch, 0, schedule_);
    for (int it = 0; it < launch.max_iterations; ++it) {
      host::LaunchRollout(launch, it, schedule_);
      host::LaunchRefitAndSample(launch, it, schedule_);
    }
  }

  HostKernels kernels_;
  host::Schedule schedule_;
  int multiprocessors_ = 0;
  std::string name_;
};

}  // namespace

void HostSample(const MemberArgs& m, int iteration) {
  if (iteration >= m.iterations) return;
  const int a_dim = m.act_dim, horizon = m.horizon;
  if (iteration == 0) {
    for (int h = 0; h < horizon; ++h) {
      for (int a = 0; a < a_dim; ++a) {
        const float range = m.action_high[a] - m.action_low[a];
        m.var[h * a_dim + a] = range * range / 16.0f;
      }
    }
  }
  const uint32_t prefix = rng::PrefixKey(m.seed, rng::kStreamActions, m.step, iteration);
  for (int n = 0; n < m.population; ++n) {
    const uint32_t key = rng::RowKey(prefix, static_cast<uint32_t>(n));
    float* out = m.candidates + static_cast<int64_t>(n) * horizon * a_dim;
    for (int h = 0; h < horizon; ++h) {
      for (int a = 0; a < a_dim; ++a) {
        const int k = h * a_dim + a;
        const float mean = m.mean[k];
        const float lb = mean - m.action_low[a], ub = m.action_high[a] - mean;
        const float cvar = std::min(std::min((lb / 2) * (lb / 2), (ub / 2) * (ub / 2)), m.var[k]);
        const float u = rng::Uniform(rng::Bits(key, static_cast<uint32_t>(k)));
        const float z = static_cast<float>(rng::TruncatedNormalFromUniform(u));
        out[k] = mean + std::sqrt(cvar) * z;
      }
    }
  }
}

void HostRollout(const MemberArgs& m, int iteration) {
  if (iteration >= m.iterations) return;
  const PlannerTask& task = TaskOf(m);
  const int o_dim = m.obs_dim, a_dim = m.act_dim, mi_dim = m.model_input_dim;
  const int ens = m.ensemble_size, per = m.particles / ens, horizon = m.horizon;
  const int rows = m.population * per, layers = m.num_layers;
  int width = 0;
  for (int l = 0; l <= layers; ++l) width = std::max(width, m.layer_sizes[l]);
  std::vector<float> x(width), y(width), state(o_dim), next(o_dim);
  const uint32_t prefix = rng::PrefixKey(m.seed, rng::kStreamState, m.step, iteration);
  for (int e = 0; e < ens; ++e) {
    for (int i = 0; i < rows; ++i) {
      const int n = i / per, j = i % per;
      const uint32_t key =
          rng::RowKey(prefix, static_cast<uint32_t>(n * m.particles + e * per + j));
      std::copy(m.obs, m.obs + o_dim, state.begin());
      float ret = 0.0f;
      bool done = false;
      for (int h = 0; h < horizon; ++h) {
        const float* act = m.candidates + (static_cast<int64_t>(n) * horizon + h) * a_dim;
        task.model_input(state.data(), x.data());
        for (int a = 0; a < a_dim; ++a) x[mi_dim + a] = act[a];
        for (int d = 0; d < m.layer_sizes[0]; ++d) {
          x[d] = (x[d] - m.input_mean[d]) / m.input_std[d];
        }
        for (int l = 0; l < layers; ++l) {
          const int in = m.layer_sizes[l], out = m.layer_sizes[l + 1];
          const float* w = m.weights[l] + static_cast<int64_t>(e) * in * out;
          const float* b = m.biases[l] + static_cast<int64_t>(e) * out;
          for (int c = 0; c < out; ++c) {
            float acc = 0.0f;
            for (int k = 0; k < in; ++k) acc += x[k] * w[static_cast<int64_t>(k) * out + c];
            const float v = acc + b[c];
            y[c] = l + 1 < layers ? v / (1.0f + std::exp(-v)) : v;
          }
          std::swap(x, y);
        }
        for (int o = 0; o < o_dim; ++o) {
          const float mu = x[o];
          float lv = m.max_logvar[o] - Softplus(m.max_logvar[o] - x[o_dim + o]);
          lv = m.min_logvar[o] + Softplus(lv - m.min_logvar[o]);
          const float sd = std::exp(0.5f * lv);
          const uint32_t k = static_cast<uint32_t>(h * o_dim + o), j2 = (k >> 1) << 1;
          const float u1 = rng::Uniform(rng::Bits(key, j2));
          const float u2 = rng::Uniform(rng::Bits(key, j2 + 1));
          const float rad = std::sqrt(-2.0f * std::log(u1));
          const float theta = 6.28318530717958648f * u2;
          const float z = rad * ((k & 1u) ? std::sin(theta) : std::cos(theta));
          next[o] = mu + sd * z + (task.absolute_target[o] ? 0.0f : state[o]);
        }
        const float r = task.reward(act, next.data());
        if (!done) ret += r;
        if (task.terminated(next.data())) done = true;
        std::swap(state, next);
      }
      m.row_returns[static_cast<int64_t>(e) * rows + i] = ret;
    }
  }
}

void HostRefitAndSample(const MemberArgs& m, int iteration) {
  if (iteration >= m.iterations) return;
  const int num = m.population, ens = m.ensemble_size, per = m.particles / ens;
  const int k_el = m.num_elites, ha = m.horizon * m.act_dim;
  for (int n = 0; n < num; ++n) {
    float sum = 0.0f;
    for (int e = 0; e < ens; ++e) {
      const float* r = m.row_returns + (static_cast<int64_t>(e) * num + n) * per;
      for (int j = 0; j < per; ++j) sum += r[j];
    }
    const float v = sum / static_cast<float>(m.particles);
    m.returns[n] = std::isfinite(v) ? v : -std::numeric_limits<float>::infinity();
  }
  std::vector<int32_t> order(num);
  std::iota(order.begin(), order.end(), 0);
  const float* ret = m.returns;
  std::partial_sort(order.begin(), order.begin() + k_el, order.end(), [ret](int32_t x, int32_t y) {
    return ret[x] > ret[y] || (ret[x] == ret[y] && x < y);
  });
  std::copy(order.begin(), order.begin() + k_el, m.elites);
  for (int q = 0; q < ha; ++q) {
    float mean = 0.0f;
    for (int i = 0; i < k_el; ++i) mean += m.candidates[static_cast<int64_t>(order[i]) * ha + q];
    mean /= static_cast<float>(k_el);
    float var = 0.0f;
    for (int i = 0; i < k_el; ++i) {
      const float d = m.candidates[static_cast<int64_t>(order[i]) * ha + q] - mean;
      var += d * d;
    }
    var /= static_cast<float>(k_el);
    m.mean[q] = m.alpha * m.mean[q] + (1.0f - m.alpha) * mean;
    m.var[q] = m.alpha * m.var[q] + (1.0f - m.alpha) * var;
  }
  if (m.trace_returns) {
    std::copy(ret, ret + num, m.trace_returns + static_cast<int64_t>(iteration) * num);
    std::copy(m.elites, m.elites + k_el, m.trace_elites + static_cast<int64_t>(iteration) * k_el);
    std::copy(m.mean, m.mean + ha, m.trace_means + static_cast<int64_t>(iteration) * ha);
    std::copy(m.var, m.var + ha, m.trace_vars + static_cast<int64_t>(iteration) * ha);
  }
  HostSample(m, iteration + 1);
}

std::unique_ptr<Launcher> MakeHostLauncher() { return MakeHostLauncher(HostKernels::kEmulator); }

std::unique_ptr<Launcher> MakeHostLauncher(HostKernels kernels, host::Schedule schedule,
                                           int multiprocessors) {
  return std::make_unique<HostLauncher>(kernels, schedule, multiprocessors);
}

}  // namespace mbrlhpo::cuda
