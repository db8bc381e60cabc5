// Runs of the conformance probes (conformance.h) on the GPU (gpu_probes.cu, linked into the
// device gpu_check only); probe_emulated.h has the same on the emulator (any build). Same
// signatures, so gpu_check compares the two element by element. No CUDA header needed.
#pragma once

#include <cstdint>
#include <vector>

namespace mbrlhpo::cuda::probes {

struct MathOut {
  std::vector<float> exp, swish, fast_swish, softplus, truncated_normal;
};

namespace device {
void Tf32(const std::vector<float>& in, std::vector<uint32_t>* out);
void Mma(const std::vector<float>& a, const std::vector<float>& b, const std::vector<float>& c,
         std::vector<float>* d);
void Shfl(const std::vector<float>& in, std::vector<float>* out);
void Math(const std::vector<float>& x, const std::vector<float>& u, MathOut* out);
// returns: trials x num; elites: trials x k (the first k of the elite order per trial).
void TopK(const std::vector<float>& returns, int num, int k, std::vector<int32_t>* elites);
}  // namespace device

}  // namespace mbrlhpo::cuda::probes
