// A non-owning view of a PETS ensemble's weights (member-major, float32, read in place from the
// caller's buffers, e.g. the torch parameters) and the tile forward pass of the CPU planner.
//
// Layout: layer l has weights (E x in_l x out_l) and biases (E x 1 x out_l), row-major; the
// last layer outputs [mean (O), raw logvar (O)], bounded by max/min_logvar (O) as
//   logvar = max - softplus(max - raw); logvar = min + softplus(logvar - min).
// Inputs are normalised as (x - input_mean) / input_std (D = model_input_dim + act_dim).
#pragma once

#include <cstdint>
#include <vector>

#include "mbrlhpo/bf16_gemm.h"

namespace mbrlhpo {

struct EnsembleView {
  int ensemble_size = 0;
  std::vector<int> layer_sizes;       // [D, hidden..., 2 O]
  std::vector<const float*> weights;  // per layer: E x in x out
  std::vector<const float*> biases;   // per layer: E x 1 x out
  const float* max_logvar = nullptr;  // O
  const float* min_logvar = nullptr;  // O
  const float* input_mean = nullptr;  // D
  const float* input_std = nullptr;   // D

  int num_layers() const { return static_cast<int>(weights.size()); }
  int input_dim() const { return layer_sizes.front(); }
  int output_dim() const { return layer_sizes.back() / 2; }
  int max_width() const;
  // Throws mbrlhpo::Error if sizes/pointers are inconsistent.
  void Validate() const;
};

namespace mlp {

// Hidden layers of member `e` for `rows` rows: in (rows x D, normalised) -> out (rows x last
// hidden width), through buffers a/b (rows x max_width each). Returns the buffer holding the
// result. One sgemm per layer; bias + swish fused in one pass.
float* ForwardHidden(const EnsembleView& net, int e, int rows, const float* in, float* a, float* b);

// ForwardHidden with the hidden-to-hidden layers (l = 1 .. L-2) in BF16 (bf16::Gemm, fp32
// accumulate): packed[(l - 1) * E + e] holds layer l's weights; abf is rows x
// PaddedK(max_width) bf16 (abf0, abf1: ping-pong). The first layer (sgemm + bias + swish) stays
// fp32; the BF16 layers apply bias + swish to their fp32 accumulators and store BF16 (the next
// layer's input) or, for the last hidden layer, fp32. Returns a (fp32 last hidden activations).
float* ForwardHiddenBf16(const EnsembleView& net, int e, int rows, const float* in, float* a,
                         uint16_t* abf0, uint16_t* abf1, const std::vector<bf16::PackedB>& packed);

// Output layer, transposed: out_t (2O x rows) = W_last^T h^T (no bias: the planner's fused
// sampling pass adds it).
void ForwardOutputTransposed(const EnsembleView& net, int e, int rows, const float* h,
                             float* out_t);

// Fused bias + swish over a (rows x cols) block in place (vectorised).
void BiasSwish(float* c, const float* bias, int rows, int cols);

}  // namespace mlp
}  // namespace mbrlhpo
