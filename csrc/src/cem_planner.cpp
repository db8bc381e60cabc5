#include "mbrlhpo/cem_planner.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <numeric>

#include "blas.h"
#include "ensemble_mlp.h"
#include "fast_math.h"
#include "mbrlhpo/errors.h"
#include "mbrlhpo/planner_math.h"
#include "mbrlhpo/rng.h"
#include "thread_pool.h"

namespace mbrlhpo {

void CemSettings::Validate(int ensemble_size) const {
  MBRLHPO_CHECK(horizon >= 1, "expected horizon >= 1, got ", horizon);
  MBRLHPO_CHECK(population >= 1, "expected population >= 1, got ", population);
  MBRLHPO_CHECK(num_elites >= 1 && num_elites <= population,
                "expected 1 <= num_elites <= population (", population, "), got ", num_elites);
  MBRLHPO_CHECK(iterations >= 1, "expected iterations >= 1, got ", iterations);
  MBRLHPO_CHECK(alpha >= 0.0f && alpha < 1.0f, "expected alpha in [0, 1), got ", alpha);
  MBRLHPO_CHECK(particles >= 1 && particles % ensemble_size == 0,
                "expected particles to be a positive multiple of the ensemble size ", ensemble_size,
                ", got ", particles);
}

// Per-member buffers, grown (never shrunk) across calls.
struct CemPlanner::MemberState {
  std::vector<float> mean, var, samples, row_returns, returns;
  std::vector<int32_t> order;
  std::vector<bf16::PackedB> packed;  // bf16 mode: hidden layer l >= 1, member e at (l-1)*E+e
};

// Per-thread buffers for one tile.
struct CemPlanner::Scratch {
  std::vector<float> x, a, b, out, out_t, state_t, next_t, row;
  std::vector<float> ret;
  std::vector<uint16_t> abf;  // bf16 activations (tile_rows x padded max width)
  std::vector<uint8_t> done;
  std::vector<uint32_t> keys;
  std::vector<int32_t> cand;
};

namespace {

constexpr int kMinTilesPerMember = 2;

template <typename T>
void Grow(std::vector<T>& v, size_t n) {
  if (v.size() < n) v.resize(n);
}

// The fused sampling pass for one step of a tile (all arrays transposed: dim-major, rows
// contiguous): mean/logvar + bias -> bounded logvar -> noise -> next state.
template <int N>
MBRLHPO_VINLINE void SampleNextBody(const float* out_t, const float* bias, const float* max_lv,
                                    const float* min_lv, const char* absolute, const uint32_t* keys,
                                    const float* state_t, float* next_t, int rows, int obs_dim,
                                    int step) {
  using S = fast::Simd<N>;
  using F = typename S::F;
  using U = typename S::U;
  constexpr int kLanes = N;
  for (int o = 0; o < obs_dim; ++o) {
    const float* mu_row = out_t + static_cast<int64_t>(o) * rows;
    const float* raw_row = out_t + static_cast<int64_t>(obs_dim + o) * rows;
    const float* s_row = state_t + static_cast<int64_t>(o) * rows;
    float* n_row = next_t + static_cast<int64_t>(o) * rows;
    const F b_mu = S::Set(bias[o]), b_lv = S::Set(bias[obs_dim + o]);
    const F mx = S::Set(max_lv[o]), mn = S::Set(min_lv[o]);
    const uint32_t k = static_cast<uint32_t>(step * obs_dim + o);
    const uint32_t j2 = (k >> 1) << 1;
    const bool odd = (k & 1u) != 0;
    const bool abs_target = absolute[o] != 0;
    const U mul1 = S::SetU(j2 * 0x9E3779B9u), mul2 = S::SetU((j2 + 1) * 0x9E3779B9u);
    for (int t = 0; t < rows; t += kLanes) {
      const int n = rows - t < kLanes ? rows - t : kLanes;
      const bool whole = n == kLanes;
      const F mu_raw = whole ? S::Load(mu_row + t) : S::LoadPartial(mu_row + t, n);
      const F lv_raw = whole ? S::Load(raw_row + t) : S::LoadPartial(raw_row + t, n);
      const U key = whole ? S::LoadU(keys + t) : S::LoadPartialU(keys + t, n);
      const F mu = mu_raw + b_mu;
      F lv = mx - S::Softplus(mx - (lv_raw + b_lv));
      lv = mn + S::Softplus(lv - mn);
      const F sd = S::Exp(0.5f * lv);
      const F u1 = S::Uniform(S::Fmix32(key ^ mul1));
      const F u2 = S::Uniform(S::Fmix32(key ^ mul2));
      F rad = -2.0f * S::Log(u1);
      for (int l = 0; l < kLanes; ++l) rad[l] = std::sqrt(rad[l]);
      F c, sn;
      S::SinCos2Pi(u2, &c, &sn);
      const F z = rad * (odd ? sn : c);
      F next = mu + sd * z;
      if (!abs_target) next += whole ? S::Load(s_row + t) : S::LoadPartial(s_row + t, n);
      if (whole) {
        S::Store(n_row + t, next);
      } else {
        S::StorePartial(n_row + t, next, n);
      }
    }
  }
}

MBRLHPO_SIMD_CLONES
void SampleNext16(const float* out_t, const float* bias, const float* max_lv, const float* min_lv,
                  const char* absolute, const uint32_t* keys, const float* state_t, float* next_t,
                  int rows, int obs_dim, int step) {
  SampleNextBody<16>(out_t, bias, max_lv, min_lv, absolute, keys, state_t, next_t, rows, obs_dim,
                     step);
}

MBRLHPO_AVX2_TARGET
void SampleNext8(const float* out_t, const float* bias, const float* max_lv, const float* min_lv,
                 const char* absolute, const uint32_t* keys, const float* state_t, float* next_t,
                 int rows, int obs_dim, int step) {
  SampleNextBody<8>(out_t, bias, max_lv, min_lv, absolute, keys, state_t, next_t, rows, obs_dim,
                    step);
}

void SampleNext(const float* out_t, const float* bias, const float* max_lv, const float* min_lv,
                const char* absolute, const uint32_t* keys, const float* state_t, float* next_t,
                int rows, int obs_dim, int step) {
  if (fast::UseAvx2Path()) {
    SampleNext8(out_t, bias, max_lv, min_lv, absolute, keys, state_t, next_t, rows, obs_dim, step);
  } else {
    SampleNext16(out_t, bias, max_lv, min_lv, absolute, keys, state_t, next_t, rows, obs_dim, step);
  }
}

}  // namespace

CemPlanner::CemPlanner(int num_threads, int tile_rows)
    : pool_(std::make_unique<ThreadPool>(num_threads)), tile_rows_(tile_rows) {
  MBRLHPO_CHECK(tile_rows >= 1, "expected tile_rows >= 1, got ", tile_rows);
  for (int t = 0; t < pool_->num_threads(); ++t) scratch_.push_back(std::make_unique<Scratch>());
}

CemPlanner::~CemPlanner() = default;

int CemPlanner::num_threads() const { return pool_->num_threads(); }

void CemPlanner::RolloutTile(const PlanRequest& r, MemberState& st, int iteration, int e,
                             int row_begin, int row_end, Scratch& s) {
  const PlanProblem& m = r.problem;  // the member's problem
  const PlannerTask& task = *m.task;
  const EnsembleView& net = m.net;
  const int obs_dim = task.obs_dim, act_dim = task.act_dim;
  const int in_dim = net.input_dim(), mi_dim = task.model_input_dim;
  const int horizon = m.cem.horizon, particles = m.cem.particles;
  const int per = particles / net.ensemble_size;
  const int rows = row_end - row_begin;
  const int out_w = net.layer_sizes.back();
  const uint32_t prefix = rng::PrefixKey(m.seed, rng::kStreamState, r.inputs.step, iteration);
  for (int t = 0; t < rows; ++t) {
    const int i = row_begin + t;
    const int n = i / per, j = i % per;
    s.cand[t] = n;
    s.keys[t] = rng::RowKey(prefix, static_cast<uint32_t>(n * particles + e * per + j));
    s.ret[t] = 0.0f;
    s.done[t] = 0;
    for (int o = 0; o < obs_dim; ++o)
      s.state_t[static_cast<int64_t>(o) * rows + t] = r.inputs.obs[o];
  }
  const float* in_mean = net.input_mean;
  const float* in_std = net.input_std;
  const float* last_bias = net.biases[net.num_layers() - 1] + static_cast<int64_t>(e) * out_w;
  float* row = s.row.data();
  for (int h = 0; h < horizon; ++h) {
    // inputs: normalise([model_input(s), a])
    for (int t = 0; t < rows; ++t) {
      for (int o = 0; o < obs_dim; ++o) row[o] = s.state_t[static_cast<int64_t>(o) * rows + t];
      float* x = s.x.data() + static_cast<int64_t>(t) * in_dim;
      task.model_input(row, x);
      const float* act =
          st.samples.data() + (static_cast<int64_t>(s.cand[t]) * horizon + h) * act_dim;
      for (int a = 0; a < act_dim; ++a) x[mi_dim + a] = act[a];
      for (int d = 0; d < in_dim; ++d) x[d] = (x[d] - in_mean[d]) / in_std[d];
    }
    const float* hid =
        m.precision == Precision::kBfloat16
            ? mlp::ForwardHiddenBf16(
                  net, e, rows, s.x.data(), s.a.data(), s.abf.data(),
                  s.abf.data() + static_cast<size_t>(tile_rows_) * bf16::PaddedK(max_width_),
                  st.packed)
            : mlp::ForwardHidden(net, e, rows, s.x.data(), s.a.data(), s.b.data());
    mlp::ForwardOutputTransposed(net, e, rows, hid, s.out.data(), s.out_t.data());
    SampleNext(s.out_t.data(), last_bias, net.max_logvar, net.min_logvar,
               task.absolute_target.data(), s.keys.data(), s.state_t.data(), s.next_t.data(), rows,
               obs_dim, h);
    for (int t = 0; t < rows; ++t) {
      for (int o = 0; o < obs_dim; ++o) row[o] = s.next_t[static_cast<int64_t>(o) * rows + t];
      const float* act =
          st.samples.data() + (static_cast<int64_t>(s.cand[t]) * horizon + h) * act_dim;
      const float r = task.reward(act, row);
      if (!s.done[t]) s.ret[t] += r;
      if (task.terminated(row)) s.done[t] = 1;
    }
    std::swap(s.state_t, s.next_t);
  }
  const int rows_per_member = m.cem.population * per;
  float* out = st.row_returns.data() + static_cast<int64_t>(e) * rows_per_member + row_begin;
  std::copy(s.ret.begin(), s.ret.begin() + rows, out);
}

void CemPlanner::Plan(const std::vector<PlanRequest>& requests) {
  std::lock_guard<std::mutex> lock(mutex_);
  const int max_iterations = Prepare(requests);
  StartFromWarmStart(requests);
  // The planner's threads call sgemm concurrently: the BLAS itself runs single-threaded.
  const int blas_threads = blas::NumThreads();
  blas::SetNumThreads(1);
  try {
    for (int it = 0; it < max_iterations; ++it) {
      SampleActions(requests, it);
      RolloutReturns(requests, it);
      RefitDistribution(requests, it);
    }
  } catch (...) {
    blas::SetNumThreads(blas_threads);
    throw;
  }
  blas::SetNumThreads(blas_threads);
  WriteMeans(requests);
}

int CemPlanner::Prepare(const std::vector<PlanRequest>& requests) {
  const int num_members = static_cast<int>(requests.size());
  int max_iterations = 0, max_in = 0, max_width = 0, max_obs = 0;
  bool any_bf16 = false;
  while (static_cast<int>(states_.size()) < num_members) {
    states_.push_back(std::make_unique<MemberState>());
  }
  for (int mi = 0; mi < num_members; ++mi) {
    const PlanProblem& m = requests[mi].problem;
    const PlanInputs& in = requests[mi].inputs;
    MBRLHPO_CHECK(m.task != nullptr, "member ", mi, ": no task");
    m.net.Validate();
    m.cem.Validate(m.net.ensemble_size);
    MBRLHPO_CHECK(m.net.input_dim() == m.task->model_input_dim + m.task->act_dim, "member ", mi,
                  ": expected a model input width of ", m.task->model_input_dim + m.task->act_dim,
                  " for task '", m.task->name, "', got ", m.net.input_dim());
    MBRLHPO_CHECK(m.net.output_dim() == m.task->obs_dim, "member ", mi,
                  ": expected a model output of 2 x ", m.task->obs_dim, ", got ",
                  m.net.layer_sizes.back());
    MBRLHPO_CHECK(
        in.obs && in.warm_start && m.action_low && m.action_high && requests[mi].outputs.mean,
        "member ", mi, ": null obs/warm_start/bounds/mean pointer");
    const int ha = m.cem.horizon * m.task->act_dim;
    MemberState& st = *states_[mi];
    Grow(st.mean, ha);
    Grow(st.var, ha);
    Grow(st.samples, static_cast<size_t>(m.cem.population) * ha);
    Grow(st.row_returns, static_cast<size_t>(m.cem.population) * m.cem.particles);
    Grow(st.returns, m.cem.population);
    Grow(st.order, m.cem.population);
    if (m.precision == Precision::kBfloat16) {
      bf16::RequireSupported();
      any_bf16 = true;
      // Weights are read in place and may change between calls: pack them at every call
      // (E x (L-2) small matrices, negligible next to the rollouts).
      const int ens = m.net.ensemble_size, hidden = m.net.num_layers() - 1;
      st.packed.resize(static_cast<size_t>(std::max(0, hidden - 1)) * ens);
      for (int l = 1; l < hidden; ++l) {
        const int fan_in = m.net.layer_sizes[l], fan_out = m.net.layer_sizes[l + 1];
        for (int e = 0; e < ens; ++e) {
          bf16::PackB(m.net.weights[l] + static_cast<int64_t>(e) * fan_in * fan_out, fan_in,
                      fan_out, &st.packed[static_cast<size_t>(l - 1) * ens + e]);
        }
      }
    }
    max_iterations = std::max(max_iterations, m.cem.iterations);
    max_in = std::max(max_in, m.net.input_dim());
    max_width = std::max(max_width, m.net.max_width());
    max_obs = std::max(max_obs, m.task->obs_dim);
  }
  const int tr = tile_rows_;
  max_width_ = max_width;
  for (auto& sp : scratch_) {
    Scratch& s = *sp;
    Grow(s.x, static_cast<size_t>(tr) * max_in);
    Grow(s.a, static_cast<size_t>(tr) * max_width);
    Grow(s.b, static_cast<size_t>(tr) * max_width);
    Grow(s.out, static_cast<size_t>(tr) * max_width);
    Grow(s.out_t, static_cast<size_t>(tr) * max_width);
    Grow(s.state_t, static_cast<size_t>(tr) * max_obs);
    Grow(s.next_t, static_cast<size_t>(tr) * max_obs);
    Grow(s.row, std::max(max_obs, max_in));
    Grow(s.ret, tr);
    if (any_bf16) Grow(s.abf, 2 * static_cast<size_t>(tr) * bf16::PaddedK(max_width));
    Grow(s.done, tr);
    Grow(s.keys, tr);
    Grow(s.cand, tr);
  }
  return max_iterations;
}

void CemPlanner::StartFromWarmStart(const std::vector<PlanRequest>& requests) {
  const int num_members = static_cast<int>(requests.size());
  for (int mi = 0; mi < num_members; ++mi) {
    const PlanProblem& m = requests[mi].problem;
    const float* warm_start = requests[mi].inputs.warm_start;
    MemberState& st = *states_[mi];
    const int act_dim = m.task->act_dim;
    for (int h = 0; h < m.cem.horizon; ++h) {
      for (int a = 0; a < act_dim; ++a) {
        st.mean[h * act_dim + a] = warm_start[h * act_dim + a];
        st.var[h * act_dim + a] = planner_math::InitialVariance(m.action_low[a], m.action_high[a]);
      }
    }
  }
}

// Candidates' action sequences, parallel over (member, block of 32 candidates).
void CemPlanner::SampleActions(const std::vector<PlanRequest>& requests, int it) {
  const int num_members = static_cast<int>(requests.size());
  items_.clear();
  for (int mi = 0; mi < num_members; ++mi) {
    const CemSettings& cem = requests[mi].problem.cem;
    if (it >= cem.iterations) continue;
    const int num = cem.population;
    for (int n0 = 0; n0 < num; n0 += 32) items_.push_back({mi, 0, n0, std::min(num, n0 + 32)});
  }
  pool_->ParallelFor(static_cast<int64_t>(items_.size()), [&](int64_t b, int64_t en, int) {
    for (int64_t q = b; q < en; ++q) {
      const PlanRequest& r = requests[items_[q].member];
      const PlanProblem& m = r.problem;
      MemberState& st = *states_[items_[q].member];
      const int act_dim = m.task->act_dim, horizon = m.cem.horizon;
      const uint32_t prefix = rng::PrefixKey(m.seed, rng::kStreamActions, r.inputs.step, it);
      for (int n = items_[q].begin; n < items_[q].end; ++n) {
        float* out = st.samples.data() + static_cast<int64_t>(n) * horizon * act_dim;
        for (int h = 0; h < horizon; ++h) {
          for (int a = 0; a < act_dim; ++a) {
            const int k = h * act_dim + a;
            out[k] =
                planner_math::SampleAction(st.mean[k], st.var[k], m.action_low[a], m.action_high[a],
                                           planner_math::SampleUniform(prefix, n, k));
          }
        }
      }
    }
  });
}

// Every candidate's particles through the model: (member, ensemble member, tile) items,
// dynamically scheduled over the threads; each item's returns land in row_returns.
void CemPlanner::RolloutReturns(const std::vector<PlanRequest>& requests, int it) {
  const int num_members = static_cast<int>(requests.size());
  const int tr = tile_rows_;
  items_.clear();
  for (int mi = 0; mi < num_members; ++mi) {
    const PlanProblem& m = requests[mi].problem;
    if (it >= m.cem.iterations) continue;
    const int rows = m.cem.population * (m.cem.particles / m.net.ensemble_size);
    // Equal tiles of at most tile_rows rows (2000 rows -> 4 x 500, not 3 x 512 + 464), and
    // at least kMinTilesPerMember per ensemble member (200 rows -> 100 + 100), so the
    // threads finish together; the split depends on rows and tile_rows only (never on
    // the thread count: plans are identical for any number of threads).
    const int num_tiles = std::min(rows, std::max(kMinTilesPerMember, (rows + tr - 1) / tr));
    const int base = rows / num_tiles, extra = rows % num_tiles;
    for (int e = 0; e < m.net.ensemble_size; ++e) {
      for (int q = 0, r0 = 0; q < num_tiles; ++q) {
        const int r1 = r0 + base + (q < extra ? 1 : 0);
        items_.push_back({mi, e, r0, r1});
        r0 = r1;
      }
    }
  }
  std::atomic<int64_t> next{0};
  const int64_t num_items = static_cast<int64_t>(items_.size());
  pool_->ParallelFor(pool_->num_threads(), [&](int64_t, int64_t, int thread) {
    Scratch& s = *scratch_[thread];
    for (int64_t q = next++; q < num_items; q = next++) {
      const WorkItem& item = items_[q];
      RolloutTile(requests[item.member], *states_[item.member], it, item.e, item.begin, item.end,
                  s);
    }
  });
}

// Per member (serial: small): candidates' mean returns, the elites, the refit mean and variance,
// and the trace.
void CemPlanner::RefitDistribution(const std::vector<PlanRequest>& requests, int it) {
  const int num_members = static_cast<int>(requests.size());
  for (int mi = 0; mi < num_members; ++mi) {
    const PlanProblem& m = requests[mi].problem;
    const PlanOutputs& out = requests[mi].outputs;
    if (it >= m.cem.iterations) continue;
    MemberState& st = *states_[mi];
    const int num = m.cem.population, ens = m.net.ensemble_size;
    const int per = m.cem.particles / ens, k_el = m.cem.num_elites;
    const int ha = m.cem.horizon * m.task->act_dim;
    for (int n = 0; n < num; ++n) {
      float sum = 0.0f;
      for (int e = 0; e < ens; ++e) {
        const float* r = st.row_returns.data() + (static_cast<int64_t>(e) * num + n) * per;
        for (int j = 0; j < per; ++j) sum += r[j];
      }
      st.returns[n] = planner_math::FiniteOrNegInf(sum / static_cast<float>(m.cem.particles));
    }
    std::iota(st.order.begin(), st.order.begin() + num, 0);
    const float* ret = st.returns.data();
    std::partial_sort(
        st.order.begin(), st.order.begin() + k_el, st.order.begin() + num,
        [ret](int32_t x, int32_t y) { return planner_math::RanksBefore(ret[x], x, ret[y], y); });
    const float alpha = m.cem.alpha;
    for (int q = 0; q < ha; ++q) {
      planner_math::RefitElement(st.samples.data(), st.order.data(), k_el, ha, q, alpha,
                                 &st.mean[q], &st.var[q]);
    }
    if (out.trace_returns)
      std::copy(ret, ret + num, out.trace_returns + static_cast<int64_t>(it) * num);
    if (out.trace_elites) {
      std::copy(st.order.begin(), st.order.begin() + k_el,
                out.trace_elites + static_cast<int64_t>(it) * k_el);
    }
    if (out.trace_means)
      std::copy(st.mean.begin(), st.mean.begin() + ha,
                out.trace_means + static_cast<int64_t>(it) * ha);
    if (out.trace_vars)
      std::copy(st.var.begin(), st.var.begin() + ha,
                out.trace_vars + static_cast<int64_t>(it) * ha);
  }
}

void CemPlanner::WriteMeans(const std::vector<PlanRequest>& requests) {
  const int num_members = static_cast<int>(requests.size());
  for (int mi = 0; mi < num_members; ++mi) {
    const PlanProblem& m = requests[mi].problem;
    const int ha = m.cem.horizon * m.task->act_dim;
    std::copy(states_[mi]->mean.begin(), states_[mi]->mean.begin() + ha, requests[mi].outputs.mean);
  }
}

}  // namespace mbrlhpo
