// The native vectorised env (mbrlhpo::VecEnv) and the C++ task functions, for mbrlhpo.envs.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <optional>
#include <string>

#include "bindings.h"
#include "mbrlhpo/errors.h"
#include "mbrlhpo/planner_task.h"
#include "mbrlhpo/tasks.h"
#include "mbrlhpo/vec_env.h"

namespace py = pybind11;

namespace mbrlhpo::bindings {
namespace {

using ArrayD = py::array_t<double, py::array::c_style | py::array::forcecast>;

class PyVecEnv {
 public:
  PyVecEnv(const std::string& task, const std::string& model_file, int num_envs, int num_threads,
           uint64_t seed, int max_episode_steps) {
    VecEnvConfig config;
    config.task = task;
    config.model_file = model_file;
    config.num_envs = num_envs;
    config.num_threads = num_threads;
    config.seed = seed;
    config.max_episode_steps = max_episode_steps;
    env_ = std::make_unique<VecEnv>(config);
  }

  // seed None: every env starts its next episode of the current streams.
  py::array_t<double> Reset(std::optional<uint64_t> seed) {
    VecEnv& env = Env();
    py::array_t<double> obs({env.num_envs(), env.obs_dim()});
    double* out = obs.mutable_data();
    {
      py::gil_scoped_release release;
      if (seed.has_value()) {
        env.Reset(*seed, out);
      } else {
        env.Reset(out);
      }
    }
    return obs;
  }

  py::tuple Step(const ArrayD& actions) {
    VecEnv& env = Env();
    const int n = env.num_envs();
    MBRLHPO_CHECK(actions.ndim() == 2 && actions.shape(0) == n && actions.shape(1) == env.act_dim(),
                  "expected actions of shape (", n, ", ", env.act_dim(), "), got ndim ",
                  actions.ndim());
    py::array_t<double> obs({n, env.obs_dim()});
    py::array_t<double> reward(n);
    py::array_t<bool> terminated(n), truncated(n), diverged(n);
    const double* act = actions.data();
    double* o = obs.mutable_data();
    double* r = reward.mutable_data();
    auto* te = reinterpret_cast<uint8_t*>(terminated.mutable_data());
    auto* tr = reinterpret_cast<uint8_t*>(truncated.mutable_data());
    auto* dv = reinterpret_cast<uint8_t*>(diverged.mutable_data());
    {
      py::gil_scoped_release release;
      env.Step(act, o, r, te, tr, dv);
    }
    return py::make_tuple(obs, reward, terminated, truncated, diverged);
  }

  py::array_t<double> SetState(int index, const ArrayD& qpos, const ArrayD& qvel) {
    VecEnv& env = Env();
    MBRLHPO_CHECK(qpos.ndim() == 1 && qpos.shape(0) == env.nq() && qvel.ndim() == 1 &&
                      qvel.shape(0) == env.nv(),
                  "expected qpos (", env.nq(), ",) and qvel (", env.nv(), ",)");
    py::array_t<double> obs(env.obs_dim());
    env.SetState(index, qpos.data(), qvel.data(), obs.mutable_data());
    return obs;
  }

  void Close() { env_.reset(); }
  int num_threads() { return Env().num_threads(); }

 private:
  VecEnv& Env() {
    MBRLHPO_CHECK(env_ != nullptr, "this VecEnv is closed");
    return *env_;
  }
  std::unique_ptr<VecEnv> env_;
};

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

void RegisterEnvs(py::module_& m) {
  py::class_<PyVecEnv>(m, "NativeVecEnv", "N copies of one task on MuJoCo's batch API.")
      .def(py::init<const std::string&, const std::string&, int, int, uint64_t, int>(),
           py::arg("task"), py::arg("model_file"), py::arg("num_envs"), py::arg("num_threads"),
           py::arg("seed"), py::arg("max_episode_steps"))
      .def("reset", &PyVecEnv::Reset, py::arg("seed") = py::none())
      .def("step", &PyVecEnv::Step, py::arg("actions"))
      .def("set_state", &PyVecEnv::SetState, py::arg("index"), py::arg("qpos"), py::arg("qvel"))
      .def("close", &PyVecEnv::Close)
      .def_property_readonly("num_threads", &PyVecEnv::num_threads);
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

}  // namespace mbrlhpo::bindings
