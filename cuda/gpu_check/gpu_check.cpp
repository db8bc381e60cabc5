// gpu_check: the CUDA planner on a GPU in one program, in sections (scripts/gpu_check.sh runs
// each section as its own process through scripts/gpu_check_sections.py).
//   gpu_check [--dry-run] [--small] [--section NAME[,NAME...]] [--json PATH] [--list]
// Sections, in the order of value for a short device window (the default runs them all):
//   time_tf32_1, time_tf32_40, time_fp32_1  paper-setting timings (HalfCheetah shapes, E 5,
//       4 x 200, N 500, P 20, H 30, I 5; median of graph replays; TFLOP/s), 1 and 40 members;
//   parity_paper   CudaPlanner vs CemPlanner at the paper's widths (4 x 200, E 5: over 48 KB of
//       shared memory per block), TF32 and float32, each at both its block sizes (TF32 48 and
//       64 rows, float32 32 and 64);
//   plan_tiny      one tiny plan against the CPU planner (what compute-sanitizer runs);
//   conformance    every primitive the emulator models, the same probe bodies on the GPU and on
//       the emulator (tf32 rounding, mma.sync layout, shfl_xor, exp/swish/softplus, the TF32
//       path's fast swish (to a tolerance: MUFU bits are not the emulator's), the truncated
//       normal's ErfInv, the elite top-K against std::stable_sort);
//   parity_tasks   CudaPlanner vs CemPlanner on all six tasks, float32 and TF32;
//   time_fp32_40   the float32 population timing.
// --dry-run runs on the host launcher (the emulator) at small shapes: the harness itself is
// checked without a GPU. --small: small shapes only. --json PATH is rewritten after every
// section, so a killed run keeps what it measured. Exit codes: 0 all checks passed, 1 a check
// failed, 2 bad arguments, 77 no GPU (and not --dry-run).
#include <algorithm>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "host_launcher.h"
#include "mbrlhpo/cuda/cuda_planner.h"
#include "mbrlhpo/errors.h"
#include "plan_cases.h"
#include "probe_emulated.h"
#include "probe_runs.h"

#ifdef MBRLHPO_GPU_CHECK_DEVICE
#include "mbrlhpo/cuda/device.h"
#endif

namespace mc = mbrlhpo::cuda;
namespace cases = mbrlhpo::cuda::cases;

namespace {

struct Options {
  bool dry_run = false;
  bool small = false;
  std::string json;
};

std::unique_ptr<mc::Launcher> NewLauncher(const Options& opt) {
#ifdef MBRLHPO_GPU_CHECK_DEVICE
  if (!opt.dry_run) return mc::MakeDeviceLauncher(0);
#endif
  (void)opt;
  return mc::MakeHostLauncher();
}

// A launcher that reports another SM count than its own (everything else forwarded), so that the
// driver picks the other block size (kernels::ChooseTileRows): parity then covers both Rollout
// sizes of each gemm on the device (which reports 132 SMs) and on the emulator (0).
class SmCountLauncher final : public mc::Launcher {
 public:
  SmCountLauncher(std::unique_ptr<mc::Launcher> inner, int multiprocessors)
      : inner_(std::move(inner)), multiprocessors_(multiprocessors) {}
  const char* name() const override { return inner_->name(); }
  bool on_device() const override { return inner_->on_device(); }
  int multiprocessors() const override { return multiprocessors_; }
  void* Allocate(size_t bytes) override { return inner_->Allocate(bytes); }
  void Release(void* p) override { inner_->Release(p); }
  void* AllocateStaging(size_t bytes) override { return inner_->AllocateStaging(bytes); }
  void ReleaseStaging(void* p) override { inner_->ReleaseStaging(p); }
  void SetStream(void* s) override { inner_->SetStream(s); }
  void CopyIn(void* d, const void* s, size_t n) override { inner_->CopyIn(d, s, n); }
  void CopyOut(void* d, const void* s, size_t n) override { inner_->CopyOut(d, s, n); }
  void Run(const mc::PlanLaunch& launch) override { inner_->Run(launch); }
  void Finish() override { inner_->Finish(); }

 private:
  std::unique_ptr<mc::Launcher> inner_;
  int multiprocessors_;
};

// The launcher of a parity run: NewLauncher's, or one reporting `multiprocessors` (>= 0).
std::unique_ptr<mc::Launcher> ParityLauncher(const Options& opt, int multiprocessors) {
  std::unique_ptr<mc::Launcher> l = NewLauncher(opt);
  if (multiprocessors < 0) return l;
  return std::make_unique<SmCountLauncher>(std::move(l), multiprocessors);
}

struct Timing {
  std::string what;
  int members = 0;
  double ms = 0, gflop = 0;
};

// FLOPs of the MLP work of one plan (multiply-adds x 2), as CUDA.md counts the paper step.
double PlanGflop(const mbrlhpo::CemSettings& c, const std::vector<int>& sizes) {
  double per_row_step = 0;
  for (size_t l = 0; l + 1 < sizes.size(); ++l) per_row_step += 2.0 * sizes[l] * sizes[l + 1];
  return per_row_step * c.population * c.particles * c.horizon * c.iterations * 1e-9;
}

// The TF32 rollout's fast swish on the device (MUFU ex2 and rcp) against the emulator's (exp2f,
// 1 / x): ex2.approx and rcp.approx are each within ~2 ulp, so 8 leaves a margin; against the
// accurate Swish: the emulator's formula is within 2e-6 relative on [-30, 30] (measured, ctest
// FastSwishIsWithinItsBoundOfSwish), so 4e-6 holds the device to the same order. Both far
// below TF32's own rounding of every activation (2^-11 relative).
constexpr int kFastSwishUlps = 8;
constexpr double kFastSwishRel = 4e-6;

// Distance in units in the last place between two finite floats of the same sign region.
int64_t Ulps(float a, float b) {
  auto ordered = [](float f) {
    int32_t i;
    std::memcpy(&i, &f, 4);
    return i < 0 ? static_cast<int64_t>(INT32_MIN) - i : static_cast<int64_t>(i);
  };
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b) ? 0 : INT64_MAX;
  const int64_t d = ordered(a) - ordered(b);
  return d < 0 ? -d : d;
}

// Runs the probes on the target (the GPU; the emulator in a dry run) and checks them against the
// emulator and the host. Appends a JSON object per probe; returns whether all passed.
bool Conformance(const Options& opt, std::string* json) {
  namespace pr = mbrlhpo::cuda::probes;
  const bool on_gpu = !opt.dry_run;
  auto target_tf32 = pr::emulated::Tf32;
  auto target_mma = pr::emulated::Mma;
  auto target_shfl = pr::emulated::Shfl;
  auto target_math = pr::emulated::Math;
  auto target_topk = pr::emulated::TopK;
#ifdef MBRLHPO_GPU_CHECK_DEVICE
  if (on_gpu) {
    target_topk = pr::device::TopK;
    target_tf32 = pr::device::Tf32;
    target_mma = pr::device::Mma;
    target_shfl = pr::device::Shfl;
    target_math = pr::device::Math;
  }
#endif
  std::printf("== conformance: %s vs emulator / host\n", on_gpu ? "GPU" : "emulator (dry run)");
  std::mt19937 gen(2026);
  std::uniform_real_distribution<float> uni(-4.0f, 4.0f);
  bool ok = true;
  char buf[400];
  auto record = [&](const char* name, bool pass, const char* detail) {
    std::printf("  %-18s %s  %s\n", name, pass ? "ok  " : "FAIL", detail);
    std::snprintf(buf, sizeof(buf), "%s{\"probe\": \"%s\", \"pass\": %s, \"detail\": \"%s\"}",
                  json->empty() ? "" : ", ", name, pass ? "true" : "false", detail);
    *json += buf;
    ok = ok && pass;
  };
  // tf32: random finite values, a quarter of them exact ties (low 13 bits 0x1000)
  const int n = opt.small ? 4096 : (1 << 20);
  std::vector<float> x(n);
  for (int i = 0; i < n; ++i) {
    x[i] = uni(gen) * std::ldexp(1.0f, static_cast<int>(gen() % 40) - 20);
    if (i % 4 == 0) {
      uint32_t u;
      std::memcpy(&u, &x[i], 4);
      u = (u & ~0x1FFFu) | 0x1000u;
      std::memcpy(&x[i], &u, 4);
    }
  }
  std::vector<uint32_t> t_gpu;
  target_tf32(x, &t_gpu);
  int64_t tf32_bad = 0;
  for (int i = 0; i < n; ++i) tf32_bad += t_gpu[i] != mbrlhpo::simt::Tf32Bits(x[i]);
  std::snprintf(buf, sizeof(buf), "%d inputs (1/4 ties), %lld differ from Tf32Bits", n,
                static_cast<long long>(tf32_bad));
  std::string detail = buf;
  record("tf32_rounding", tf32_bad == 0, detail.c_str());
  // mma: random warps; a layout error gives O(1) differences, accumulation order ~1e-7
  const int trials = opt.small ? 64 : 4096;
  std::vector<float> a(trials * 128), b(trials * 64), c(trials * 128), d_gpu, d_emu;
  for (float& v : a) v = uni(gen);
  for (float& v : b) v = uni(gen);
  for (float& v : c) v = uni(gen);
  target_mma(a, b, c, &d_gpu);
  pr::emulated::Mma(a, b, c, &d_emu);
  double mma_rel = 0;
  int64_t mma_equal = 0;
  for (size_t i = 0; i < d_emu.size(); ++i) {
    mma_equal += d_gpu[i] == d_emu[i];
    // magnitude of the dot product: sum |a||b| over k plus |c|, bounded by 8 * 16 + 4
    mma_rel = std::max(mma_rel, std::fabs(static_cast<double>(d_gpu[i]) - d_emu[i]) / 132.0);
  }
  std::snprintf(buf, sizeof(buf), "%d warps, %.2f%% bit-equal, max |diff|/scale %.2e", trials,
                100.0 * mma_equal / d_emu.size(), mma_rel);
  detail = buf;
  record("mma_m16n8k8_tf32", mma_rel <= 1e-5 && std::isfinite(mma_rel), detail.c_str());
  // shfl_xor butterfly: bit-equal
  std::vector<float> sh(opt.small ? 64 * 32 : 4096 * 32), s_gpu, s_emu;
  for (float& v : sh) v = uni(gen);
  target_shfl(sh, &s_gpu);
  pr::emulated::Shfl(sh, &s_emu);
  int64_t shfl_bad = 0;
  for (size_t i = 0; i < s_emu.size(); ++i) shfl_bad += std::memcmp(&s_gpu[i], &s_emu[i], 4) != 0;
  std::snprintf(buf, sizeof(buf), "%zu partials, %lld differ", s_emu.size(),
                static_cast<long long>(shfl_bad));
  detail = buf;
  record("shfl_xor", shfl_bad == 0, detail.c_str());
  // device math against the host functions the CPU planner and the emulator use
  std::vector<float> mx(n), mu(n);
  std::uniform_real_distribution<float> wide(-30.0f, 30.0f);
  for (int i = 0; i < n; ++i) {
    mx[i] = wide(gen);
    mu[i] = mbrlhpo::rng::Uniform(static_cast<uint32_t>(gen()));
  }
  pr::MathOut m_gpu;
  target_math(mx, mu, &m_gpu);
  int64_t exp_ulp = 0, swish_ulp = 0, softplus_ulp = 0, tn_exact = 0, fast_ulp = 0;
  double tn_diff = 0, fast_rel = 0;
  for (int i = 0; i < n; ++i) {
    exp_ulp = std::max(exp_ulp, Ulps(m_gpu.exp[i], std::exp(mx[i])));
    swish_ulp = std::max(swish_ulp, Ulps(m_gpu.swish[i], mbrlhpo::planner_math::Swish(mx[i])));
    softplus_ulp =
        std::max(softplus_ulp, Ulps(m_gpu.softplus[i], mbrlhpo::planner_math::Softplus(mx[i])));
    // the fast swish: against the emulator's formula (MUFU approximations vs exp2f and 1 / x)
    // and, relative, against the accurate Swish (inputs in [-30, 30]: no denormal results)
    fast_ulp =
        std::max(fast_ulp, Ulps(m_gpu.fast_swish[i], mbrlhpo::planner_math::FastSwish(mx[i])));
    const double exact = mbrlhpo::planner_math::Swish(mx[i]);
    if (exact != 0) {
      fast_rel = std::max(fast_rel, std::fabs(m_gpu.fast_swish[i] - exact) / std::fabs(exact));
    }
    const float tn = static_cast<float>(mbrlhpo::rng::TruncatedNormalFromUniform(mu[i]));
    tn_exact += m_gpu.truncated_normal[i] == tn;
    tn_diff = std::max(tn_diff, std::fabs(static_cast<double>(m_gpu.truncated_normal[i]) - tn));
  }
  std::snprintf(buf, sizeof(buf), "max ulp vs host: exp %lld, swish %lld, softplus %lld (bound 8)",
                static_cast<long long>(exp_ulp), static_cast<long long>(swish_ulp),
                static_cast<long long>(softplus_ulp));
  detail = buf;
  record("exp_swish_softplus", exp_ulp <= 8 && swish_ulp <= 8 && softplus_ulp <= 8, detail.c_str());
  // docs/planner.md "Fast swish": the emulator's FastSwish is within 2e-6 of Swish on [-30, 30]
  std::snprintf(buf, sizeof(buf),
                "max ulp vs the emulator's FastSwish %lld (bound %d), max rel vs Swish %.2e "
                "(bound %.0e)",
                static_cast<long long>(fast_ulp), kFastSwishUlps, fast_rel, kFastSwishRel);
  detail = buf;
  record("fast_swish", fast_ulp <= kFastSwishUlps && fast_rel <= kFastSwishRel, detail.c_str());
  std::snprintf(buf, sizeof(buf), "%.4f%% bit-equal to the host, max |diff| %.2e (bound 1e-6)",
                100.0 * tn_exact / n, tn_diff);
  detail = buf;
  record("truncated_normal", tn_diff <= 1e-6, detail.c_str());
  // top-K: the refit kernel's sort on returns with heavy ties, NaN, +-inf and -0, against the
  // CPU planner's order computed independently (std::stable_sort, larger first, non-finite as
  // -inf) and against the emulator; populations 2, 37 (padding), 500 (paper) and 4096 (the limit)
  struct TopKCase {
    int num, k, trials;
  };
  const TopKCase topk_cases[] = {{2, 2, 8},
                                 {37, 37, opt.small ? 4 : 32},
                                 {500, 50, opt.small ? 4 : 64},
                                 {4096, 410, opt.small ? 1 : 4}};
  int64_t topk_trials = 0, topk_ref_bad = 0, topk_emu_bad = 0;
  const float specials[] = {NAN, INFINITY, -INFINITY, -0.0f, 0.0f};
  for (const TopKCase& tc : topk_cases) {
    std::vector<float> ret(static_cast<size_t>(tc.trials) * tc.num);
    for (float& v : ret) {
      const uint32_t r = gen() % 16;
      // half the returns tie on 1, 2, 3 or 4 (the top of the range, so the elites hold ties)
      v = r == 0 ? specials[gen() % 5] : (r < 8 ? static_cast<float>(1 + gen() % 4) : uni(gen));
    }
    std::vector<int32_t> got, emu;
    target_topk(ret, tc.num, tc.k, &got);
    pr::emulated::TopK(ret, tc.num, tc.k, &emu);
    for (int t = 0; t < tc.trials; ++t) {
      const float* r = ret.data() + static_cast<size_t>(t) * tc.num;
      auto val = [&](int i) { return std::isfinite(r[i]) ? r[i] : -INFINITY; };
      std::vector<int32_t> want(tc.num);
      for (int i = 0; i < tc.num; ++i) want[i] = i;
      std::stable_sort(want.begin(), want.end(), [&](int a, int b) { return val(a) > val(b); });
      const int32_t* g = got.data() + static_cast<size_t>(t) * tc.k;
      const int32_t* e = emu.data() + static_cast<size_t>(t) * tc.k;
      topk_ref_bad += !std::equal(g, g + tc.k, want.begin());
      topk_emu_bad += !std::equal(g, g + tc.k, e);
      ++topk_trials;
    }
  }
  std::snprintf(buf, sizeof(buf),
                "%lld trials (N 2/37/500/4096; ties, NaN, +-inf, -0): %lld elite lists differ "
                "from std::stable_sort, %lld from the emulator",
                static_cast<long long>(topk_trials), static_cast<long long>(topk_ref_bad),
                static_cast<long long>(topk_emu_bad));
  detail = buf;
  record("top_k", topk_ref_bad == 0 && topk_emu_bad == 0, detail.c_str());
  return ok;
}

Timing TimePlans(const Options& opt, const mbrlhpo::CemSettings& cem,
                 const std::vector<int>& hidden, int ensemble, int members, mc::Gemm gemm,
                 int reps) {
  mc::CudaPlanner planner(NewLauncher(opt));
  const auto& task = mbrlhpo::FindPlannerTask("halfcheetah");
  auto& launcher = const_cast<mc::Launcher&>(planner.launcher());
  std::vector<std::unique_ptr<cases::RandomModel>> models;
  std::vector<std::unique_ptr<cases::Problem>> problems;
  std::vector<mc::CudaPlanRequest> batch;
  for (int i = 0; i < members; ++i) {
    models.push_back(std::make_unique<cases::RandomModel>(task, ensemble, hidden, 100 + i));
    problems.push_back(std::make_unique<cases::Problem>(task, cem, i, i));
    batch.push_back(mc::CudaPlanRequest{
        problems.back()->Request(models.back()->DeviceView(launcher), false), gemm});
  }
  std::vector<double> ms;
  for (int r = 0; r < reps + 2; ++r) {  // two warm-ups (the first captures the graph)
    for (auto& m : batch) ++m.request.inputs.step;
    const auto t0 = std::chrono::steady_clock::now();
    planner.Plan(batch);
    const auto t1 = std::chrono::steady_clock::now();
    if (r >= 2) ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  Timing t;
  t.members = members;
  t.ms = ms[ms.size() / 2];
  t.gflop = members * PlanGflop(cem, models[0]->sizes);
  models.clear();  // release launcher memory before the planner goes
  return t;
}

// A plan of the CUDA planner against the CPU planner; appends one JSON result. multiprocessors
// >= 0: the SM count the driver is told (to pick the other TF32 block size), else the launcher's.
bool Parity(const Options& opt, const char* name, const std::vector<int>& hidden, int ensemble,
            const mbrlhpo::CemSettings& cem, mc::Gemm gemm, int steps, std::string* json,
            int multiprocessors = -1) {
  const bool f32 = gemm == mc::Gemm::kFloat32;
  // TF32 (10-bit mantissa, float32 accumulation) moves returns by ~1e-3 relative; a near-tie
  // elite swap is then expected, a wrong elite list is not.
  const double tol = f32 ? 1e-4 : 3e-3;
  mbrlhpo::CemPlanner cpu(0);
  mc::CudaPlanner planner(ParityLauncher(opt, multiprocessors));
  const int sms = planner.launcher().multiprocessors();
  const auto& task = mbrlhpo::FindPlannerTask(name);
  cases::RandomModel model(task, ensemble, hidden, 3);
  const cases::Diff d = cases::CompareSteps(planner, cpu, model, task, cem, gemm, steps, 17, tol);
  const bool pass = cases::Within(d, tol);
  const std::string label =
      std::string(name) + (f32 ? " float32" : " tf32") + " (" + std::to_string(sms) + " SMs)";
  cases::Print(label.c_str(), d);
  std::string widths;
  for (int h : hidden) widths += (widths.empty() ? "" : "x") + std::to_string(h);
  char buf[400];
  std::snprintf(buf, sizeof(buf),
                "%s{\"task\": \"%s\", \"gemm\": \"%s\", \"hidden\": \"%s\", \"ensemble\": %d, "
                "\"population\": %d, \"horizon\": %d, \"returns_rel\": %.3g, "
                "\"elite_mismatch\": %d, \"elite_not_near_tie\": %d, \"action_rel\": %.3g, "
                "\"multiprocessors\": %d, \"pass\": %s}",
                json->empty() ? "" : ", ", name, f32 ? "float32" : "tf32", widths.c_str(), ensemble,
                cem.population, cem.horizon, d.returns_rel, d.elite_mismatch, d.elite_not_near_tie,
                d.action_rel, sms, pass ? "true" : "false");
  *json += buf;
  return pass;
}

// One timing row (paper setting on the GPU; tiny shapes otherwise, not a speed measurement).
bool Time(const Options& opt, int paper_members, mc::Gemm gemm, std::string* json) {
  const bool paper = !opt.small && !opt.dry_run;
  const mbrlhpo::CemSettings timed = paper ? mbrlhpo::CemSettings{30, 500, 50, 5, 0.1f, 20}
                                           : mbrlhpo::CemSettings{4, 20, 4, 2, 0.1f, 5};
  const std::vector<int> width =
      paper ? std::vector<int>{200, 200, 200, 200} : std::vector<int>{16, 16};
  const int members = paper ? paper_members : std::min(paper_members, 3);
  const int reps = paper ? (members > 1 ? 7 : 20) : 2;
  const char* g = gemm == mc::Gemm::kTf32 ? "tf32" : "float32";
  const Timing t = TimePlans(opt, timed, width, 5, members, gemm, reps);
  std::printf("  %2d member(s) %-8s %10.3f ms  %8.1f GFLOP  %7.2f TFLOP/s  (%s, median of %d)\n",
              members, g, t.ms, t.gflop, t.gflop / t.ms,
              paper ? "paper setting" : "tiny shapes, not a speed measurement", reps);
  char buf[300];
  std::snprintf(buf, sizeof(buf),
                "{\"members\": %d, \"gemm\": \"%s\", \"paper_setting\": %s, \"ms\": %.4f, "
                "\"gflop\": %.2f, \"tflops\": %.3f, \"reps\": %d}",
                members, g, paper ? "true" : "false", t.ms, t.gflop, t.gflop / t.ms, reps);
  *json += buf;
  return std::isfinite(t.ms) && t.ms > 0;
}

struct Section {
  const char* name;
  std::function<bool(const Options&, std::string*)> run;
};

// The sections in the order of value for a short device window (CUDA.md 5.4, issue 23 part 4).
std::vector<Section> Sections() {
  return {
      {"time_tf32_1",
       [](const Options& o, std::string* j) { return Time(o, 1, mc::Gemm::kTf32, j); }},
      {"time_tf32_40",
       [](const Options& o, std::string* j) { return Time(o, 40, mc::Gemm::kTf32, j); }},
      {"time_fp32_1",
       [](const Options& o, std::string* j) { return Time(o, 1, mc::Gemm::kFloat32, j); }},
      {"parity_paper",
       [](const Options& o, std::string* j) {
         const bool small = o.small || o.dry_run;
         const std::vector<int> hidden =
             small ? std::vector<int>{32, 32} : std::vector<int>{200, 200, 200, 200};
         const mbrlhpo::CemSettings cem = small ? mbrlhpo::CemSettings{3, 16, 4, 2, 0.1f, 4}
                                                : mbrlhpo::CemSettings{15, 200, 20, 3, 0.1f, 20};
         const int ensemble = small ? 2 : 5;
         // each gemm at both block sizes: the device's 132 SMs pick the small one for this
         // shape (TF32 48 rows, float32 32) and a count of 0 the 64-row one; the emulator knows
         // no SM count (64 rows) and is told an H100's for the small one
         const int other = o.dry_run ? 132 : 0;
         bool ok = true;
         for (mc::Gemm gemm : {mc::Gemm::kTf32, mc::Gemm::kFloat32}) {
           ok = Parity(o, "halfcheetah", hidden, ensemble, cem, gemm, 2, j) && ok;
           ok = Parity(o, "halfcheetah", hidden, ensemble, cem, gemm, 2, j, other) && ok;
         }
         return ok;
       }},
      {"plan_tiny",
       [](const Options& o, std::string* j) {
         const mbrlhpo::CemSettings cem{3, 16, 4, 2, 0.1f, 2};
         bool ok = Parity(o, "halfcheetah", {16}, 2, cem, mc::Gemm::kTf32, 1, j);
         return Parity(o, "halfcheetah", {16}, 2, cem, mc::Gemm::kFloat32, 1, j) && ok;
       }},
      {"conformance", [](const Options& o, std::string* j) { return Conformance(o, j); }},
      {"parity_tasks",
       [](const Options& o, std::string* j) {
         const bool small = o.small || o.dry_run;
         const mbrlhpo::CemSettings cem = small ? mbrlhpo::CemSettings{3, 16, 4, 2, 0.1f, 2}
                                                : mbrlhpo::CemSettings{6, 64, 8, 3, 0.1f, 4};
         const std::vector<int> hidden = small ? std::vector<int>{16} : std::vector<int>{40, 40};
         bool ok = true;
         for (const char* name :
              {"cartpole", "reacher", "pusher", "hopper", "halfcheetah", "hexapod"}) {
           for (mc::Gemm gemm : {mc::Gemm::kFloat32, mc::Gemm::kTf32}) {
             ok = Parity(o, name, hidden, 2, cem, gemm, 2, j) && ok;
           }
         }
         return ok;
       }},
      {"time_fp32_40",
       [](const Options& o, std::string* j) { return Time(o, 40, mc::Gemm::kFloat32, j); }},
  };
}

// Writes the JSON to a temporary file and renames it over PATH: a reader (or a kill) never sees
// half a file.
void WriteJson(const std::string& path, const std::string& text) {
  if (path.empty()) return;
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp);
    f << text;
  }
  std::rename(tmp.c_str(), path.c_str());
}

int Usage() {
  std::fprintf(stderr,
               "usage: gpu_check [--dry-run] [--small] [--section NAME[,NAME...]] [--json PATH] "
               "[--list]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // line-buffered into a pipe: a kill loses no line
  Options opt;
  std::vector<std::string> wanted;
  const std::vector<Section> sections = Sections();
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--dry-run") {
      opt.dry_run = true;
    } else if (a == "--small") {
      opt.small = true;
    } else if (a == "--json" && i + 1 < argc) {
      opt.json = argv[++i];
    } else if (a == "--section" && i + 1 < argc) {
      std::string list = argv[++i];
      for (size_t at = 0; at <= list.size();) {
        const size_t comma = std::min(list.find(',', at), list.size());
        wanted.push_back(list.substr(at, comma - at));
        at = comma + 1;
      }
    } else if (a == "--list") {
      for (const Section& s : sections) std::printf("%s\n", s.name);
      return 0;
    } else {
      return Usage();
    }
  }
  for (const std::string& w : wanted) {
    const bool known = std::any_of(sections.begin(), sections.end(),
                                   [&](const Section& s) { return w == s.name; });
    if (!known) {
      std::fprintf(stderr, "gpu_check: unknown section '%s' (gpu_check --list names them)\n",
                   w.c_str());
      return 2;
    }
  }
  std::string device = "host launcher (emulator)";
#ifdef MBRLHPO_GPU_CHECK_DEVICE
  if (!opt.dry_run && mc::DeviceCount() == 0) {
    std::printf("gpu_check: no CUDA device: skipped (exit 77)\n");
    return 77;
  }
  if (!opt.dry_run) {
    device = mc::DeviceDescription(0);
    std::printf("device: %s\n", device.c_str());
  }
#else
  if (!opt.dry_run) {
    std::printf("gpu_check: built without CUDA: only --dry-run is possible (exit 77)\n");
    return 77;
  }
#endif
  for (char& c : device) c = c == '"' || c == '\\' ? '\'' : c;
  bool ok = true;
  std::string done;  // the finished sections' JSON objects
  auto document = [&](bool complete) {
    return "{\n  \"dry_run\": " + std::string(opt.dry_run ? "true" : "false") +
           ",\n  \"small\": " + (opt.small ? "true" : "false") + ",\n  \"device\": \"" + device +
           "\",\n  \"complete\": " + (complete ? "true" : "false") + ",\n  \"sections\": [" + done +
           "\n  ],\n  \"pass\": " + (ok ? "true" : "false") + "\n}\n";
  };
  for (const Section& s : sections) {
    if (!wanted.empty() && std::find(wanted.begin(), wanted.end(), s.name) == wanted.end()) {
      continue;
    }
    std::printf("== %s (%s)\n", s.name, opt.dry_run ? "host launcher, dry run" : "GPU");
    const auto t0 = std::chrono::steady_clock::now();
    std::string results;
    bool pass = false;
    std::string error;
    try {
      pass = s.run(opt, &results);
    } catch (const std::exception& e) {
      error = e.what();
      for (char& c : error) c = c == '"' || c == '\\' || c == '\n' ? '\'' : c;
      std::printf("gpu_check: %s: error: %s\n", s.name, e.what());
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ok = ok && pass;
    std::printf("-- %s: %s in %.1f s\n", s.name, pass ? "passed" : "FAILED", seconds);
    char buf[160];
    std::snprintf(buf, sizeof(buf), "%s\n    {\"section\": \"%s\", \"pass\": %s, \"seconds\": %.2f",
                  done.empty() ? "" : ",", s.name, pass ? "true" : "false", seconds);
    done += buf;
    if (!error.empty()) done += ", \"error\": \"" + error + "\"";
    done += ", \"results\": [" + results + "]}";
    WriteJson(opt.json, document(false));
  }
  WriteJson(opt.json, document(true));
  std::printf("gpu_check: %s\n", ok ? "all checks passed" : "FAILED");
  return ok ? 0 : 1;
}
