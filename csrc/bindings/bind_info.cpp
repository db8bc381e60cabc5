// Build facts, CUDA availability and a MuJoCo smoke test.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>

#include "bindings.h"
#include "mbrlhpo/build_info.h"
#include "mbrlhpo/errors.h"
#include "mujoco_model.h"
#if defined(MBRLHPO_BINDINGS_CUDA)
#include "mbrlhpo/cuda/device.h"
#endif

namespace py = pybind11;

namespace mbrlhpo::bindings {
namespace {

int CudaDeviceCount() {
#if defined(MBRLHPO_BINDINGS_CUDA)
  return cuda::DeviceCount();
#else
  return 0;
#endif
}

}  // namespace

void RegisterInfo(py::module_& m) {
  m.def(
      "build_info",
      [] {
        const BuildInfo info = GetBuildInfo();
        py::dict d;
        d["version"] = info.version;
        d["cuda_compiled"] = info.has_cuda;
        d["blas"] = info.blas;
        d["blas_config"] = info.blas_config;
        d["mujoco_header_version"] = info.mujoco_header_version;
        d["mujoco_library_version"] = info.mujoco_library_version;
        d["mujoco_version"] = info.mujoco_version_string;
        d["build_type"] = info.build_type;
        d["compiler"] = info.compiler;
        return d;
      },
      "Facts about this build of the native core (plain dict).");

  m.def(
      "cuda_available", [] { return CudaDeviceCount() > 0; },
      "True when the build has CUDA and at least one device is usable.");

  m.def(
      "cuda_devices",
      [] {
        std::vector<std::string> names;
#if defined(MBRLHPO_BINDINGS_CUDA)
        for (int i = 0; i < cuda::DeviceCount(); ++i) names.push_back(cuda::DeviceDescription(i));
#endif
        return names;
      },
      "Descriptions of the usable CUDA devices (empty without CUDA).");

  m.def(
      "cuda_self_test",
      [](int device) {
#if defined(MBRLHPO_BINDINGS_CUDA)
        py::gil_scoped_release release;
        cuda::SelfTest(device);
#else
        (void)device;
        throw Error("this build of mbrlhpo has no CUDA backend");
#endif
      },
      py::arg("device") = 0, "Run and check a small kernel on the device.");

  m.def(
      "mujoco_smoke_test",
      [](const std::string& xml, int steps) {
        MBRLHPO_CHECK(steps >= 0, "expected steps >= 0, got ", steps);
        MjModelPtr model = LoadModelFromXmlString(xml);
        MjDataPtr data = MakeData(model.get());
        {
          py::gil_scoped_release release;
          for (int i = 0; i < steps; ++i) mj_step(model.get(), data.get());
        }
        py::list qpos;
        for (int i = 0; i < model->nq; ++i) qpos.append(data->qpos[i]);
        return py::make_tuple(data->time, qpos);
      },
      py::arg("xml"), py::arg("steps"),
      "Compile MJCF text, step it `steps` times, return (time, qpos): proves the core drives "
      "MuJoCo.");
}

}  // namespace mbrlhpo::bindings
