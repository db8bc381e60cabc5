// Registers the planner's two analytic test tasks (planner_test_tasks.h) with the planner's
// run-time registry, as a custom task would be: the production registry holds only the built-in
// tasks. Called by the C++ tests that plan with them and by mbrlhpo._core_testing at import (one
// module per process, so the same definition is registered each time: RegisterPlannerTask
// accepts that).
#pragma once

#include "mbrlhpo/planner_task.h"
#include "planner_test_tasks.h"

namespace mbrlhpo {

inline void RegisterPlannerTestTasks() {
  RegisterPlannerTask(MakePlannerTask<tasks::TestLinear>("test_linear"));
  RegisterPlannerTask(MakePlannerTask<tasks::TestPendulum>("test_pendulum"));
}

}  // namespace mbrlhpo
