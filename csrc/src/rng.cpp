#include "mbrlhpo/rng.h"

#include <cmath>

namespace mbrlhpo::rng {
namespace {

// erfinv for |y| <= erf(sqrt(2)) ~ 0.9545: Giles' single-precision starting point refined by
// two Newton steps on erf in double (accurate to a few double ulps in this range).
double ErfInv(double y) {
  double w = -std::log((1.0 - y) * (1.0 + y));
  double x;
  if (w < 5.0) {
    w -= 2.5;
    double p = 2.81022636e-08;
    p = 3.43273939e-07 + p * w;
    p = -3.5233877e-06 + p * w;
    p = -4.39150654e-06 + p * w;
    p = 0.00021858087 + p * w;
    p = -0.00125372503 + p * w;
    p = -0.00417768164 + p * w;
    p = 0.246640727 + p * w;
    p = 1.50140941 + p * w;
    x = p * y;
  } else {
    w = std::sqrt(w) - 3.0;
    double p = -0.000200214257;
    p = 0.000100950558 + p * w;
    p = 0.00134934322 + p * w;
    p = -0.00367342844 + p * w;
    p = 0.00573950773 + p * w;
    p = -0.0076224613 + p * w;
    p = 0.00943887047 + p * w;
    p = 1.00167406 + p * w;
    p = 2.83297682 + p * w;
    x = p * y;
  }
  const double kTwoOverSqrtPi = 1.1283791670955126;
  for (int i = 0; i < 2; ++i) {
    x -= (std::erf(x) - y) / (kTwoOverSqrtPi * std::exp(-x * x));
  }
  return x;
}

}  // namespace

double TruncatedNormalFromUniform(double u) {
  const double kErfSqrt2 = 0.9544997361036416;
  return 1.4142135623730951 * ErfInv(kErfSqrt2 * (2.0 * u - 1.0));
}

}  // namespace mbrlhpo::rng
