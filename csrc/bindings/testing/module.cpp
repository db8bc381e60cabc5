// The Python module mbrlhpo._core_testing: bindings that only the tests use (the C++ task
// functions and tables, the RNG, the BF16 kernel, the policy-file loader on bytes, SHA-256, the
// MuJoCo and CUDA self tests). Built and installed beside mbrlhpo._core, which holds what the
// package itself calls; nothing in src/mbrlhpo imports this one (tests/test_core_testing.py).
#include <pybind11/pybind11.h>

#include "mbrlhpo/build_info.h"
#include "mbrlhpo/errors.h"
#include "register_planner_test_tasks.h"  // csrc/src
#include "testing.h"

namespace py = pybind11;

PYBIND11_MODULE(_core_testing, m) {
  m.doc() = "mbrlhpo native core: test-only bindings (imported by tests, never by the package)";
  // Local, so that this module's errors never depend on _core's translator being registered.
  py::register_local_exception<mbrlhpo::Error>(m, "NativeError", PyExc_ValueError);
  mbrlhpo::CheckMuJoCoVersion();
  // the planner's test tasks (test_linear, test_pendulum): for the tests only, so here
  mbrlhpo::RegisterPlannerTestTasks();
  mbrlhpo::bindings::testing::RegisterInfo(m);
  mbrlhpo::bindings::testing::RegisterTasks(m);
  mbrlhpo::bindings::testing::RegisterPlanner(m);
  mbrlhpo::bindings::testing::RegisterModelFile(m);
}
