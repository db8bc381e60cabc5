// Internal helpers shared by the safetensors parser and the model file's validation.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mbrlhpo::detail {

// Bytes per element of a safetensors dtype ("F32" -> 4); 0 for an unknown dtype.
int DtypeSize(const std::string& dtype);

// "(2, 6, 8)", "(3,)": a shape as errors print it (NumPy's way).
std::string ShapeString(const std::vector<int64_t>& shape);

}  // namespace mbrlhpo::detail
