// MBRLHPO_HOST_DEVICE marks functions compiled both for the host and (under nvcc) the device,
// plus the few math functions the tasks need, overloaded for float and double.
#pragma once

#include <cmath>

#if defined(__CUDACC__)
#define MBRLHPO_HOST_DEVICE __host__ __device__
#else
#define MBRLHPO_HOST_DEVICE
#endif

namespace mbrlhpo::hd {

#if defined(__CUDA_ARCH__)
// Device sin/cos of a float without CUDA's sinf/cosf: their Payne-Hanek slow path keeps a 28-byte
// array in local memory, which gives every planner kernel that calls them a stack frame and
// spills (ptxas -warn-lmem-usage). Instead: Cody-Waite reduction by pi/2 in double (exact enough
// for |x| < 2^30; the tasks' angles are far smaller), then Taylor polynomials in double on
// |r| <= pi/4 (truncation < 1e-13), rounded once to float: within one float ulp of the true value,
// like the host's sinf/cosf (CUDA's own are within 2 ulp). Inf/NaN give NaN.
namespace detail {
__device__ inline float SinCosDevice(float x, int quadrant_offset) {
  const double xd = x;
  const double k = rint(xd * 0.63661977236758134308);  // 2 / pi
  double r = fma(-k, 1.5707963267948966192, xd);       // pi/2, high part
  r = fma(-k, 6.123233995736766036e-17, r);             // pi/2, low part
  const double r2 = r * r;
  const int q = (static_cast<int>(static_cast<long long>(k) & 3) + quadrant_offset) & 3;
  const double sin_r =
      r + r * r2 *
              (-1.0 / 6 + r2 * (1.0 / 120 + r2 * (-1.0 / 5040 + r2 * (1.0 / 362880 +
              r2 * (-1.0 / 39916800 + r2 * (1.0 / 6227020800.0))))));
  const double cos_r =
      1.0 + r2 * (-0.5 + r2 * (1.0 / 24 + r2 * (-1.0 / 720 + r2 * (1.0 / 40320 +
            r2 * (-1.0 / 3628800 + r2 * (1.0 / 479001600 + r2 * (-1.0 / 87178291200.0)))))));
  const double v = (q & 1) ? cos_r : sin_r;
  return static_cast<float>((q & 2) ? -v : v);
}
}  // namespace detail
MBRLHPO_HOST_DEVICE inline float Sin(float x) { return detail::SinCosDevice(x, 0); }
MBRLHPO_HOST_DEVICE inline float Cos(float x) { return detail::SinCosDevice(x, 1); }
#else
MBRLHPO_HOST_DEVICE inline float Sin(float x) { return sinf(x); }
MBRLHPO_HOST_DEVICE inline float Cos(float x) { return cosf(x); }
#endif
MBRLHPO_HOST_DEVICE inline double Sin(double x) { return sin(x); }
MBRLHPO_HOST_DEVICE inline double Cos(double x) { return cos(x); }
MBRLHPO_HOST_DEVICE inline float Exp(float x) { return expf(x); }
MBRLHPO_HOST_DEVICE inline double Exp(double x) { return exp(x); }
MBRLHPO_HOST_DEVICE inline float Abs(float x) { return fabsf(x); }
MBRLHPO_HOST_DEVICE inline double Abs(double x) { return fabs(x); }

}  // namespace mbrlhpo::hd
