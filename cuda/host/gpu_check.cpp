// gpu_check: the CUDA planner on a GPU in one program (scripts/gpu_check.sh runs it).
//   gpu_check [--dry-run] [--small] [--json PATH]
// 1. the whole CudaPlanner against the CPU CemPlanner on all six tasks (float32 and TF32),
// 2. timings of the paper setting (HalfCheetah shapes, E 5, 4 x 200, N 500, P 20, H 30, I 5):
//    one member and a population of 40, TF32 and float32 (median of graph replays), TFLOP/s.
// --dry-run runs everything on the host launcher at small shapes (CI: the harness itself is
// checked without a GPU). --small: small shapes only (compute-sanitizer runs). Exit codes: 0 all
// checks passed, 1 a check failed, 77 no GPU (and not --dry-run).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "host_launcher.h"
#include "mbrlhpo/cuda/cuda_planner.h"
#include "mbrlhpo/errors.h"
#include "plan_cases.h"

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

Timing TimePlans(const Options& opt, const mbrlhpo::CemSettings& cem, const std::vector<int>& hidden,
                 int ensemble, int members, mc::Gemm gemm, int reps) {
  mc::CudaPlanner planner(NewLauncher(opt));
  const auto& task = mbrlhpo::FindPlannerTask("halfcheetah");
  auto& launcher = const_cast<mc::Launcher&>(planner.launcher());
  std::vector<std::unique_ptr<cases::RandomModel>> models;
  std::vector<std::unique_ptr<cases::Problem>> problems;
  std::vector<mc::CudaMember> batch;
  for (int i = 0; i < members; ++i) {
    models.push_back(std::make_unique<cases::RandomModel>(task, ensemble, hidden, 100 + i));
    problems.push_back(std::make_unique<cases::Problem>(task, cem, i, i));
    batch.push_back(mc::CudaMember{problems.back()->Member(models.back()->DeviceView(launcher),
                                                           false), gemm});
  }
  std::vector<double> ms;
  for (int r = 0; r < reps + 2; ++r) {  // two warm-ups (the first captures the graph)
    for (auto& m : batch) ++m.cem.step;
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

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--dry-run") {
      opt.dry_run = true;
    } else if (a == "--small") {
      opt.small = true;
    } else if (a == "--json" && i + 1 < argc) {
      opt.json = argv[++i];
    } else {
      std::fprintf(stderr, "usage: gpu_check [--dry-run] [--small] [--json PATH]\n");
      return 2;
    }
  }
#ifdef MBRLHPO_GPU_CHECK_DEVICE
  if (!opt.dry_run && mc::DeviceCount() == 0) {
    std::printf("gpu_check: no CUDA device: skipped (exit 77)\n");
    return 77;
  }
  if (!opt.dry_run) {
    std::printf("device: %s\n", mc::DeviceDescription(0).c_str());
    if (!mc::DeviceKernelsBuilt()) {
      std::printf("gpu_check: this build has no CUDA planner kernels: nothing to check\n");
      return 1;
    }
  }
#else
  if (!opt.dry_run) {
    std::printf("gpu_check: built without CUDA: only --dry-run is possible (exit 77)\n");
    return 77;
  }
#endif
  bool ok = true;
  std::string json = "{\n  \"dry_run\": " + std::string(opt.dry_run ? "true" : "false");
  try {
    // ---- 1. the whole planner against the CPU planner
    std::printf("== CudaPlanner (%s) vs CemPlanner, six tasks\n",
                NewLauncher(opt)->name());
    mbrlhpo::CemPlanner cpu(0);
    const mbrlhpo::CemSettings cem = opt.small ? mbrlhpo::CemSettings{3, 16, 4, 2, 0.1f, 2}
                                               : mbrlhpo::CemSettings{6, 64, 8, 3, 0.1f, 4};
    const std::vector<int> hidden = opt.small ? std::vector<int>{16} : std::vector<int>{40, 40};
    json += ",\n  \"parity\": [";
    bool first = true;
    for (const char* name : {"cartpole", "reacher", "pusher", "hopper", "halfcheetah", "hexapod"}) {
      for (mc::Gemm gemm : {mc::Gemm::kFloat32, mc::Gemm::kTf32}) {
        const bool f32 = gemm == mc::Gemm::kFloat32;
        // TF32 (10-bit mantissa, float32 accumulation) moves returns by ~1e-3 relative; a
        // near-tie elite swap is then expected, a wrong elite list is not.
        const double tol = f32 ? 1e-4 : 3e-3;
        mc::CudaPlanner planner(NewLauncher(opt));
        const auto& task = mbrlhpo::FindPlannerTask(name);
        cases::RandomModel model(task, 2, hidden, 3);
        const cases::Diff d =
            cases::CompareSteps(planner, cpu, model, task, cem, gemm, 2, 17, tol);
        const bool pass = cases::Within(d, tol);
        ok = ok && pass;
        const std::string label = std::string(name) + (f32 ? " float32" : " tf32");
        cases::Print(label.c_str(), d);
        char buf[320];
        std::snprintf(buf, sizeof(buf),
                      "%s\n    {\"task\": \"%s\", \"gemm\": \"%s\", \"returns_rel\": %.3g, "
                      "\"elite_mismatch\": %d, \"elite_not_near_tie\": %d, \"action_rel\": %.3g, "
                      "\"pass\": %s}", first ? "" : ",", name, f32 ? "float32" : "tf32",
                      d.returns_rel, d.elite_mismatch, d.elite_not_near_tie, d.action_rel,
                      pass ? "true" : "false");
        json += buf;
        first = false;
      }
    }
    json += "\n  ]";
    // ---- 2. timings
    const bool paper = !opt.small && !opt.dry_run;
    const mbrlhpo::CemSettings timed = paper ? mbrlhpo::CemSettings{30, 500, 50, 5, 0.1f, 20}
                                             : mbrlhpo::CemSettings{4, 20, 4, 2, 0.1f, 5};
    const std::vector<int> width = paper ? std::vector<int>{200, 200, 200, 200}
                                         : std::vector<int>{16, 16};
    const int ensemble = 5, reps = paper ? 20 : 2;
    std::printf("== timings (%s; median of %d plans, graph replays)\n",
                paper ? "paper setting" : "tiny shapes, not a speed measurement", reps);
    json += ",\n  \"timings\": [";
    first = true;
    for (int members : {1, paper ? 40 : 3}) {
      for (mc::Gemm gemm : {mc::Gemm::kTf32, mc::Gemm::kFloat32}) {
        Timing t = TimePlans(opt, timed, width, ensemble, members, gemm, reps);
        const char* g = gemm == mc::Gemm::kTf32 ? "tf32" : "float32";
        std::printf("  %2d member(s) %-8s %10.3f ms  %8.1f GFLOP  %7.2f TFLOP/s\n", members, g,
                    t.ms, t.gflop, t.gflop / t.ms);
        char buf[200];
        std::snprintf(buf, sizeof(buf),
                      "%s\n    {\"members\": %d, \"gemm\": \"%s\", \"ms\": %.4f, \"gflop\": %.2f, "
                      "\"tflops\": %.3f}", first ? "" : ",", members, g, t.ms, t.gflop,
                      t.gflop / t.ms);
        json += buf;
        first = false;
      }
    }
    json += "\n  ]";
  } catch (const mbrlhpo::Error& e) {
    std::printf("gpu_check: error: %s\n", e.what());
    ok = false;
  }
  json += ",\n  \"pass\": " + std::string(ok ? "true" : "false") + "\n}\n";
  if (!opt.json.empty()) std::ofstream(opt.json) << json;
  std::printf("gpu_check: %s\n", ok ? "all checks passed" : "FAILED");
  return ok ? 0 : 1;
}
