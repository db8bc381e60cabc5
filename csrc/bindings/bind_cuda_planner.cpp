// The CUDA planner (built when nvcc was found): weights are device pointers read in place from
// the model's CUDA tensors (the Python side checked device, dtype, shape and contiguity and keeps
// the tensors alive); the plan runs on the caller's stream (torch.cuda.current_stream()).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "bindings.h"
#include "mbrlhpo/cuda/cuda_planner.h"
#include "mbrlhpo/errors.h"

namespace py = pybind11;

namespace mbrlhpo::bindings {
namespace {

using cuda::CudaPlanner;

const float* Device(uintptr_t ptr, const char* name) {
  MBRLHPO_CHECK(ptr != 0, "expected a device pointer for ", name, ", got 0");
  return reinterpret_cast<const float*>(ptr);
}

const float* HostVector(const py::array& a, const char* name, py::ssize_t n) {
  MBRLHPO_CHECK(a.dtype().is(py::dtype::of<float>()) && a.ndim() == 1 && a.shape(0) == n &&
                    (a.flags() & py::array::c_style) != 0,
                "expected ", name, " as a contiguous float32 array of shape (", n, ",)");
  return static_cast<const float*>(a.data());
}

// The problem one member poses on the CUDA planner (its GEMM precision included) and the host
// arrays it points into.
struct CudaSpec {
  PlanProblem problem;
  cuda::Gemm gemm = cuda::Gemm::kTf32;
  std::vector<py::array> keep_alive;  // the host bounds
};

std::shared_ptr<CudaSpec> MakeCudaSpec(const std::string& task_name, int ensemble_size,
                                       const std::vector<int>& layer_sizes,
                                       const std::vector<uintptr_t>& weights,
                                       const std::vector<uintptr_t>& biases, uintptr_t max_logvar,
                                       uintptr_t min_logvar, uintptr_t input_mean,
                                       uintptr_t input_std, const py::array& action_low,
                                       const py::array& action_high, int horizon, int population,
                                       int num_elites, int iterations, float alpha, int particles,
                                       uint64_t seed, const std::string& precision) {
  auto spec = std::make_shared<CudaSpec>();
  PlanProblem& m = spec->problem;
  m.task = &FindPlannerTask(task_name);
  const size_t layers = weights.size();
  MBRLHPO_CHECK(layers >= 2 && biases.size() == layers && layer_sizes.size() == layers + 1,
                "expected L >= 2 weights, L biases and L + 1 layer sizes, got ", layers, ", ",
                biases.size(), " and ", layer_sizes.size());
  EnsembleView& net = m.net;
  net.ensemble_size = ensemble_size;
  net.layer_sizes = layer_sizes;
  for (size_t l = 0; l < layers; ++l) {
    net.weights.push_back(Device(weights[l], "weights"));
    net.biases.push_back(Device(biases[l], "biases"));
  }
  net.max_logvar = Device(max_logvar, "max_logvar");
  net.min_logvar = Device(min_logvar, "min_logvar");
  net.input_mean = Device(input_mean, "input_mean");
  net.input_std = Device(input_std, "input_std");
  const py::ssize_t a = m.task->act_dim;
  m.action_low = HostVector(action_low, "action_low", a);
  m.action_high = HostVector(action_high, "action_high", a);
  spec->keep_alive = {action_low, action_high};
  m.cem = CemSettings{horizon, population, num_elites, iterations, alpha, particles};
  m.seed = seed;
  MBRLHPO_CHECK(precision == "tf32" || precision == "float32",
                "expected precision 'tf32' or 'float32' for the CUDA planner, got '", precision,
                "'");
  spec->gemm = precision == "tf32" ? cuda::Gemm::kTf32 : cuda::Gemm::kFloat32;
  net.Validate();
  m.cem.Validate(net.ensemble_size);
  return spec;
}

const float* HostArray(const py::array& a, const char* name, py::ssize_t d0, py::ssize_t d1) {
  const bool shape_ok = d1 < 0 ? (a.ndim() == 1 && a.shape(0) == d0)
                               : (a.ndim() == 2 && a.shape(0) == d0 && a.shape(1) == d1);
  MBRLHPO_CHECK(a.dtype().is(py::dtype::of<float>()) && (a.flags() & py::array::c_style) != 0,
                "expected ", name, " as a contiguous float32 array");
  MBRLHPO_CHECK(shape_ok, "expected ", name, " of shape (", d0, d1 < 0 ? "," : ", ",
                d1 < 0 ? std::string() : std::to_string(d1), ")");
  return static_cast<const float*>(a.data());
}

}  // namespace

void RegisterCudaPlanner(py::module_& m) {
  m.def("cuda_planner_task_names", &cuda::CudaPlannerTaskNames,
        "Tasks the CUDA planner's kernels are built for.");
  py::class_<CudaSpec, std::shared_ptr<CudaSpec>>(m, "CudaMemberSpec")
      .def(py::init(&MakeCudaSpec), py::arg("task"), py::arg("ensemble_size"),
           py::arg("layer_sizes"), py::arg("weights"), py::arg("biases"), py::arg("max_logvar"),
           py::arg("min_logvar"), py::arg("input_mean"), py::arg("input_std"),
           py::arg("action_low"), py::arg("action_high"), py::arg("horizon"), py::arg("population"),
           py::arg("num_elites"), py::arg("iterations"), py::arg("alpha"), py::arg("particles"),
           py::arg("seed"), py::arg("precision") = "tf32",
           "A member's CUDA planning problem: model tensors as device pointers (read in place).");

  py::class_<CudaPlanner>(m, "CudaPlanner")
      .def(py::init([](int device) {
             return std::make_unique<CudaPlanner>(cuda::MakeDeviceLauncher(device));
           }),
           py::arg("device") = 0)
      .def_property_readonly("device", [](const CudaPlanner& p) { return p.launcher().name(); })
      .def_property_readonly("num_setups", &CudaPlanner::num_setups)
      .def(
          "plan",
          [](CudaPlanner& self, const std::vector<std::shared_ptr<CudaSpec>>& specs,
             const std::vector<py::array>& obs, const std::vector<py::array>& init_means,
             const std::vector<uint32_t>& steps, bool trace, uintptr_t stream) {
            const size_t count = specs.size();
            MBRLHPO_CHECK(count >= 1 && obs.size() == count && init_means.size() == count &&
                              steps.size() == count,
                          "expected at least one member and one obs, init_mean and step per "
                          "member (",
                          count, "), got ", obs.size(), ", ", init_means.size(), ", ",
                          steps.size());
            std::vector<cuda::CudaPlanRequest> requests;
            std::vector<py::array_t<float>> means;
            std::vector<py::object> traces;
            for (size_t i = 0; i < count; ++i) {
              MBRLHPO_CHECK(specs[i] != nullptr, "member ", i, " is None");
              cuda::CudaPlanRequest cr;
              cr.gemm = specs[i]->gemm;
              PlanRequest& r = cr.request;
              r.problem = specs[i]->problem;
              const CemSettings& s = r.problem.cem;
              const py::ssize_t o = r.problem.task->obs_dim, a = r.problem.task->act_dim;
              r.inputs.obs = HostArray(obs[i], "obs", o, -1);
              r.inputs.warm_start = HostArray(init_means[i], "init_mean", s.horizon, a);
              r.inputs.step = steps[i];
              py::array_t<float> mean({static_cast<py::ssize_t>(s.horizon), a});
              r.outputs.mean = mean.mutable_data();
              py::object tr = py::none();
              if (trace) {
                const py::ssize_t it = s.iterations, h = s.horizon;
                py::array_t<float> ret({it, static_cast<py::ssize_t>(s.population)});
                py::array_t<int32_t> el({it, static_cast<py::ssize_t>(s.num_elites)});
                py::array_t<float> mu({it, h, a});
                py::array_t<float> var({it, h, a});
                r.outputs.trace_returns = ret.mutable_data();
                r.outputs.trace_elites = el.mutable_data();
                r.outputs.trace_means = mu.mutable_data();
                r.outputs.trace_vars = var.mutable_data();
                tr = py::make_tuple(ret, el, mu, var);
              }
              means.push_back(mean);
              traces.push_back(tr);
              requests.push_back(cr);
            }
            {
              py::gil_scoped_release release;
              self.Plan(requests, reinterpret_cast<void*>(stream));
            }
            py::list results;
            for (size_t i = 0; i < count; ++i) results.append(py::make_tuple(means[i], traces[i]));
            return results;
          },
          py::arg("members"), py::arg("obs"), py::arg("init_means"), py::arg("steps"),
          py::arg("trace") = false, py::arg("stream") = 0,
          "Plan every member on `stream` (GIL released); returns [(final mean (H, A), trace or "
          "None)].");
}

}  // namespace mbrlhpo::bindings
