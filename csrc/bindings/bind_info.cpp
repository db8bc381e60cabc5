// Build facts and CUDA availability.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>

#include "bindings.h"
#include "mbrlhpo/build_info.h"
#include "mbrlhpo/errors.h"
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
}

}  // namespace mbrlhpo::bindings
