// cpp_controller: a C++ program linked against the installed mbrlhpo::core.
// Usage: cpp_controller [steps]
// Prints the build facts, then drives a MuJoCo pendulum with a PD controller through the core and
// checks that it settles: proof that the installed headers, library and run paths work.
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "mbrlhpo/build_info.h"
#include "mbrlhpo/errors.h"
#include "mbrlhpo/mujoco_model.h"

namespace {

constexpr const char* kPendulum = R"(
<mujoco>
  <option timestep="0.01"/>
  <worldbody>
    <body>
      <joint name="hinge" type="hinge" axis="0 1 0" damping="0.01"/>
      <geom type="capsule" fromto="0 0 0 0 0 -1" size="0.05" mass="1"/>
    </body>
  </worldbody>
  <actuator><motor joint="hinge" gear="1" ctrlrange="-20 20" ctrllimited="true"/></actuator>
</mujoco>)";

}  // namespace

int main(int argc, char** argv) {
  const int steps = argc > 1 ? std::atoi(argv[1]) : 500;
  try {
    mbrlhpo::CheckMuJoCoVersion();
    const mbrlhpo::BuildInfo info = mbrlhpo::GetBuildInfo();
    std::printf("mbrlhpo %s, MuJoCo %s, BLAS %s, CUDA compiled: %s\n", info.version.c_str(),
                info.mujoco_version_string.c_str(), info.blas.c_str(),
                info.has_cuda ? "yes" : "no");
    auto model = mbrlhpo::LoadModelFromXmlString(kPendulum);
    auto data = mbrlhpo::MakeData(model.get());
    const double target = 0.3;
    data->qpos[0] = 1.0;
    for (int i = 0; i < steps; ++i) {
      // PD on the angle plus gravity compensation (MuJoCo's bias force of the last step).
      data->ctrl[0] = -40.0 * (data->qpos[0] - target) - 8.0 * data->qvel[0] + data->qfrc_bias[0];
      mj_step(model.get(), data.get());
    }
    const double error = std::fabs(data->qpos[0] - target);
    std::printf("after %d steps: angle %.4f (target %.2f)\n", steps, data->qpos[0], target);
    if (error > 0.01) {
      std::printf("controller did not settle\n");
      return 1;
    }
  } catch (const mbrlhpo::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
