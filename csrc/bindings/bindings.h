// Registration functions, one per bind_*.cpp; module.cpp calls them in order.
#pragma once

#include <pybind11/pybind11.h>

namespace mbrlhpo::bindings {

void RegisterInfo(pybind11::module_& m);
void RegisterEnvs(pybind11::module_& m);
void RegisterPlanner(pybind11::module_& m);
void RegisterModelFile(pybind11::module_& m);
#ifdef MBRLHPO_BINDINGS_CUDA
void RegisterCudaPlanner(pybind11::module_& m);  // bind_cuda_planner.cpp
#endif

}  // namespace mbrlhpo::bindings
