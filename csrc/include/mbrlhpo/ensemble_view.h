// A non-owning view of a PETS ensemble's weights (member-major, float32, read in place from the
// caller's buffers, e.g. the torch parameters).
//
// Layout: layer l has weights (E x in_l x out_l) and biases (E x 1 x out_l), row-major; the
// last layer outputs [mean (O), raw logvar (O)], bounded by max/min_logvar (O) as
//   logvar = max - softplus(max - raw); logvar = min + softplus(logvar - min).
// Inputs are normalised as (x - input_mean) / input_std (D = model_input_dim + act_dim).
#pragma once

#include <vector>

#include "mbrlhpo/export.h"

namespace mbrlhpo {

struct MBRLHPO_API EnsembleView {
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

}  // namespace mbrlhpo
