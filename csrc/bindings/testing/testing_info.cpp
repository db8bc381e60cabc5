// A MuJoCo smoke test and the CUDA self test, for tests/test_foundation.py.
#include <pybind11/pybind11.h>

#include <string>

#include "mbrlhpo/errors.h"
#include "mujoco_model.h"
#include "testing.h"
#if defined(MBRLHPO_BINDINGS_CUDA)
#include "mbrlhpo/cuda/device.h"
#endif

namespace py = pybind11;

namespace mbrlhpo::bindings::testing {

void RegisterInfo(py::module_& m) {
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

}  // namespace mbrlhpo::bindings::testing
