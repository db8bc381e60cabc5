// RegisterPlannerTask: a task added at run time is found by name, plans like the same task
// built in, clashes are refused with a clear message, and registering concurrently is safe.
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "check.h"
#include "mbrlhpo/errors.h"
#include "mbrlhpo/planner_task.h"
#include "register_planner_test_tasks.h"  // csrc/src (internal include path)

namespace {

using mbrlhpo::FindPlannerTask;
using mbrlhpo::PlannerTask;
using mbrlhpo::RegisterPlannerTask;

float Reward(const float* a, const float* s) { return s[0] - 0.5f * a[0] * a[0]; }
float OtherReward(const float* a, const float* s) { return s[0] - a[0] * a[0]; }
int Terminated(const float* s) { return s[0] > 10.0f ? 1 : 0; }
void ModelInput(const float* s, float* out) {
  out[0] = s[0];
  out[1] = s[1];
}

PlannerTask MyTask(const std::string& name) {
  PlannerTask t;
  t.name = name;
  t.obs_dim = 2;
  t.act_dim = 1;
  t.model_input_dim = 2;
  t.absolute_target = {0, 1};
  t.reward = Reward;
  t.terminated = Terminated;
  t.model_input = ModelInput;
  return t;
}

std::string ErrorOf(const PlannerTask& t) {
  try {
    RegisterPlannerTask(t);
  } catch (const mbrlhpo::Error& e) {
    return e.what();
  }
  return "";
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST(TestTasksAreNotInTheProductionRegistryUntilTheTestsRegisterThem) {
  for (const std::string& n : mbrlhpo::PlannerTaskNames()) CHECK(n.rfind("test_", 0) != 0);
  bool threw = false;
  try {
    FindPlannerTask("test_linear");
  } catch (const mbrlhpo::Error&) {
    threw = true;
  }
  CHECK(threw);
  mbrlhpo::RegisterPlannerTestTasks();
  mbrlhpo::RegisterPlannerTestTasks();  // the same definition again: accepted
  CHECK(FindPlannerTask("test_linear").obs_dim == 2);
  CHECK(FindPlannerTask("test_pendulum").model_input_dim == 3);
}

TEST(RegisteredTaskIsFoundByName) {
  RegisterPlannerTask(MyTask("registry_found"));
  const PlannerTask& t = FindPlannerTask("registry_found");
  const float a[1] = {2.0f}, s[2] = {11.0f, 0.0f};
  CHECK(t.obs_dim == 2 && t.act_dim == 1 && t.absolute_target[1] == 1);
  CHECK(t.reward(a, s) == 9.0f);
  CHECK(t.terminated(s) == 1);
  bool listed = false;
  for (const std::string& n : mbrlhpo::PlannerTaskNames()) listed |= n == "registry_found";
  CHECK(listed);
}

TEST(SameDefinitionTwiceIsFine) {
  RegisterPlannerTask(MyTask("registry_twice"));
  const PlannerTask* first = &FindPlannerTask("registry_twice");
  RegisterPlannerTask(MyTask("registry_twice"));
  CHECK(&FindPlannerTask("registry_twice") == first);
}

TEST(ClashesAndBadTablesAreRefused) {
  CHECK(Contains(ErrorOf(MyTask("halfcheetah")), "'halfcheetah' is a built-in task"));
  RegisterPlannerTask(MyTask("registry_clash"));
  PlannerTask other = MyTask("registry_clash");
  other.reward = OtherReward;
  CHECK(Contains(ErrorOf(other), "already registered with a different definition"));
  CHECK(FindPlannerTask("registry_clash").reward == Reward);  // the first one stays
  PlannerTask null_fn = MyTask("registry_null");
  null_fn.terminated = nullptr;
  CHECK(Contains(ErrorOf(null_fn), "got a null one"));
  PlannerTask bad_abs = MyTask("registry_abs");
  bad_abs.absolute_target = {0};
  CHECK(Contains(ErrorOf(bad_abs), "expected absolute_target of size 2, got 1"));
  CHECK(Contains(ErrorOf(MyTask("")), "empty"));
  bool threw = false;
  try {
    FindPlannerTask("registry_null");
  } catch (const mbrlhpo::Error& e) {
    threw = Contains(e.what(), "registry_found");  // the message lists registered names too
  }
  CHECK(threw);
}

TEST(ConcurrentRegistrationAndLookup) {
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([i, &failures] {
      for (int k = 0; k < 50; ++k) {
        const std::string name = "registry_thread_" + std::to_string((i + k) % 4);
        RegisterPlannerTask(MyTask(name));
        if (FindPlannerTask(name).reward != Reward) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(failures == 0);
  for (int i = 0; i < 4; ++i) CHECK(FindPlannerTask("registry_thread_" + std::to_string(i)).reward);
}

TEST_MAIN()
