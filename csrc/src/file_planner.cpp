// FilePlanner: the CPU planner driven by a model file (the C++ consumer's controller).
#include <algorithm>
#include <cmath>
#include <memory>
#include <utility>
#include <vector>

#include "mbrlhpo/errors.h"
#include "mbrlhpo/model_file.h"

namespace mbrlhpo {

FilePlanner::FilePlanner(std::shared_ptr<const ModelFile> file, uint64_t seed, int num_threads)
    : file_(std::move(file)), engine_(num_threads) {
  MBRLHPO_CHECK(file_ != nullptr, "FilePlanner needs a model file, got null");
  problem_.task = &file_->task();
  problem_.net = file_->ensemble_view();
  problem_.cem = file_->cem();
  problem_.seed = seed;
  problem_.action_low = file_->action_low().data();
  problem_.action_high = file_->action_high().data();
  const int a = act_dim();
  mid_.resize(a);
  for (int i = 0; i < a; ++i) mid_[i] = (file_->action_low()[i] + file_->action_high()[i]) / 2.0f;
  out_mean_.resize(static_cast<size_t>(horizon()) * a);
  Reset();
}

void FilePlanner::Reset() {
  const int a = act_dim();
  warm_start_.resize(static_cast<size_t>(horizon()) * a);
  for (int h = 0; h < horizon(); ++h) {
    std::copy(mid_.begin(), mid_.end(), warm_start_.begin() + static_cast<size_t>(h) * a);
  }
}

void FilePlanner::set_warm_start(const std::vector<float>& mean) {
  MBRLHPO_CHECK(mean.size() == warm_start_.size(), "expected a warm start of ", horizon(), " x ",
                act_dim(), " = ", warm_start_.size(), " values, got ", mean.size());
  for (float x : mean) MBRLHPO_CHECK(std::isfinite(x), "warm start contains NaN or inf");
  warm_start_ = mean;
}

void FilePlanner::Act(const float* obs, float* action) {
  const int o = obs_dim(), a = act_dim(), h = horizon();
  for (int i = 0; i < o; ++i) {
    MBRLHPO_CHECK(std::isfinite(obs[i]), "obs contains NaN or inf (obs[", i, "] = ", obs[i], ")");
  }
  std::vector<PlanRequest> requests(1);
  PlanRequest& r = requests[0];
  r.problem = problem_;
  r.inputs.obs = obs;
  r.inputs.warm_start = warm_start_.data();
  r.inputs.step = step_;
  r.outputs.mean = out_mean_.data();
  engine_.Plan(requests);
  for (int i = 0; i < a; ++i) {
    action[i] = std::min(std::max(out_mean_[i], file_->action_low()[i]), file_->action_high()[i]);
  }
  std::copy(out_mean_.begin() + a, out_mean_.end(), warm_start_.begin());
  std::copy(mid_.begin(), mid_.end(), warm_start_.begin() + static_cast<size_t>(h - 1) * a);
  ++step_;
}

std::unique_ptr<FilePlanner> LoadPlanner(const std::string& path, uint64_t seed, int num_threads) {
  auto file = std::make_shared<const ModelFile>(ModelFile::Load(path));
  return std::make_unique<FilePlanner>(std::move(file), seed, num_threads);
}

}  // namespace mbrlhpo
