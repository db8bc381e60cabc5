// The C++ task functions and tables, for tests against the Python definitions
// (tests/envs/test_vec_env.py, tests/envs/test_task_tables.py).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <string>

#include "mbrlhpo/errors.h"
#include "mbrlhpo/planner_task.h"
#include "mbrlhpo/tasks.h"
#include "testing.h"

namespace py = pybind11;

namespace mbrlhpo::bindings::testing {
namespace {

using ArrayD = py::array_t<double, py::array::c_style | py::array::forcecast>;

// Applies a task function row by row: (B x A), (B x O) -> (B).
template <typename T>
py::array_t<T> RewardRows(const std::string& name,
                          const py::array_t<T, py::array::c_style | py::array::forcecast>& action,
                          const py::array_t<T, py::array::c_style | py::array::forcecast>& obs) {
  const TaskInfo& info = GetTaskInfo(name);
  MBRLHPO_CHECK(action.ndim() == 2 && action.shape(1) == info.act_dim && obs.ndim() == 2 &&
                    obs.shape(1) == info.obs_dim && obs.shape(0) == action.shape(0),
                "expected action (B, ", info.act_dim, ") and next_obs (B, ", info.obs_dim, ")");
  const int64_t b = obs.shape(0);
  py::array_t<T> out(b);
  T* o = out.mutable_data();
  DispatchTask(info.id, [&](auto task) {
    using Task = decltype(task);
    for (int64_t i = 0; i < b; ++i) {
      o[i] = Task::Reward(action.data() + i * info.act_dim, obs.data() + i * info.obs_dim);
    }
  });
  return out;
}

template <typename T>
py::array_t<T> ModelInputRows(
    const std::string& name, const py::array_t<T, py::array::c_style | py::array::forcecast>& obs) {
  const TaskInfo& info = GetTaskInfo(name);
  MBRLHPO_CHECK(obs.ndim() == 2 && obs.shape(1) == info.obs_dim, "expected obs (B, ", info.obs_dim,
                ")");
  const int64_t b = obs.shape(0);
  return DispatchTask(info.id, [&](auto task) {
    using Task = decltype(task);
    py::array_t<T> out({b, static_cast<int64_t>(Task::kModelInputDim)});
    for (int64_t i = 0; i < b; ++i) {
      Task::ModelInput(obs.data() + i * info.obs_dim,
                       out.mutable_data() + i * Task::kModelInputDim);
    }
    return out;
  });
}

}  // namespace

void RegisterTasks(py::module_& m) {
  m.def("task_reward", &RewardRows<double>, py::arg("task"), py::arg("action"),
        py::arg("next_obs"));
  m.def("task_reward_f32", &RewardRows<float>, py::arg("task"), py::arg("action"),
        py::arg("next_obs"));
  m.def("task_model_input", &ModelInputRows<double>, py::arg("task"), py::arg("obs"));
  m.def(
      "task_terminated",
      [](const std::string& name, const ArrayD& obs) {
        const TaskInfo& info = GetTaskInfo(name);
        MBRLHPO_CHECK(obs.ndim() == 2 && obs.shape(1) == info.obs_dim, "expected obs (B, ",
                      info.obs_dim, ")");
        py::array_t<bool> out(obs.shape(0));
        for (int64_t i = 0; i < obs.shape(0); ++i) {
          out.mutable_data()[i] = TaskTerminated(info.id, obs.data() + i * info.obs_dim);
        }
        return out;
      },
      py::arg("task"), py::arg("next_obs"));
  m.def("task_names", [] {
    py::list names;
    for (const TaskInfo& t : AllTasks()) names.append(t.name);
    return names;
  });
  m.def(
      "builtin_tasks",
      [] {
        py::list rows;
        for (const TaskInfo& t : AllTasks()) {
          py::dict row;
          row["name"] = t.name;
          row["obs_dim"] = t.obs_dim;
          row["act_dim"] = t.act_dim;
          row["action_bound"] = t.action_bound;
          row["steps_per_trial"] = t.steps_per_trial;
          row["default_trials"] = t.default_trials;
          row["frame_skip"] = t.frame_skip;
          row["angle_dims"] = py::tuple(py::cast(t.angle_dims));
          row["absolute_target_dims"] = py::tuple(py::cast(t.absolute_target_dims));
          row["model_input_dim"] = t.model_input_dim;
          rows.append(row);
        }
        return rows;
      },
      "The C++ table of built-in tasks (AllTasks()), one dict per task in list order.");
  m.def(
      "planner_task_info",
      [](const std::string& name) {
        const PlannerTask& t = FindPlannerTask(name);
        py::dict row;
        row["name"] = t.name;
        row["obs_dim"] = t.obs_dim;
        row["act_dim"] = t.act_dim;
        row["model_input_dim"] = t.model_input_dim;
        py::list absolute;
        for (int i = 0; i < t.obs_dim; ++i) {
          if (t.absolute_target[i]) absolute.append(i);
        }
        row["absolute_target_dims"] = py::tuple(absolute);
        return row;
      },
      py::arg("name"), "The native planner's entry for task `name` (dims and absolute targets).");
}

}  // namespace mbrlhpo::bindings::testing
