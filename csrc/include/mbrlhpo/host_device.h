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

// The device's algorithm for sin and cos of floats, compiled for the host too so that ctest can
// check it (tests/cpp/test_simt_emulator.cpp). On the host, Sin/Cos below are the C library's; on
// the device it replaces CUDA's sinf/cosf, whose Payne-Hanek slow path keeps a 28-byte array in
// local memory: a stack frame in every kernel that calls them (ptxas -warn-lmem-usage).
namespace detail {

// sin (quadrant_offset 0) or cos (1) of x: Cody-Waite reduction by pi/2 in double (exact enough for
// |x| < 2^30; the tasks' angles are far smaller), Taylor polynomials in double on |r| <= pi/4
// (truncation < 1e-13), rounded once to float: within one float ulp of the true value (CUDA's
// sinf: 2 ulp). Inf/NaN give NaN.
MBRLHPO_HOST_DEVICE inline float SinCosViaDouble(float x, int quadrant_offset) {
  const double xd = x;
  const double k = rint(xd * 0.63661977236758134308);  // 2 / pi
  double r = fma(-k, 1.5707963267948966192, xd);       // pi/2, high part
  r = fma(-k, 6.123233995736766036e-17, r);            // pi/2, low part
  const double r2 = r * r;
  const long long kq = (k == k && fabs(k) < 9.0e15) ? static_cast<long long>(k) : 0;
  const int q = (static_cast<int>(kq & 3) + quadrant_offset) & 3;
  const double sin_r =
      r + r * r2 *
              (-1.0 / 6 +
               r2 * (1.0 / 120 +
                     r2 * (-1.0 / 5040 + r2 * (1.0 / 362880 + r2 * (-1.0 / 39916800 +
                                                                    r2 * (1.0 / 6227020800.0))))));
  const double cos_r =
      1.0 +
      r2 * (-0.5 + r2 * (1.0 / 24 +
                         r2 * (-1.0 / 720 +
                               r2 * (1.0 / 40320 +
                                     r2 * (-1.0 / 3628800 + r2 * (1.0 / 479001600 +
                                                                  r2 * (-1.0 / 87178291200.0)))))));
  const double v = (q & 1) ? cos_r : sin_r;
  return static_cast<float>((q & 2) ? -v : v);
}

}  // namespace detail

#if defined(__CUDA_ARCH__)
MBRLHPO_HOST_DEVICE inline float Sin(float x) { return detail::SinCosViaDouble(x, 0); }
MBRLHPO_HOST_DEVICE inline float Cos(float x) { return detail::SinCosViaDouble(x, 1); }
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
