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

MBRLHPO_HOST_DEVICE inline float Sin(float x) { return sinf(x); }
MBRLHPO_HOST_DEVICE inline double Sin(double x) { return sin(x); }
MBRLHPO_HOST_DEVICE inline float Cos(float x) { return cosf(x); }
MBRLHPO_HOST_DEVICE inline double Cos(double x) { return cos(x); }
MBRLHPO_HOST_DEVICE inline float Exp(float x) { return expf(x); }
MBRLHPO_HOST_DEVICE inline double Exp(double x) { return exp(x); }
MBRLHPO_HOST_DEVICE inline float Abs(float x) { return fabsf(x); }
MBRLHPO_HOST_DEVICE inline double Abs(double x) { return fabs(x); }

}  // namespace mbrlhpo::hd
