// The CUDA planner's driver on the host launcher (no GPU): the whole planner against the CPU
// CemPlanner on all six tasks, populations against single calls, buffer reuse, NaN, and the
// validation messages.
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "check.h"
#include "host_launcher.h"
#include "mbrlhpo/cuda/cuda_planner.h"
#include "plan_cases.h"

using mbrlhpo::CemPlanner;
using mbrlhpo::CemSettings;
using mbrlhpo::FindPlannerTask;
using mbrlhpo::cuda::CudaPlanner;
using mbrlhpo::cuda::CudaPlanRequest;
using mbrlhpo::cuda::Gemm;
using mbrlhpo::cuda::MakeHostLauncher;
namespace cases = mbrlhpo::cuda::cases;

namespace {

// Small shapes: hidden 16 and 12 (partial tiles), N 24, H 4, P 4, K 5, 3 iterations.
const CemSettings kSmall{4, 24, 5, 3, 0.1f, 4};

// The host launchers to test: the scalar reference always; the emulated kernels under three
// thread schedules where this build has them.
struct LauncherKind {
  std::string name;
  std::function<std::unique_ptr<mbrlhpo::cuda::Launcher>()> make;
};

std::vector<LauncherKind> HostLaunchers() {
  using mbrlhpo::cuda::HostKernels;
  using mbrlhpo::cuda::host::Order;
  std::vector<LauncherKind> kinds{
      {"reference", [] { return MakeHostLauncher(HostKernels::kReference); }}};
  const char* names[] = {"emulator/forward", "emulator/reverse", "emulator/shuffled"};
  for (Order order : {Order::kForward, Order::kReverse, Order::kShuffled}) {
    kinds.push_back({names[static_cast<int>(order)],
                     [order] { return MakeHostLauncher(HostKernels::kEmulator, {order, 42}); }});
  }
  return kinds;
}

bool ThrowsWith(const std::function<void()>& fn, const std::string& text) {
  try {
    fn();
  } catch (const std::exception& e) {
    if (std::string(e.what()).find(text) != std::string::npos) return true;
    std::printf("  message was: %s\n", e.what());
    return false;
  }
  std::printf("  nothing thrown (expected '%s')\n", text.c_str());
  return false;
}

}  // namespace

TEST(host_launcher_plans_equal_the_cpu_planner_on_all_six_tasks) {
  CemPlanner cpu(2);
  for (const LauncherKind& kind : HostLaunchers()) {
    for (const char* name : {"cartpole", "reacher", "pusher", "hopper", "halfcheetah", "hexapod"}) {
      for (Gemm gemm : {Gemm::kFloat32, Gemm::kTf32}) {
        // float32: the stated tolerance 1e-4; TF32 (emulated rounding): 3e-3 (docs/planner.md)
        const double tol = gemm == Gemm::kFloat32 ? 1e-4 : 3e-3;
        CudaPlanner planner(kind.make());
        const auto& task = FindPlannerTask(name);
        cases::RandomModel model(task, 2, {16, 12}, 7);
        const cases::Diff d =
            cases::CompareSteps(planner, cpu, model, task, kSmall, gemm, 2, 11, tol);
        const std::string label = kind.name + " " + name + (gemm == Gemm::kTf32 ? " tf32" : "");
        cases::Print(label.c_str(), d);
        CHECK(cases::Within(d, tol));
        if (gemm == Gemm::kFloat32) CHECK(d.mean_abs <= 1e-4);
        CHECK(planner.num_setups() == 1);  // step 2 reused the buffers (on a GPU, the graph)
      }
    }
  }
}

TEST(paper_width_layers_plan_as_the_cpu_planner_and_follow_weight_updates) {
  // The paper's model shape: E = 5, 3 x 200 hidden (halfcheetah: 25 -> 200 -> 200 -> 200 -> 36),
  // so the rollout's blocks use 109,056 bytes of shared memory (> 48 KB), 200-wide layers take
  // 25 n-tiles (passes of 4 + 3 and 4 + 2 per warp) and 25 k steps (the k-loop unrolled by 4 and
  // its remainder). Population 16, P 5, H 2, I 2: one 64-row tile per model, seconds here.
  const auto& task = FindPlannerTask("halfcheetah");
  const CemSettings cem{2, 16, 4, 2, 0.1f, 5};
  CemPlanner cpu(2);
  for (Gemm gemm : {Gemm::kTf32, Gemm::kFloat32}) {
    const double tol = gemm == Gemm::kFloat32 ? 1e-4 : 3e-3;
    using mbrlhpo::cuda::HostKernels;
    CudaPlanner planner(
        MakeHostLauncher(HostKernels::kEmulator, {mbrlhpo::cuda::host::Order::kShuffled, 7}));
    cases::RandomModel model(task, 5, {200, 200, 200}, 21);
    cases::Diff d = cases::CompareSteps(planner, cpu, model, task, cem, gemm, 1, 5, tol);
    cases::Print(gemm == Gemm::kTf32 ? "paper width tf32" : "paper width float32", d);
    CHECK(cases::Within(d, tol));
    if (gemm == Gemm::kFloat32) continue;  // reads the weights in place (and takes longest here)
    // Trained in place (same pointers, same shape: no new set-up, on a GPU the same graph): the
    // next plan must read the new weights, packed again.
    for (auto& layer : model.w) {
      for (float& v : layer) v = -v;
    }
    d = cases::CompareSteps(planner, cpu, model, task, cem, gemm, 1, 6, tol);
    cases::Print("  after an update, tf32", d);
    CHECK(cases::Within(d, tol));
    CHECK(planner.num_setups() == 1);
  }
}

namespace {

// The driver picks each gemm's rollout rows per block from the SM count (ChooseTileRows): on 132
// SMs (an H100) a small plan (60 rows per model: a full and a partial tile) takes the gemm's
// smaller blocks (TF32 48, float32 32), where the SM count is unknown (0) 64-row ones. A row's
// arithmetic does not depend on the block, so both plan bit for bit alike, and like the CPU
// planner within the gemm's tolerance.
void SmallBlocksPlanBitForBitAsLarge(Gemm gemm, int small_rows, double tol) {
  namespace mk = mbrlhpo::cuda::kernels;
  using mbrlhpo::cuda::HostKernels;
  using mbrlhpo::cuda::host::Order;
  const auto& task = FindPlannerTask("hopper");
  const CemSettings cem{4, 30, 5, 3, 0.1f, 4};  // 30 x 4 / 2 = 60 rows per model
  mbrlhpo::cuda::MemberArgs shape;
  shape.gemm = static_cast<int32_t>(gemm);
  shape.ensemble_size = 2;
  shape.population = cem.population;
  shape.particles = cem.particles;
  CHECK(mk::ChooseTileRows(&shape, 1, 132, gemm) == small_rows);
  CHECK(mk::ChooseTileRows(&shape, 1, 0, gemm) == 64);
  // members of the other gemm do not count: their blocks run in the other launch
  const Gemm other = gemm == Gemm::kTf32 ? Gemm::kFloat32 : Gemm::kTf32;
  CHECK(mk::ChooseTileRows(&shape, 1, 132, other) == 64);
  // the paper step (E 5, 2,000 rows per model): one member small blocks, forty members 64
  shape.ensemble_size = 5;
  shape.population = 500;
  shape.particles = 20;
  CHECK(mk::ChooseTileRows(&shape, 1, 132, gemm) == small_rows);
  const std::vector<mbrlhpo::cuda::MemberArgs> forty(40, shape);
  CHECK(mk::ChooseTileRows(forty.data(), 40, 132, gemm) == 64);
  CudaPlanner small(MakeHostLauncher(HostKernels::kEmulator, {Order::kShuffled, 3}, 132));
  CudaPlanner large(MakeHostLauncher(HostKernels::kEmulator, {Order::kReverse, 0}));
  cases::RandomModel ms(task, 2, {16, 12}, 9), ml(task, 2, {16, 12}, 9);
  cases::Problem ps(task, cem, 4, 2), pl(task, cem, 4, 2);
  for (int step = 0; step < 2; ++step) {
    auto& ls = const_cast<mbrlhpo::cuda::Launcher&>(small.launcher());
    auto& ll = const_cast<mbrlhpo::cuda::Launcher&>(large.launcher());
    small.Plan({CudaPlanRequest{ps.Request(ms.DeviceView(ls), true), gemm}});
    large.Plan({CudaPlanRequest{pl.Request(ml.DeviceView(ll), true), gemm}});
    CHECK(ps.tr_returns == pl.tr_returns);
    CHECK(ps.tr_elites == pl.tr_elites);
    CHECK(ps.out_mean == pl.out_mean);
    ps.Advance();
    pl.Advance();
  }
  CemPlanner cpu(2);
  CudaPlanner again(MakeHostLauncher(HostKernels::kEmulator, {Order::kForward, 0}, 132));
  cases::RandomModel mc(task, 2, {16, 12}, 9);
  const cases::Diff d = cases::CompareSteps(again, cpu, mc, task, cem, gemm, 2, 4, tol);
  cases::Print(gemm == Gemm::kTf32 ? "48-row blocks tf32" : "32-row blocks float32", d);
  CHECK(cases::Within(d, tol));
}

}  // namespace

TEST(tf32_48_row_blocks_plan_bit_for_bit_as_64_row_blocks) {
  SmallBlocksPlanBitForBitAsLarge(Gemm::kTf32, 48, 3e-3);
}

TEST(float32_32_row_blocks_plan_bit_for_bit_as_64_row_blocks) {
  SmallBlocksPlanBitForBitAsLarge(Gemm::kFloat32, 32, 1e-4);
}

TEST(a_population_equals_single_calls) {
  const auto& task = FindPlannerTask("halfcheetah");
  // planners first: the models' launcher memory is released before the launchers go
  CudaPlanner solo(MakeHostLauncher()), team(MakeHostLauncher());  // emulated where built
  cases::RandomModel m1(task, 2, {16}, 1), m2(task, 2, {12, 12}, 2);
  const CemSettings c2{3, 16, 4, 2, 0.2f, 2};
  const CemSettings c3{5, 20, 2, 1, 0.0f, 6};
  struct Spec {
    cases::RandomModel* model;
    CemSettings cem;
    uint64_t seed;
  };
  const std::vector<Spec> specs{{&m1, kSmall, 1}, {&m2, c2, 2}, {&m1, c3, 3}};
  std::vector<std::unique_ptr<cases::Problem>> one, all;
  for (size_t i = 0; i < specs.size(); ++i) {
    one.push_back(std::make_unique<cases::Problem>(task, specs[i].cem, specs[i].seed, 5 + i));
    all.push_back(std::make_unique<cases::Problem>(task, specs[i].cem, specs[i].seed, 5 + i));
  }
  // separate device copies per planner (each launcher owns its memory)
  cases::RandomModel m1b(task, 2, {16}, 1), m2b(task, 2, {12, 12}, 2);
  cases::RandomModel* team_models[] = {&m1b, &m2b, &m1b};
  for (int step = 0; step < 2; ++step) {  // the second step runs from the warm starts
    for (size_t i = 0; i < specs.size(); ++i) {
      auto& launcher = const_cast<mbrlhpo::cuda::Launcher&>(solo.launcher());
      std::vector<CudaPlanRequest> single{CudaPlanRequest{
          one[i]->Request(specs[i].model->DeviceView(launcher), true), Gemm::kTf32}};
      solo.Plan(single);
    }
    std::vector<CudaPlanRequest> population;
    auto& launcher = const_cast<mbrlhpo::cuda::Launcher&>(team.launcher());
    for (size_t i = 0; i < specs.size(); ++i) {
      population.push_back(CudaPlanRequest{
          all[i]->Request(team_models[i]->DeviceView(launcher), true), Gemm::kTf32});
    }
    team.Plan(population);
    for (size_t i = 0; i < specs.size(); ++i) {
      CHECK(one[i]->out_mean == all[i]->out_mean);
      CHECK(one[i]->tr_returns == all[i]->tr_returns);
      CHECK(one[i]->tr_elites == all[i]->tr_elites);
      CHECK(one[i]->tr_vars == all[i]->tr_vars);
      one[i]->Advance();
      all[i]->Advance();
    }
  }
  CHECK(team.num_setups() == 1);
}

TEST(nan_model_output_never_gives_a_nan_action) {
  const auto& task = FindPlannerTask("cartpole");
  CudaPlanner planner(MakeHostLauncher());
  cases::RandomModel model(task, 2, {8}, 3);
  model.b.back()[0] = std::numeric_limits<float>::quiet_NaN();
  cases::Problem p(task, kSmall, 1, 1);
  auto& launcher = const_cast<mbrlhpo::cuda::Launcher&>(planner.launcher());
  std::vector<CudaPlanRequest> ms{
      CudaPlanRequest{p.Request(model.DeviceView(launcher), true), Gemm::kTf32}};
  planner.Plan(ms);
  for (float v : p.out_mean) CHECK(std::isfinite(v));
  for (float r : p.tr_returns) CHECK(r == -std::numeric_limits<float>::infinity());
  model.b.back()[0] = 0.0f;
  model.w[0][3] = std::numeric_limits<float>::infinity();
  model.Upload();
  planner.Plan(ms);
  for (float v : p.out_mean) CHECK(std::isfinite(v));
}

TEST(bad_members_are_rejected_with_clear_messages) {
  const auto& task = FindPlannerTask("hopper");
  CudaPlanner planner(MakeHostLauncher());
  cases::RandomModel model(task, 2, {8}, 3);
  cases::Problem p(task, kSmall, 1, 1);
  auto& launcher = const_cast<mbrlhpo::cuda::Launcher&>(planner.launcher());
  const auto net = model.DeviceView(launcher);
  auto plan = [&](CudaPlanRequest m) {
    std::vector<CudaPlanRequest> ms{m};
    planner.Plan(ms);
  };
  CudaPlanRequest good{p.Request(net, false), Gemm::kTf32};
  CHECK(ThrowsWith(
      [&] {
        std::vector<CudaPlanRequest> none;
        planner.Plan(none);
      },
      "expected at least one member, got 0"));
  CudaPlanRequest bad = good;
  bad.request.problem.task = &FindPlannerTask("cartpole");
  CHECK(ThrowsWith([&] { plan(bad); },
                   "member 0: expected a model input width of 6 for task "
                   "'cartpole', got 15"));
  bad = good;
  bad.request.inputs.obs = nullptr;
  CHECK(ThrowsWith([&] { plan(bad); }, "member 0: null obs/warm_start/bounds/mean pointer"));
  bad = good;
  bad.request.problem.cem.particles = 3;
  CHECK(ThrowsWith([&] { plan(bad); }, "positive multiple of the ensemble size 2, got 3"));
  bad = good;
  bad.request.outputs.trace_returns = p.out_mean.data();
  CHECK(ThrowsWith([&] { plan(bad); }, "member 0: expected all four trace pointers or none"));
  bad = good;
  bad.gemm = static_cast<Gemm>(7);
  CHECK(ThrowsWith([&] { plan(bad); }, "expected gemm kTf32 or kFloat32, got 7"));
  plan(good);  // still usable after the errors
  for (float v : p.out_mean) CHECK(std::isfinite(v));
}

// Records the keys and copies the driver asks for, running the launches on the host launcher.
class RecordingLauncher final : public mbrlhpo::cuda::Launcher {
 public:
  explicit RecordingLauncher(std::vector<uint64_t>* keys) : keys_(keys) {}
  const char* name() const override { return host_->name(); }
  bool on_device() const override { return false; }
  int multiprocessors() const override { return host_->multiprocessors(); }
  void* Allocate(size_t bytes) override { return host_->Allocate(bytes); }
  void Release(void* p) override { host_->Release(p); }
  void* AllocateStaging(size_t bytes) override { return host_->AllocateStaging(bytes); }
  void ReleaseStaging(void* p) override { host_->ReleaseStaging(p); }
  void SetStream(void* s) override { host_->SetStream(s); }
  void CopyIn(void* d, const void* s, size_t n) override { host_->CopyIn(d, s, n); }
  void CopyOut(void* d, const void* s, size_t n) override { host_->CopyOut(d, s, n); }
  void Run(const mbrlhpo::cuda::PlanLaunch& launch) override {
    keys_->push_back(launch.shape_key);
    host_->Run(launch);
  }
  void Finish() override { host_->Finish(); }

 private:
  std::vector<uint64_t>* keys_;
  std::unique_ptr<mbrlhpo::cuda::Launcher> host_ = MakeHostLauncher();
};

TEST(graph_keys_repeat_only_while_the_buffers_stay) {
  // A graph may be replayed only while its buffers live: same shape, same set-up -> same key;
  // a shape change and a change back -> new set-ups and new keys each time.
  std::vector<uint64_t> keys;
  CudaPlanner planner(std::make_unique<RecordingLauncher>(&keys));
  const auto& task = FindPlannerTask("pusher");
  cases::RandomModel model(task, 2, {8}, 4);
  auto& launcher = const_cast<mbrlhpo::cuda::Launcher&>(planner.launcher());
  const auto net = model.DeviceView(launcher);
  const CemSettings other{2, 8, 2, 1, 0.1f, 2};
  cases::Problem a(task, kSmall, 1, 1), b(task, other, 1, 1);
  for (cases::Problem* p : {&a, &a, &b, &a, &a}) {
    std::vector<CudaPlanRequest> ms{CudaPlanRequest{p->Request(net, false), Gemm::kTf32}};
    planner.Plan(ms);
    p->Advance();
  }
  CHECK(keys.size() == 5);
  CHECK(keys[0] == keys[1] && keys[3] == keys[4]);
  CHECK(keys[1] != keys[2] && keys[2] != keys[3] && keys[0] != keys[3]);
  CHECK(planner.num_setups() == 3);
}

int main() { return mbrlhpo_test::RunAll(); }
