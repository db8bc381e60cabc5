#include "mbrlhpo/ensemble_mlp.h"

#include <algorithm>

#include "fast_math.h"
#include "mbrlhpo/blas.h"
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
                "expected ", num_layers() + 1, " layer sizes and ", num_layers(),
                " biases, got ", layer_sizes.size(), " and ", biases.size());
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

MBRLHPO_SIMD_CLONES
void BiasSwish(float* c, const float* bias, int rows, int cols) {
  using namespace fast::v16;  // NOLINT(build/namespaces)
  const int full = cols - cols % kLanes, tail = cols - full;
  for (int r = 0; r < rows; ++r) {
    float* row = c + static_cast<int64_t>(r) * cols;
    for (int j = 0; j < full; j += kLanes) {
      const F v = Load(row + j) + Load(bias + j);
      Store(row + j, v / (1.0f + Exp(-v)));
    }
    if (tail) {
      const F v = LoadPartial(row + full, tail) + LoadPartial(bias + full, tail);
      StorePartial(row + full, v / (1.0f + Exp(-v)), tail);
    }
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

void ForwardOutputTransposed(const EnsembleView& net, int e, int rows, const float* h,
                             float* out_t) {
  const int l = net.num_layers() - 1;
  const int fan_in = net.layer_sizes[l];
  const int fan_out = net.layer_sizes[l + 1];
  const float* w = net.weights[l] + static_cast<int64_t>(e) * fan_in * fan_out;
  // out_t (fan_out x rows) = W^T (fan_out x fan_in) * h^T (fan_in x rows)
  blas::Sgemm(true, true, fan_out, rows, fan_in, 1.0f, w, fan_out, h, fan_in, 0.0f, out_t, rows);
}

}  // namespace mlp
}  // namespace mbrlhpo
