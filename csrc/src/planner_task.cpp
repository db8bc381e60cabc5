#include "mbrlhpo/planner_task.h"

#include <map>
#include <mutex>

#include "mbrlhpo/errors.h"
#include "mbrlhpo/tasks.h"

namespace mbrlhpo {
namespace {

const std::map<std::string, PlannerTask>& Registry() {
  static const std::map<std::string, PlannerTask> registry = [] {
    std::map<std::string, PlannerTask> r;
    auto add = [&r](PlannerTask t) { r.emplace(t.name, std::move(t)); };
    // The built-in tasks, from the list (mbrlhpo/tasks/builtin.h); the planner's test tasks are
    // registered by the tests (RegisterPlannerTestTasks, planner_test_tasks.h).
#define MBRLHPO_ADD_TASK(Type) add(MakePlannerTask<tasks::Type>(tasks::Type::kName));
    MBRLHPO_BUILTIN_TASKS(MBRLHPO_ADD_TASK)
#undef MBRLHPO_ADD_TASK
    return r;
  }();
  return registry;
}

}  // namespace

// ---- Tasks registered at run time (RegisterPlannerTask), beside the built-in table above.
namespace {

struct RegisteredTasks {
  std::mutex mutex;
  std::map<std::string, PlannerTask> tasks;  // map nodes never move: references stay valid
};

RegisteredTasks& Registered() {
  static RegisteredTasks* registered =
      new RegisteredTasks();  // never destroyed: references live until exit
  return *registered;
}

bool SameDefinition(const PlannerTask& a, const PlannerTask& b) {
  return a.obs_dim == b.obs_dim && a.act_dim == b.act_dim &&
         a.model_input_dim == b.model_input_dim && a.absolute_target == b.absolute_target &&
         a.reward == b.reward && a.terminated == b.terminated && a.model_input == b.model_input;
}

std::string AllNames() {
  std::string names;
  for (const std::string& n : PlannerTaskNames()) names += (names.empty() ? "" : ", ") + n;
  return names;
}

}  // namespace

void RegisterPlannerTask(const PlannerTask& task) {
  MBRLHPO_CHECK(!task.name.empty(), "expected a task name, got an empty one");
  MBRLHPO_CHECK(task.obs_dim >= 1 && task.act_dim >= 1, "task '", task.name,
                "': expected obs_dim and act_dim >= 1, got ", task.obs_dim, " and ", task.act_dim);
  MBRLHPO_CHECK(task.model_input_dim >= task.obs_dim, "task '", task.name,
                "': expected model_input_dim >= obs_dim (", task.obs_dim, "), got ",
                task.model_input_dim);
  MBRLHPO_CHECK(task.absolute_target.size() == static_cast<size_t>(task.obs_dim), "task '",
                task.name, "': expected absolute_target of size ", task.obs_dim, ", got ",
                task.absolute_target.size());
  MBRLHPO_CHECK(task.reward != nullptr && task.terminated != nullptr && task.model_input != nullptr,
                "task '", task.name,
                "': expected reward, terminated and model_input functions, "
                "got a null one");
  MBRLHPO_CHECK(Registry().count(task.name) == 0, "task '", task.name,
                "' is a built-in task; expected a new name");
  RegisteredTasks& r = Registered();
  std::lock_guard<std::mutex> lock(r.mutex);
  auto [it, inserted] = r.tasks.emplace(task.name, task);
  MBRLHPO_CHECK(inserted || SameDefinition(it->second, task), "task '", task.name,
                "' is already registered with a different definition; expected a new name");
}

const PlannerTask& FindPlannerTask(const std::string& name) {
  const auto& builtin = Registry();
  if (auto it = builtin.find(name); it != builtin.end()) return it->second;
  {
    RegisteredTasks& r = Registered();
    std::lock_guard<std::mutex> lock(r.mutex);
    if (auto it = r.tasks.find(name); it != r.tasks.end()) return it->second;
  }
  throw Error(
      internal::Concat("no native planner task named '", name, "'; expected one of: ", AllNames()));
}

std::vector<std::string> PlannerTaskNames() {
  std::vector<std::string> names;
  for (const auto& [n, t] : Registry()) names.push_back(n);
  RegisteredTasks& r = Registered();
  std::lock_guard<std::mutex> lock(r.mutex);
  for (const auto& [n, t] : r.tasks) names.push_back(n);
  return names;
}

}  // namespace mbrlhpo
