// The CPU planner's tile forward pass over an EnsembleView (mbrlhpo/ensemble_view.h). Internal.
#pragma once

#include <cstdint>
#include <vector>

#include "bf16_gemm.h"
#include "mbrlhpo/ensemble_view.h"

namespace mbrlhpo {

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

// Output layer, transposed: out_t (2O x rows) = (h W_last)^T (no bias: the planner's fused
// sampling pass adds it), through `out` (rows x 2O). One row-major NN sgemm and a transpose,
// not the TT sgemm W^T h^T: OpenBLAS 0.3.34 (SkylakeX) returns wrong values now and then when
// two threads call its row-major TT sgemm at once with different shapes (docs/planner.md,
// "Threads and OpenBLAS").
void ForwardOutputTransposed(const EnsembleView& net, int e, int rows, const float* h, float* out,
                             float* out_t);

// Fused bias + swish over a (rows x cols) block in place (vectorised).
void BiasSwish(float* c, const float* bias, int rows, int cols);

}  // namespace mlp
}  // namespace mbrlhpo
