// Placeholder for the device kernels' launch functions until the KERNELS branch (plan_kernels.h,
// cuda/src/*.cu) is merged: this build offers no CUDA planner (DeviceKernelsBuilt() is false,
// so the module registers no CudaPlanner and backend "auto" keeps the torch reference on a GPU).
// Delete this file when the kernels' launch functions are wired in (device_launcher.cu).
#include "mbrlhpo/cuda/launcher.h"
#include "mbrlhpo/errors.h"

namespace mbrlhpo::cuda {
namespace {
[[noreturn]] void NotBuilt() {
  throw Error("the CUDA planner's kernels are not part of this build (plan_kernels.h)");
}
}  // namespace

bool DeviceKernelsBuilt() { return false; }
void DeviceSample(const PlanLaunch&, int, void*) { NotBuilt(); }
void DeviceRollout(const PlanLaunch&, int, void*) { NotBuilt(); }
void DeviceRefitAndSample(const PlanLaunch&, int, void*) { NotBuilt(); }

}  // namespace mbrlhpo::cuda
