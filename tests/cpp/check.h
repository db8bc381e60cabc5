// A minimal test harness for the core's ctest executables: CHECK records failures and main()
// returns nonzero if any; TEST registers a function. No framework dependency.
#pragma once

#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace mbrlhpo_test {

struct Registry {
  std::vector<std::pair<std::string, std::function<void()>>> tests;
  int failures = 0;
  static Registry& Get() {
    static Registry registry;
    return registry;
  }
};

struct Register {
  Register(const char* name, std::function<void()> fn) {
    Registry::Get().tests.emplace_back(name, std::move(fn));
  }
};

inline int RunAll() {
  auto& registry = Registry::Get();
  for (auto& [name, fn] : registry.tests) {
    const int before = registry.failures;
    try {
      fn();
    } catch (const std::exception& e) {
      std::printf("  exception: %s\n", e.what());
      ++registry.failures;
    }
    std::printf("[%s] %s\n", registry.failures == before ? "ok" : "FAIL", name.c_str());
  }
  return registry.failures == 0 ? 0 : 1;
}

}  // namespace mbrlhpo_test

#define TEST(name)                                              \
  static void name();                                           \
  static ::mbrlhpo_test::Register register_##name(#name, name); \
  static void name()

#define CHECK(cond)                                                          \
  do {                                                                       \
    if (!(cond)) {                                                           \
      std::printf("  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
      ++::mbrlhpo_test::Registry::Get().failures;                            \
    }                                                                        \
  } while (0)

#define CHECK_NEAR(a, b, tol)                                                                   \
  do {                                                                                          \
    const double va = (a), vb = (b);                                                            \
    if (!(std::fabs(va - vb) <= (tol))) {                                                       \
      std::printf("  %s:%d: %s = %.9g vs %s = %.9g (tol %g)\n", __FILE__, __LINE__, #a, va, #b, \
                  vb, static_cast<double>(tol));                                                \
      ++::mbrlhpo_test::Registry::Get().failures;                                               \
    }                                                                                           \
  } while (0)

#define CHECK_THROWS(expr)                                                   \
  do {                                                                       \
    bool thrown = false;                                                     \
    try {                                                                    \
      expr;                                                                  \
    } catch (const std::exception&) {                                        \
      thrown = true;                                                         \
    }                                                                        \
    if (!thrown) {                                                           \
      std::printf("  %s:%d: %s did not throw\n", __FILE__, __LINE__, #expr); \
      ++::mbrlhpo_test::Registry::Get().failures;                            \
    }                                                                        \
  } while (0)

#define TEST_MAIN() \
  int main() { return ::mbrlhpo_test::RunAll(); }
