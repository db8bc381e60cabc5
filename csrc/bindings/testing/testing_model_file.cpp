// The strict policy-file loader on bytes (for mutation tests and fuzzing) and the core's SHA-256
// (against hashlib), for tests/planning/test_export.py.
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string_view>

#include "mbrlhpo/model_file.h"
#include "model_file_tuple.h"
#include "testing.h"

namespace py = pybind11;

namespace mbrlhpo::bindings::testing {
namespace {

ModelFile FromPyBytes(const py::bytes& data) {
  std::string_view view = data;  // pybind11 >= 2.10: no copy
  return ModelFile::FromBytes(reinterpret_cast<const uint8_t*>(view.data()), view.size());
}

}  // namespace

void RegisterModelFile(py::module_& m) {
  m.def(
      "parse_model_file", [](const py::bytes& data) { return ToPython(FromPyBytes(data)); },
      py::arg("data"), "load_model_file on the bytes of a file.");
  m.def(
      "sha256_hex",
      [](const py::bytes& data) {
        std::string_view view = data;
        return Sha256Hex(view.data(), view.size());
      },
      py::arg("data"), "The core's SHA-256 (lowercase hex), for tests against hashlib.");
}

}  // namespace mbrlhpo::bindings::testing
