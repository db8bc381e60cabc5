// The native vectorised env (mbrlhpo::VecEnv), for mbrlhpo.envs. (The C++ task functions and
// tables, for tests against the Python definitions: testing/testing_tasks.cpp.)
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <optional>
#include <string>

#include "bindings.h"
#include "mbrlhpo/errors.h"
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
}

}  // namespace mbrlhpo::bindings
