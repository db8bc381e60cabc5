// SampleCandidates and RefitAndSample through the host launch functions (the kernel bodies on the
// SIMT emulator, cuda/testing/emulator/plan_kernels_host.cpp) against a scalar reference written
// the way the CPU planner (csrc/src/cem_planner.cpp) does it, bit for bit, under the forward,
// reverse and shuffled schedules. The returns include ties, NaN and +-inf (the elite order's hard
// cases). (The Rollout body and the whole planner against CemPlanner: test_cuda_driver.)
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <vector>

#include "check.h"
#include "mbrlhpo/cuda/plan_kernels.h"
#include "mbrlhpo/planner_math.h"
#include "mbrlhpo/rng.h"

namespace {

namespace cu = mbrlhpo::cuda;
namespace pm = mbrlhpo::planner_math;
namespace rng = mbrlhpo::rng;

constexpr int kPop = 16, kH = 4, kA = 2, kP = 5, kE = 5, kK = 4, kIters = 2;
constexpr int kHA = kH * kA;

struct Buffers {
  std::vector<float> low{-1.0f, -2.0f}, high{1.0f, 0.5f};
  std::vector<float> mean = std::vector<float>(kHA), var = std::vector<float>(kHA);
  std::vector<float> candidates = std::vector<float>(kPop * kHA);
  std::vector<float> row_returns = std::vector<float>(kPop * kP),
                     returns = std::vector<float>(kPop);
  std::vector<int32_t> elites = std::vector<int32_t>(kK);
  std::vector<float> trace_returns = std::vector<float>(kIters * kPop);
  std::vector<int32_t> trace_elites = std::vector<int32_t>(kIters * kK);
};

cu::MemberArgs Member(Buffers& b) {
  cu::MemberArgs m;
  m.task = static_cast<int32_t>(cu::TaskId::kTestLinear);
  m.gemm = static_cast<int32_t>(cu::Gemm::kFloat32);
  m.ensemble_size = kE;
  m.num_layers = 1;
  m.layer_sizes[0] = 3;
  m.layer_sizes[1] = 4;
  m.obs_dim = 2;
  m.act_dim = kA;
  m.model_input_dim = 2;
  m.horizon = kH;
  m.population = kPop;
  m.num_elites = kK;
  m.iterations = kIters;
  m.particles = kP;
  m.alpha = 0.1f;
  m.seed = 1234567;
  m.step = 3;
  m.action_low = b.low.data();
  m.action_high = b.high.data();
  m.mean = b.mean.data();
  m.var = b.var.data();
  m.candidates = b.candidates.data();
  m.row_returns = b.row_returns.data();
  m.returns = b.returns.data();
  m.elites = b.elites.data();
  m.trace_returns = b.trace_returns.data();
  m.trace_elites = b.trace_elites.data();
  return m;
}

// Candidates of iteration `it` from (mean, var), as the CPU planner samples them.
void RefSample(Buffers& b, const cu::MemberArgs& m, int it) {
  const uint32_t prefix = rng::PrefixKey(m.seed, rng::kStreamActions, m.step, it);
  for (int n = 0; n < kPop; ++n) {
    for (int k = 0; k < kHA; ++k) {
      b.candidates[n * kHA + k] = pm::SampleAction(b.mean[k], b.var[k], b.low[k % kA],
                                                   b.high[k % kA], pm::SampleUniform(prefix, n, k));
    }
  }
}

void FillRowReturns(Buffers& b) {
  // rows e-major: row_returns[(e * kPop + n) * per + j], per = 1 here
  for (int i = 0; i < kPop * kP; ++i) b.row_returns[i] = static_cast<float>((i * 7) % 5) - 2.0f;
  b.row_returns[0 * kPop + 3] = NAN;        // candidate 3: NaN -> -inf, last
  b.row_returns[2 * kPop + 5] = INFINITY;   // candidate 5: +inf -> -inf
  b.row_returns[1 * kPop + 9] = -INFINITY;  // candidate 9: -inf
  for (int e = 0; e < kE; ++e) b.row_returns[e * kPop + 12] = 1.0f;  // ties with others
  for (int e = 0; e < kE; ++e) b.row_returns[e * kPop + 14] = 1.0f;
}

// Refit of iteration `it` as cem_planner.cpp does it, then the next iteration's candidates.
void RefRefit(Buffers& b, const cu::MemberArgs& m, int it) {
  const int per = kP / kE;
  for (int n = 0; n < kPop; ++n) {
    float sum = 0.0f;
    for (int e = 0; e < kE; ++e) {
      for (int j = 0; j < per; ++j) sum += b.row_returns[(e * kPop + n) * per + j];
    }
    b.returns[n] = pm::FiniteOrNegInf(sum / static_cast<float>(kP));
  }
  std::vector<int32_t> order(kPop);
  std::iota(order.begin(), order.end(), 0);
  const float* ret = b.returns.data();
  std::partial_sort(order.begin(), order.begin() + kK, order.end(),
                    [ret](int32_t x, int32_t y) { return pm::RanksBefore(ret[x], x, ret[y], y); });
  for (int q = 0; q < kHA; ++q) {
    pm::RefitElement(b.candidates.data(), order.data(), kK, kHA, q, m.alpha, &b.mean[q], &b.var[q]);
  }
  std::copy(order.begin(), order.begin() + kK, b.elites.begin());
  std::copy(ret, ret + kPop, b.trace_returns.begin() + it * kPop);
  std::copy(order.begin(), order.begin() + kK, b.trace_elites.begin() + it * kK);
  if (it + 1 < kIters) RefSample(b, m, it + 1);
}

bool SameBits(const std::vector<float>& x, const std::vector<float>& y) {
  return x.size() == y.size() && std::equal(x.begin(), x.end(), y.begin(), [](float a, float c) {
           return (std::isnan(a) && std::isnan(c)) || std::memcmp(&a, &c, sizeof a) == 0;
         });
}

TEST(SampleAndRefitEqualTheCpuOrderUnderThreeSchedules) {
  const cu::host::Order orders[] = {cu::host::Order::kForward, cu::host::Order::kReverse,
                                    cu::host::Order::kShuffled};
  for (cu::host::Order order : orders) {
    const cu::host::Schedule schedule{order, 42};
    Buffers got, want;
    for (int k = 0; k < kHA; ++k) got.mean[k] = want.mean[k] = 0.1f * static_cast<float>(k) - 0.3f;
    const cu::MemberArgs mg = Member(got), mw = Member(want);
    const cu::PlanLaunch launch{1, 1, kIters, &mg, &mg};
    // iteration 0: the driver wrote the warm start into mean; Sample sets var and candidates
    cu::host::LaunchSample(launch, 0, schedule);
    for (int k = 0; k < kHA; ++k)
      want.var[k] = pm::InitialVariance(want.low[k % kA], want.high[k % kA]);
    RefSample(want, mw, 0);
    CHECK(SameBits(got.var, want.var));
    CHECK(SameBits(got.candidates, want.candidates));
    for (int it = 0; it < kIters; ++it) {
      FillRowReturns(got);  // (the Rollout's output)
      FillRowReturns(want);
      cu::host::LaunchRefitAndSample(launch, it, schedule);
      RefRefit(want, mw, it);
      CHECK(SameBits(got.returns, want.returns));
      CHECK(got.elites == want.elites);
      CHECK(SameBits(got.mean, want.mean));
      CHECK(SameBits(got.var, want.var));
      CHECK(SameBits(got.candidates, want.candidates));
    }
    CHECK(SameBits(got.trace_returns, want.trace_returns));
    CHECK(got.trace_elites == want.trace_elites);
    // the hard cases really are in the data: NaN/+inf rows ranked last, ties by index
    CHECK(std::isinf(got.returns[3]) && got.returns[3] < 0.0f);
    CHECK(std::isinf(got.returns[5]) && got.returns[5] < 0.0f);
  }
}

}  // namespace

TEST(SharedMemoryNeedsAreCheckedAgainstTheDeviceLimit) {
  // What the device launcher asks of cudaFuncSetAttribute and checks against the device's
  // opt-in limit (cudaDevAttrMaxSharedMemoryPerBlockOptin): 227 KB on H100, 163 KB on A100.
  Buffers b;
  cu::MemberArgs m = Member(b);
  m.obs_dim = 18;
  m.num_layers = 3;
  const int sizes[] = {25, 200, 200, 36};
  for (int q = 0; q < 4; ++q) m.layer_sizes[q] = sizes[q];
  cu::PlanLaunch launch;
  launch.num_members = 1;
  launch.members = launch.host_members = &m;
  const size_t h100 = 227 * 1024, a100 = 163 * 1024;
  cu::kernels::LaunchShape s = cu::kernels::ShapeOf(launch);
  CHECK(s.rollout_smem == 109056);  // the paper shape: 4 x (2 x 64 x 204 + 64 x 18)
  CHECK(cu::kernels::SmemOverLimit(s, h100).kernel == nullptr);
  CHECK(cu::kernels::SmemOverLimit(s, a100).kernel == nullptr);
  m.layer_sizes[2] = 400;  // 4 x (2 x 64 x 404 + 64 x 18) = 211,456 bytes: H100 only
  s = cu::kernels::ShapeOf(launch);
  CHECK(cu::kernels::SmemOverLimit(s, h100).kernel == nullptr);
  const cu::kernels::SmemNeed need = cu::kernels::SmemOverLimit(s, a100);
  CHECK(need.kernel != nullptr && std::strcmp(need.kernel, "Rollout") == 0);
  CHECK(need.bytes == 211456);
  CHECK(cu::kernels::SmemOverLimit(s, 48 * 1024).bytes == 211456);
}

TEST_MAIN()
