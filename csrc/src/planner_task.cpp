#include "mbrlhpo/planner_task.h"

#include <map>

#include "mbrlhpo/errors.h"
#include "mbrlhpo/tasks.h"
#include "planner_test_tasks.h"

namespace mbrlhpo {
namespace {

const std::map<std::string, PlannerTask>& Registry() {
  static const std::map<std::string, PlannerTask> registry = [] {
    std::map<std::string, PlannerTask> r;
    auto add = [&r](PlannerTask t) { r.emplace(t.name, std::move(t)); };
    add(MakePlannerTask<tasks::TestLinear>("test_linear"));
    add(MakePlannerTask<tasks::TestPendulum>("test_pendulum"));
    // The built-in tasks, from the list (mbrlhpo/tasks/builtin.h).
#define MBRLHPO_ADD_TASK(Type) add(MakePlannerTask<tasks::Type>(tasks::Type::kName));
    MBRLHPO_BUILTIN_TASKS(MBRLHPO_ADD_TASK)
#undef MBRLHPO_ADD_TASK
    return r;
  }();
  return registry;
}

}  // namespace

const PlannerTask& FindPlannerTask(const std::string& name) {
  const auto& r = Registry();
  auto it = r.find(name);
  if (it == r.end()) {
    std::string names;
    for (const auto& [n, t] : r) names += (names.empty() ? "" : ", ") + n;
    throw Error(
        internal::Concat("no native planner task named '", name, "'; expected one of: ", names));
  }
  return it->second;
}

std::vector<std::string> PlannerTaskNames() {
  std::vector<std::string> names;
  for (const auto& [n, t] : Registry()) names.push_back(n);
  return names;
}

}  // namespace mbrlhpo
