// Errors of the core: one exception type whose message says what was expected and what came.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

#include "mbrlhpo/export.h"

namespace mbrlhpo {

// Raised for bad input (shapes, values, files) and for failures of libraries the core calls.
class MBRLHPO_API Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace internal {
template <typename... Parts>
std::string Concat(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}
}  // namespace internal

}  // namespace mbrlhpo

// MBRLHPO_CHECK(cond, "expected ", x, ", got ", y): throws mbrlhpo::Error when cond is false.
#define MBRLHPO_CHECK(cond, ...)                                        \
  do {                                                                  \
    if (!(cond)) {                                                      \
      throw ::mbrlhpo::Error(::mbrlhpo::internal::Concat(__VA_ARGS__)); \
    }                                                                   \
  } while (0)
