// The host flavour of the launch functions (plan_kernels.h): the kernel bodies on the SIMT
// emulator, with the grid and shared memory of the device launches (kernels/launch_shape.h).
// g++ only; for ctest, gpu_check's dry run and the driver's host launcher.
#include <string>

#include "mbrlhpo/cuda/kernels/pack.h"
#include "mbrlhpo/cuda/kernels/refit.h"
#include "mbrlhpo/cuda/kernels/rollout.h"
#include "mbrlhpo/cuda/kernels/sample.h"
#include "mbrlhpo/cuda/plan_kernels.h"
#include "mbrlhpo/errors.h"
#include "simt_host.h"

namespace mbrlhpo::cuda::host {
namespace {

simt::HostLaunchOptions Options(const Schedule& schedule) {
  simt::HostLaunchOptions o;
  o.order = schedule.order == Order::kForward   ? simt::Order::kForward
            : schedule.order == Order::kReverse ? simt::Order::kReverse
                                                : simt::Order::kShuffled;
  o.seed = schedule.seed;
  return o;
}

void Require(const simt::LaunchReport& report, const char* kernel, int iteration) {
  MBRLHPO_CHECK(report.ok(), "emulated ", kernel, " (iteration ", iteration,
                ") is wrong: ", report.Summary());
}

void CheckMembers(const PlanLaunch& launch) {
  MBRLHPO_CHECK(launch.members != nullptr && launch.host_members != nullptr,
                "expected member arrays in the PlanLaunch, got null");
  for (int i = 0; i < launch.num_members; ++i) {
    const char* why = UnsupportedReason(launch.host_members[i]);
    MBRLHPO_CHECK(why == nullptr, "member ", i, ": the CUDA kernels cannot plan it: ", why);
  }
}

}  // namespace

void LaunchPackWeights(const PlanLaunch& launch, const Schedule& schedule) {
  CheckMembers(launch);
  const kernels::LaunchShape s = kernels::ShapeOf(launch);
  const int grid = launch.num_members * s.max_layers * s.max_ensemble * s.pack_blocks_per_matrix;
  const simt::LaunchReport rep =
      simt::LaunchHost(grid, kPackThreads, 0, Options(schedule), [&](simt::HostCtx& c) {
        kernels::PackWeights(c, launch.members, launch.num_members, s.max_layers, s.max_ensemble,
                             s.pack_blocks_per_matrix);
      });
  Require(rep, "PackWeights", 0);
}

void LaunchSample(const PlanLaunch& launch, int iteration, const Schedule& schedule) {
  CheckMembers(launch);
  const kernels::LaunchShape s = kernels::ShapeOf(launch);
  const int bpm = s.sample_blocks_per_member;
  const simt::LaunchReport rep = simt::LaunchHost(
      launch.num_members * bpm, kSampleThreads, 0, Options(schedule), [&](simt::HostCtx& c) {
        kernels::SampleCandidates(c, launch.members, launch.num_members, bpm, iteration);
      });
  Require(rep, "SampleCandidates", iteration);
}

void LaunchRollout(const PlanLaunch& launch, int iteration, const Schedule& schedule) {
  CheckMembers(launch);
  const kernels::LaunchShape s = kernels::ShapeOf(launch);
  // One launch per (task, gemm) pair present, in member order of first appearance.
  for (int i = 0; i < launch.num_members; ++i) {
    const MemberArgs& mi = launch.host_members[i];
    bool seen = false;
    for (int j = 0; j < i; ++j) {
      seen |= launch.host_members[j].task == mi.task && launch.host_members[j].gemm == mi.gemm;
    }
    if (seen) continue;
    const kernels::RolloutBlocks b = kernels::RolloutOf(s, mi.gemm);
    const kernels::RolloutGrid grid{s.max_ensemble, b.tiles, kernels::ActStride(s.max_width),
                                    mi.task, mi.gemm};
    const int blocks = launch.num_members * s.max_ensemble * b.tiles;
    WithTask(mi.task, [&](auto task) {
      using Task = decltype(task);
      auto run = [&](auto gemm, auto rows) {
        using G = decltype(gemm);
        const simt::LaunchReport rep = simt::LaunchHost(
            blocks, kRolloutThreads, b.smem, Options(schedule), [&](simt::HostCtx& c) {
              kernels::Rollout<Task, G, decltype(rows)::value>(c, launch.members,
                                                               launch.num_members, grid, iteration);
            });
        Require(rep, "Rollout", iteration);
      };
      kernels::WithRolloutVariant(mi.gemm, b.rows, run);
    });
  }
}

void LaunchRefitAndSample(const PlanLaunch& launch, int iteration, const Schedule& schedule) {
  CheckMembers(launch);
  const kernels::LaunchShape s = kernels::ShapeOf(launch);
  const simt::LaunchReport rep = simt::LaunchHost(
      launch.num_members, kRefitThreads, s.refit_smem, Options(schedule), [&](simt::HostCtx& c) {
        kernels::RefitAndSample(c, launch.members, launch.num_members, s.sort_size, iteration);
      });
  Require(rep, "RefitAndSample", iteration);
}

}  // namespace mbrlhpo::cuda::host
