// The native CEM planner: validates arrays (float32, C-contiguous, shapes), keeps the weight
// arrays alive (they alias the torch parameters: no copies), releases the GIL and plans.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "arrays.h"
#include "bf16_gemm.h"
#include "bindings.h"
#include "mbrlhpo/cem_planner.h"
#include "mbrlhpo/errors.h"
#include "mbrlhpo/planner_task.h"

namespace py = pybind11;

namespace mbrlhpo::bindings {
namespace {

// The problem one member poses (task, weights aliased, bounds, CEM settings, seed, precision)
// and the arrays it points into.
struct MemberSpec {
  PlanProblem problem;
  std::vector<py::array> keep_alive;
};

std::shared_ptr<MemberSpec> MakeSpec(const std::string& task_name, const py::list& weights,
                                     const py::list& biases, const py::array& max_logvar,
                                     const py::array& min_logvar, const py::array& input_mean,
                                     const py::array& input_std, const py::array& action_low,
                                     const py::array& action_high, int horizon, int population,
                                     int num_elites, int iterations, float alpha, int particles,
                                     uint64_t seed, const std::string& precision) {
  auto spec = std::make_shared<MemberSpec>();
  PlanProblem& m = spec->problem;
  m.task = &FindPlannerTask(task_name);
  const int layers = static_cast<int>(py::len(weights));
  MBRLHPO_CHECK(layers >= 2 && static_cast<int>(py::len(biases)) == layers,
                "expected as many biases as weights (>= 2 layers), got ", layers, " weights and ",
                py::len(biases), " biases");
  EnsembleView& net = m.net;
  for (int l = 0; l < layers; ++l) {
    py::array w = weights[l].cast<py::array>();
    MBRLHPO_CHECK(w.ndim() == 3, "expected weights[", l, "] of shape (E, in, out), got ",
                  ShapeStr(w));
    if (l == 0) {
      net.ensemble_size = static_cast<int>(w.shape(0));
      net.layer_sizes.push_back(static_cast<int>(w.shape(1)));
    }
    const py::ssize_t e = net.ensemble_size, in = net.layer_sizes.back(), out = w.shape(2);
    net.weights.push_back(CheckFloatArray(w, "weights[" + std::to_string(l) + "]", {e, in, out}));
    py::array b = biases[l].cast<py::array>();
    net.biases.push_back(CheckFloatArray(b, "biases[" + std::to_string(l) + "]", {e, 1, out}));
    net.layer_sizes.push_back(static_cast<int>(out));
    spec->keep_alive.push_back(w);
    spec->keep_alive.push_back(b);
  }
  const py::ssize_t o = m.task->obs_dim, a = m.task->act_dim, d = net.layer_sizes.front();
  MBRLHPO_CHECK(net.layer_sizes.back() == 2 * o, "expected a last layer of width 2 x ", o,
                " for task '", task_name, "', got ", net.layer_sizes.back());
  MBRLHPO_CHECK(d == m.task->model_input_dim + a, "expected a model input width of ",
                m.task->model_input_dim + a, " for task '", task_name, "', got ", d);
  net.max_logvar = CheckFloatArray(max_logvar, "max_logvar", {1, o});
  net.min_logvar = CheckFloatArray(min_logvar, "min_logvar", {1, o});
  net.input_mean = CheckFloatArray(input_mean, "input_mean", {1, d});
  net.input_std = CheckFloatArray(input_std, "input_std", {1, d});
  m.action_low = CheckFloatArray(action_low, "action_low", {a});
  m.action_high = CheckFloatArray(action_high, "action_high", {a});
  for (const py::array* arr :
       {&max_logvar, &min_logvar, &input_mean, &input_std, &action_low, &action_high}) {
    spec->keep_alive.push_back(*arr);
  }
  m.cem = CemSettings{horizon, population, num_elites, iterations, alpha, particles};
  m.cem.Validate(net.ensemble_size);
  net.Validate();
  m.seed = seed;
  MBRLHPO_CHECK(precision == "float32" || precision == "bf16",
                "expected precision 'float32' or 'bf16', got '", precision, "'");
  if (precision == "bf16") {
    bf16::RequireSupported();
    m.precision = Precision::kBfloat16;
  }
  return spec;
}

}  // namespace

void RegisterPlanner(py::module_& m) {
  m.def("planner_task_names", &PlannerTaskNames, "Tasks the native planner knows.");
  m.def(
      "register_planner_task",
      [](const std::string& name, int obs_dim, int act_dim, int model_input_dim,
         const std::vector<int>& absolute_target_dims, uintptr_t reward, uintptr_t terminated,
         uintptr_t model_input) {
        PlannerTask t;
        t.name = name;
        t.obs_dim = obs_dim;
        t.act_dim = act_dim;
        t.model_input_dim = model_input_dim;
        t.absolute_target.assign(obs_dim > 0 ? obs_dim : 0, 0);
        for (int d : absolute_target_dims) {
          MBRLHPO_CHECK(d >= 0 && d < obs_dim, "task '", name,
                        "': expected absolute target dims in [0, ", obs_dim, "), got ", d);
          t.absolute_target[d] = 1;
        }
        // The addresses of C functions with these signatures (numba cfuncs, mbrlhpo.Task).
        t.reward = reinterpret_cast<float (*)(const float*, const float*)>(reward);
        t.terminated = reinterpret_cast<int (*)(const float*)>(terminated);
        t.model_input = reinterpret_cast<void (*)(const float*, float*)>(model_input);
        RegisterPlannerTask(t);
      },
      py::arg("name"), py::arg("obs_dim"), py::arg("act_dim"), py::arg("model_input_dim"),
      py::arg("absolute_target_dims"), py::arg("reward"), py::arg("terminated"),
      py::arg("model_input"),
      "Registers a planner task from the addresses of C functions: float reward(const float* "
      "action, const float* next_obs), int terminated(const float* next_obs), void "
      "model_input(const float* obs, float* out). Used by mbrlhpo.Task; the functions must "
      "outlive the process's planning and run without the GIL.");
  m.def("bf16_supported", &bf16::Supported, "Whether this CPU runs the BF16 planner kernels.");

  py::class_<MemberSpec, std::shared_ptr<MemberSpec>>(m, "CemMemberSpec")
      .def(py::init(&MakeSpec), py::arg("task"), py::arg("weights"), py::arg("biases"),
           py::arg("max_logvar"), py::arg("min_logvar"), py::arg("input_mean"),
           py::arg("input_std"), py::arg("action_low"), py::arg("action_high"), py::arg("horizon"),
           py::arg("population"), py::arg("num_elites"), py::arg("iterations"), py::arg("alpha"),
           py::arg("particles"), py::arg("seed"), py::arg("precision") = "float32",
           "A member's planning problem: weights aliased (float32, C-contiguous), not copied.");

  py::class_<CemPlanner>(m, "CemPlanner")
      .def(py::init<int, int>(), py::arg("num_threads") = 0,
           py::arg("tile_rows") = CemPlanner::kDefaultTileRows)
      .def_property_readonly("num_threads", &CemPlanner::num_threads)
      .def_property_readonly("tile_rows", &CemPlanner::tile_rows)
      .def(
          "plan",
          [](CemPlanner& self, const std::vector<std::shared_ptr<MemberSpec>>& specs,
             const std::vector<py::array>& obs, const std::vector<py::array>& init_means,
             const std::vector<uint32_t>& steps, bool trace) {
            const size_t count = specs.size();
            MBRLHPO_CHECK(
                obs.size() == count && init_means.size() == count && steps.size() == count,
                "expected one obs, init_mean and step per member (", count, "), got ", obs.size(),
                ", ", init_means.size(), ", ", steps.size());
            std::vector<PlanRequest> requests;
            py::list results;
            std::vector<py::array_t<float>> means;
            std::vector<py::tuple> traces;
            for (size_t i = 0; i < count; ++i) {
              MBRLHPO_CHECK(specs[i] != nullptr, "member ", i, " is None");
              PlanRequest r;
              r.problem = specs[i]->problem;
              const CemSettings& c = r.problem.cem;
              const py::ssize_t o = r.problem.task->obs_dim, a = r.problem.task->act_dim;
              r.inputs.obs = CheckFloatArray(obs[i], "obs", {o});
              r.inputs.warm_start = CheckFloatArray(init_means[i], "init_mean", {c.horizon, a});
              r.inputs.step = steps[i];
              py::array_t<float> mean({static_cast<py::ssize_t>(c.horizon), a});
              r.outputs.mean = mean.mutable_data();
              if (trace) {
                py::array_t<float> ret({c.iterations, c.population});
                py::array_t<int32_t> el({c.iterations, c.num_elites});
                py::array_t<float> mu({static_cast<py::ssize_t>(c.iterations),
                                       static_cast<py::ssize_t>(c.horizon), a});
                py::array_t<float> var({static_cast<py::ssize_t>(c.iterations),
                                        static_cast<py::ssize_t>(c.horizon), a});
                r.outputs.trace_returns = ret.mutable_data();
                r.outputs.trace_elites = el.mutable_data();
                r.outputs.trace_means = mu.mutable_data();
                r.outputs.trace_vars = var.mutable_data();
                traces.push_back(py::make_tuple(ret, el, mu, var));
              }
              means.push_back(mean);
              requests.push_back(r);
            }
            {
              py::gil_scoped_release release;
              self.Plan(requests);
            }
            for (size_t i = 0; i < count; ++i) {
              results.append(py::make_tuple(means[i], trace ? py::object(traces[i]) : py::none()));
            }
            return results;
          },
          py::arg("members"), py::arg("obs"), py::arg("init_means"), py::arg("steps"),
          py::arg("trace") = false,
          "Plan every member (GIL released); returns [(final mean (H, A), trace or None)].");
}

}  // namespace mbrlhpo::bindings
