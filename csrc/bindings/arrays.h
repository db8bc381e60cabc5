// Array checks shared by the production module (_core) and the test-only module (_core_testing):
// shapes printed as Python prints them, float32 arrays checked before their pointers are used.
#pragma once

#include <pybind11/numpy.h>

#include <string>
#include <vector>

#include "mbrlhpo/errors.h"

namespace mbrlhpo::bindings {

inline std::string ShapeStr(const pybind11::array& a) {
  std::string s = "(";
  for (pybind11::ssize_t i = 0; i < a.ndim(); ++i) {
    s += std::to_string(a.shape(i));
    s += (a.ndim() == 1 ? "," : (i + 1 < a.ndim() ? ", " : ""));
  }
  return s + ")";
}

inline std::string ShapeStr(const std::vector<pybind11::ssize_t>& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    s += std::to_string(shape[i]);
    s += (shape.size() == 1 ? "," : (i + 1 < shape.size() ? ", " : ""));
  }
  return s + ")";
}

// Checks dtype float32, C-contiguity and shape; returns the data pointer (no copy).
inline const float* CheckFloatArray(const pybind11::array& a, const std::string& name,
                                    const std::vector<pybind11::ssize_t>& shape) {
  MBRLHPO_CHECK(a.dtype().is(pybind11::dtype::of<float>()), "expected ", name,
                " of dtype float32, got ", std::string(pybind11::str(a.dtype())));
  MBRLHPO_CHECK((a.flags() & pybind11::array::c_style) != 0, "expected ", name,
                " to be C-contiguous");
  bool ok = a.ndim() == static_cast<pybind11::ssize_t>(shape.size());
  for (size_t i = 0; ok && i < shape.size(); ++i) ok = a.shape(i) == shape[i];
  MBRLHPO_CHECK(ok, "expected ", name, " of shape ", ShapeStr(shape), ", got ", ShapeStr(a));
  return static_cast<const float*>(a.data());
}

}  // namespace mbrlhpo::bindings
