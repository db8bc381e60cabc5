// A verified ModelFile as Python values, for the loaders of both modules (_core's
// load_model_file, _core_testing's parse_model_file).
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstring>
#include <vector>

#include "mbrlhpo/model_file.h"

namespace mbrlhpo::bindings {

// (metadata {str: str}, arrays {name: float32 ndarray}) of a verified file.
inline pybind11::tuple ToPython(const ModelFile& file) {
  namespace py = pybind11;
  py::dict metadata;
  for (const auto& [key, value] : file.metadata()) metadata[py::str(key)] = py::str(value);
  py::dict arrays;
  for (const auto& [name, t] : file.tensors()) {
    std::vector<py::ssize_t> shape(t.shape.begin(), t.shape.end());
    py::array_t<float> a(shape);
    if (!t.data.empty()) std::memcpy(a.mutable_data(), t.data.data(), t.data.size());
    arrays[py::str(name)] = a;
  }
  return py::make_tuple(metadata, arrays);
}

}  // namespace mbrlhpo::bindings
