// Registration functions of the test-only module mbrlhpo._core_testing, one per testing_*.cpp;
// module.cpp calls them in order.
#pragma once

#include <pybind11/pybind11.h>

namespace mbrlhpo::bindings::testing {

void RegisterInfo(pybind11::module_& m);       // testing_info.cpp
void RegisterTasks(pybind11::module_& m);      // testing_tasks.cpp
void RegisterPlanner(pybind11::module_& m);    // testing_planner.cpp
void RegisterModelFile(pybind11::module_& m);  // testing_model_file.cpp

}  // namespace mbrlhpo::bindings::testing
