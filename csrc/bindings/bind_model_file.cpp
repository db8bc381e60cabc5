// Exported policy files: the strict loader and the planner built from a file. Loading errors are
// mbrlhpo::Error -> ValueError. (The loader on bytes, for fuzzing: testing/testing_model_file.cpp.)
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bindings.h"
#include "mbrlhpo/errors.h"
#include "mbrlhpo/model_file.h"
#include "model_file_tuple.h"

namespace py = pybind11;

namespace mbrlhpo::bindings {
void RegisterModelFile(py::module_& m) {
  m.attr("MODEL_FILE_FORMAT") = kModelFileFormat;
  m.attr("MODEL_FILE_VERSION") = kModelFileVersion;
  m.def(
      "load_model_file",
      [](const std::string& path) {
        std::unique_ptr<ModelFile> file;
        {
          py::gil_scoped_release release;
          file = std::make_unique<ModelFile>(ModelFile::Load(path));
        }
        return ToPython(*file);
      },
      py::arg("path"),
      "Reads and verifies an exported policy; returns (metadata, arrays). Raises ValueError.");

  py::class_<FilePlanner>(m, "FilePlanner")
      .def(py::init([](const std::string& path, std::optional<uint64_t> seed, int num_threads) {
             auto file = std::make_shared<const ModelFile>(ModelFile::Load(path));
             const uint64_t s = seed.has_value() ? *seed : file->seed();
             return std::make_unique<FilePlanner>(std::move(file), s, num_threads);
           }),
           py::arg("path"), py::arg("seed") = py::none(), py::arg("num_threads") = 0,
           "The MPC planner of an exported policy (seed None: the exporting planner's seed).")
      .def_property_readonly("task", [](const FilePlanner& p) { return p.file().task_name(); })
      .def_property_readonly("seed", &FilePlanner::seed)
      .def_property_readonly("obs_dim", &FilePlanner::obs_dim)
      .def_property_readonly("act_dim", &FilePlanner::act_dim)
      .def_property("step", &FilePlanner::step, &FilePlanner::set_step)
      .def_property(
          "warm_start",
          [](const FilePlanner& p) {
            py::array_t<float> out({p.horizon(), p.act_dim()});
            std::memcpy(out.mutable_data(), p.warm_start().data(),
                        p.warm_start().size() * sizeof(float));
            return out;
          },
          [](FilePlanner& p,
             const py::array_t<float, py::array::c_style | py::array::forcecast>& mean) {
            MBRLHPO_CHECK(
                mean.ndim() == 2 && mean.shape(0) == p.horizon() && mean.shape(1) == p.act_dim(),
                "expected a warm start of shape (", p.horizon(), ", ", p.act_dim(), ")");
            p.set_warm_start(std::vector<float>(mean.data(), mean.data() + mean.size()));
          })
      .def("reset", &FilePlanner::Reset, "New episode: warm start = middle of the action range.")
      .def(
          "act",
          [](FilePlanner& p,
             const py::array_t<float, py::array::c_style | py::array::forcecast>& obs) {
            MBRLHPO_CHECK(obs.ndim() == 1 && obs.shape(0) == p.obs_dim(), "expected obs of shape (",
                          p.obs_dim(), ",), got ndim ", obs.ndim(), " with ", obs.size(),
                          " values");
            py::array_t<float> action(p.act_dim());
            float* out = action.mutable_data();
            const float* in = obs.data();
            {
              py::gil_scoped_release release;
              p.Act(in, out);
            }
            return action;
          },
          py::arg("obs"), "Plans from obs (O,); returns the action (A,) and advances step.");
}

}  // namespace mbrlhpo::bindings
