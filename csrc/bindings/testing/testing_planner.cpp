// The planner's building blocks, for tests against their references: the counter-based RNG
// (tests/planning/test_native_planner.py against planning/rng.py), the BF16 kernel
// (tests/planning/test_bf16_planner.py) and the default thread count.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <vector>

#include "arrays.h"
#include "bf16_gemm.h"
#include "mbrlhpo/cem_planner.h"
#include "mbrlhpo/errors.h"
#include "mbrlhpo/rng.h"
#include "testing.h"

namespace py = pybind11;

namespace mbrlhpo::bindings::testing {

void RegisterPlanner(py::module_& m) {
  m.def("default_num_threads", &DefaultThreadCount,
        "Threads the native planner and environments use for num_threads=0: the CPUs this "
        "process may run on (its affinity), at most OMP_NUM_THREADS.");
  m.def(
      "rng_bits",
      [](uint64_t seed, uint32_t stream, uint32_t step, uint32_t iteration, uint32_t row,
         uint32_t k) {
        return rng::Bits(rng::RowKey(rng::PrefixKey(seed, stream, step, iteration), row), k);
      },
      "The planners' counter-based 32 random bits (for tests against planning/rng.py).");
  m.def("rng_truncated_normal", [](double u) { return rng::TruncatedNormalFromUniform(u); });

  m.def(
      "bf16_round",
      [](const py::array& x) {
        const py::ssize_t n = x.size();
        const std::vector<py::ssize_t> shape(x.shape(), x.shape() + x.ndim());
        const float* src = CheckFloatArray(x, "x", shape);
        py::array_t<float> out(shape);
        float* dst = out.mutable_data();
        for (py::ssize_t i = 0; i < n; ++i) dst[i] = bf16::ToFloat(bf16::FromFloat(src[i]));
        return out;
      },
      py::arg("x"), "float32 -> nearest BF16 (ties to even) -> float32, elementwise.");
  m.def(
      "bf16_matmul",
      [](const py::array& a, const py::array& w) {
        bf16::RequireSupported();
        MBRLHPO_CHECK(a.ndim() == 2 && w.ndim() == 2 && a.shape(1) == w.shape(0),
                      "expected a (rows x k) and w (k x n), got ", ShapeStr(a), " and ",
                      ShapeStr(w));
        const int rows = static_cast<int>(a.shape(0)), k = static_cast<int>(a.shape(1)),
                  n = static_cast<int>(w.shape(1));
        const float* ap = CheckFloatArray(a, "a", {rows, k});
        const float* wp = CheckFloatArray(w, "w", {k, n});
        py::array_t<float> c({rows, n});
        float* cp = c.mutable_data();
        {
          py::gil_scoped_release release;
          bf16::PackedB b;
          bf16::PackB(wp, k, n, &b);
          std::vector<uint16_t> abf(static_cast<size_t>(rows) * bf16::PaddedK(k) + 1);
          bf16::ConvertRows(ap, rows, k, abf.data());
          bf16::Gemm(rows, abf.data(), bf16::PaddedK(k), b, cp, n);
        }
        return c;
      },
      py::arg("a"), py::arg("w"),
      "C = bf16(a) @ bf16(w) with fp32 accumulation (the planner's BF16 kernel; for tests).");
}

}  // namespace mbrlhpo::bindings::testing
