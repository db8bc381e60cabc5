// custom_task_cpp: adds a task to mbrlhpo from C++ (point_mass_task.h, one registration call)
// and plans with it on mbrlhpo's CPU planner, with no Python and no change to mbrlhpo.
//
// Usage: custom_task_cpp [--steps N]
//
// The task: a point mass on a track (obs [position x, velocity v], action a force in [-1, 1],
// reward -(x - 1)^2 - 0.01 a^2). Its true dynamics, x' = x + dt v and v' = v + dt a, are also
// written into a one-member ensemble by hand, exactly: the planner's MLP has swish hidden
// layers, and swish(u) - swish(-u) = u passes a linear map through them unchanged. So the
// planner's model is right, and MPC must drive the mass from x = 0 to the goal x = 1: the
// program plans every step, applies the first action to the true dynamics, and exits nonzero if
// the mass does not end within 0.1 of the goal.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include "mbrlhpo/mbrlhpo.h"  // the whole consumer API
#include "point_mass_task.h"

namespace {

constexpr float kDt = 0.1f;

// The ensemble (E = 1): input [x, v, a] (normalised with mean 0, std 1) -> 6 swish units
// (x, -x, v, -v, a, -a) -> [mean dx, mean dv, raw logvar x 2].
struct ExactModel {
  std::vector<float> w0 = std::vector<float>(3 * 6, 0.0f), b0 = std::vector<float>(6, 0.0f);
  std::vector<float> w1 = std::vector<float>(6 * 4, 0.0f), b1 = {0.0f, 0.0f, -30.0f, -30.0f};
  std::vector<float> max_logvar = {0.0f, 0.0f}, min_logvar = {-20.0f, -20.0f};
  std::vector<float> input_mean = {0.0f, 0.0f, 0.0f}, input_std = {1.0f, 1.0f, 1.0f};

  ExactModel() {
    for (int i = 0; i < 3; ++i) {  // w0 is (in 3 x out 6), row-major
      w0[i * 6 + 2 * i] = 1.0f;
      w0[i * 6 + 2 * i + 1] = -1.0f;
    }
    // dx = dt v = dt (swish(v) - swish(-v)); dv = dt a. w1 is (in 6 x out 4).
    w1[2 * 4 + 0] = kDt;
    w1[3 * 4 + 0] = -kDt;
    w1[4 * 4 + 1] = kDt;
    w1[5 * 4 + 1] = -kDt;
  }

  mbrlhpo::EnsembleView View() const {
    mbrlhpo::EnsembleView net;
    net.ensemble_size = 1;
    net.layer_sizes = {3, 6, 4};
    net.weights = {w0.data(), w1.data()};
    net.biases = {b0.data(), b1.data()};
    net.max_logvar = max_logvar.data();
    net.min_logvar = min_logvar.data();
    net.input_mean = input_mean.data();
    net.input_std = input_std.data();
    return net;
  }
};

}  // namespace

int main(int argc, char** argv) {
  int steps = 40;
  if (argc == 3 && std::string(argv[1]) == "--steps") {
    steps = std::atoi(argv[2]);
  } else if (argc != 1) {
    std::fprintf(stderr, "usage: custom_task_cpp [--steps N]\n");
    return 2;
  }
  try {
    using point_mass::PointMass;
    // The one call that adds the task (registering the same definition again is harmless).
    mbrlhpo::RegisterPlannerTask(mbrlhpo::MakePlannerTask<PointMass>(PointMass::kName));

    const ExactModel model;
    mbrlhpo::PlanRequest request;
    mbrlhpo::PlanProblem& problem = request.problem;
    problem.task = &mbrlhpo::FindPlannerTask(PointMass::kName);
    problem.net = model.View();
    problem.cem =
        mbrlhpo::CemSettings{/*horizon=*/15,   /*population=*/200, /*num_elites=*/20,
                             /*iterations=*/4, /*alpha=*/0.1f,     /*particles=*/4};
    problem.seed = 7;
    const float low[1] = {-1.0f}, high[1] = {1.0f};
    problem.action_low = low;
    problem.action_high = high;
    const int h = problem.cem.horizon;
    std::vector<float> warm(h, 0.0f), mean(h, 0.0f);
    float obs[2] = {0.0f, 0.0f};
    request.inputs.obs = obs;
    request.inputs.warm_start = warm.data();
    request.outputs.mean = mean.data();

    mbrlhpo::CemPlanner planner(/*num_threads=*/0);
    double ret = 0.0;
    for (int t = 0; t < steps; ++t) {
      request.inputs.step = static_cast<uint32_t>(t);
      planner.Plan({request});
      const float a = std::fmin(1.0f, std::fmax(-1.0f, mean[0]));
      const float next[2] = {obs[0] + kDt * obs[1], obs[1] + kDt * a};
      ret += PointMass::Reward(&a, next);
      obs[0] = next[0];
      obs[1] = next[1];
      for (int i = 0; i + 1 < h; ++i) warm[i] = mean[i + 1];  // shift the plan: warm start
      warm[h - 1] = 0.0f;
      if (t % 10 == 0 || t + 1 == steps) {
        std::printf("step %3d  x %+.3f  v %+.3f  a %+.3f\n", t, obs[0], obs[1], a);
      }
    }
    const float miss = std::fabs(obs[0] - PointMass::kGoal);
    std::printf("task '%s' (registered from C++): return %.3f, final distance to goal %.3f\n",
                PointMass::kName, ret, miss);
    return miss < 0.1f ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "custom_task_cpp: %s\n", e.what());
    return 1;
  }
}
