#include "ensemble_mlp.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "blas.h"
#include "fast_math.h"
#include "mbrlhpo/errors.h"

namespace mbrlhpo {

int EnsembleView::max_width() const {
  return *std::max_element(layer_sizes.begin(), layer_sizes.end());
}

void EnsembleView::Validate() const {
  MBRLHPO_CHECK(ensemble_size >= 1, "expected ensemble_size >= 1, got ", ensemble_size);
  MBRLHPO_CHECK(num_layers() >= 2, "expected at least 2 layers (1 hidden), got ", num_layers());
  MBRLHPO_CHECK(static_cast<int>(layer_sizes.size()) == num_layers() + 1 &&
                    static_cast<int>(biases.size()) == num_layers(),
                "expected ", num_layers() + 1, " layer sizes and ", num_layers(), " biases, got ",
                layer_sizes.size(), " and ", biases.size());
  for (int s : layer_sizes) MBRLHPO_CHECK(s >= 1, "expected layer sizes >= 1, got ", s);
  MBRLHPO_CHECK(layer_sizes.back() % 2 == 0, "expected an even output width (mean, logvar), got ",
                layer_sizes.back());
  for (int l = 0; l < num_layers(); ++l) {
    MBRLHPO_CHECK(weights[l] != nullptr && biases[l] != nullptr, "layer ", l,
                  " has a null weight or bias pointer");
  }
  MBRLHPO_CHECK(max_logvar && min_logvar && input_mean && input_std,
                "null logvar bound or normaliser pointer");
}

namespace mlp {

namespace {

template <int N>
MBRLHPO_VINLINE void BiasSwishFlatBody(float* c, const float* bias_period, int period, int64_t n) {
  using S = fast::Simd<N>;
  using F = typename S::F;
  int off = 0;
  int64_t i = 0;
  for (; i + N <= n; i += N) {
    const F v = S::Load(c + i) + S::Load(bias_period + off);
    S::Store(c + i, v / (1.0f + S::Exp(-v)));
    off += N;
    if (off == period) off = 0;
  }
  if (i < n) {
    const int tail = static_cast<int>(n - i);
    const F v = S::LoadPartial(c + i, tail) + S::LoadPartial(bias_period + off, tail);
    S::StorePartial(c + i, v / (1.0f + S::Exp(-v)), tail);
  }
}

MBRLHPO_SIMD_CLONES
void BiasSwishFlat16(float* c, const float* bias_period, int period, int64_t n) {
  BiasSwishFlatBody<16>(c, bias_period, period, n);
}

MBRLHPO_AVX2_TARGET
void BiasSwishFlat8(float* c, const float* bias_period, int period, int64_t n) {
  BiasSwishFlatBody<8>(c, bias_period, period, n);
}

}  // namespace

// The block is walked as one flat array (no partial vector at each row's end: those cost a
// store-forwarding stall per row) against the bias repeated over lcm(cols, 16) elements.
void BiasSwish(float* c, const float* bias, int rows, int cols) {
  constexpr int kLanes = 16;  // the period serves both paths (8 divides 16)
  int period = cols;
  while (period % kLanes != 0) period += cols;
  thread_local std::vector<float> pattern;
  if (pattern.size() < static_cast<size_t>(period)) pattern.resize(period);
  for (int i = 0; i < period; ++i) pattern[i] = bias[i % cols];
  const int64_t n = static_cast<int64_t>(rows) * cols;
  if (fast::UseAvx2Path()) {
    BiasSwishFlat8(c, pattern.data(), period, n);
  } else {
    BiasSwishFlat16(c, pattern.data(), period, n);
  }
}

float* ForwardHidden(const EnsembleView& net, int e, int rows, const float* in, float* a,
                     float* b) {
  const float* x = in;
  float* out = a;
  for (int l = 0; l + 1 < net.num_layers(); ++l) {
    const int fan_in = net.layer_sizes[l];
    const int fan_out = net.layer_sizes[l + 1];
    const float* w = net.weights[l] + static_cast<int64_t>(e) * fan_in * fan_out;
    blas::Sgemm(false, false, rows, fan_out, fan_in, 1.0f, x, fan_in, w, fan_out, 0.0f, out,
                fan_out);
    BiasSwish(out, net.biases[l] + static_cast<int64_t>(e) * fan_out, rows, fan_out);
    x = out;
    out = (out == a) ? b : a;
  }
  return const_cast<float*>(x);
}

float* ForwardHiddenBf16(const EnsembleView& net, int e, int rows, const float* in, float* a,
                         uint16_t* abf0, uint16_t* abf1, const std::vector<bf16::PackedB>& packed) {
  const int hidden = net.num_layers() - 1;  // layers 0 .. hidden-1 end in swish
  const int d = net.layer_sizes[0], w0 = net.layer_sizes[1];
  blas::Sgemm(false, false, rows, w0, d, 1.0f, in, d,
              net.weights[0] + static_cast<int64_t>(e) * d * w0, w0, 0.0f, a, w0);
  BiasSwish(a, net.biases[0] + static_cast<int64_t>(e) * w0, rows, w0);
  if (hidden == 1) return a;
  bf16::ConvertRows(a, rows, w0, abf0);
  uint16_t* x = abf0;
  uint16_t* y = abf1;
  for (int l = 1; l < hidden; ++l) {
    const int fan_in = net.layer_sizes[l];
    const int fan_out = net.layer_sizes[l + 1];
    const bf16::PackedB& w = packed[(l - 1) * net.ensemble_size + e];
    const float* bias = net.biases[l] + static_cast<int64_t>(e) * fan_out;
    if (l + 1 == hidden) {
      bf16::GemmSwish(rows, x, bf16::PaddedK(fan_in), w, bias, a, fan_out);
    } else {
      bf16::GemmSwishBf16(rows, x, bf16::PaddedK(fan_in), w, bias, y, bf16::PaddedK(fan_out));
      std::swap(x, y);
    }
  }
  return a;
}

void ForwardOutputTransposed(const EnsembleView& net, int e, int rows, const float* h, float* out,
                             float* out_t) {
  const int l = net.num_layers() - 1;
  const int fan_in = net.layer_sizes[l];
  const int fan_out = net.layer_sizes[l + 1];
  const float* w = net.weights[l] + static_cast<int64_t>(e) * fan_in * fan_out;
  blas::Sgemm(false, false, rows, fan_out, fan_in, 1.0f, h, fan_in, w, fan_out, 0.0f, out, fan_out);
  for (int t = 0; t < rows; ++t) {
    const float* src = out + static_cast<int64_t>(t) * fan_out;
    for (int o = 0; o < fan_out; ++o) out_t[static_cast<int64_t>(o) * rows + t] = src[o];
  }
}

}  // namespace mlp
}  // namespace mbrlhpo
