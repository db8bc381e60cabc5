// The conformance probes (conformance.h) on the GPU, for gpu_check's device build only.
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "conformance.h"
#include "mbrlhpo/cuda/simt.h"
#include "probe_runs.h"

namespace mbrlhpo::cuda::probes {
namespace {

void Check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) {
    throw std::runtime_error(std::string("probe ") + what + ": " + cudaGetErrorString(e));
  }
}

template <class T>
T* ToDevice(const std::vector<T>& v) {
  T* p = nullptr;
  Check(cudaMalloc(&p, v.size() * sizeof(T) + 4), "cudaMalloc");
  Check(cudaMemcpy(p, v.data(), v.size() * sizeof(T), cudaMemcpyHostToDevice), "copy in");
  return p;
}

template <class T>
T* Output(size_t n) {
  T* p = nullptr;
  Check(cudaMalloc(&p, n * sizeof(T) + 4), "cudaMalloc");
  Check(cudaMemset(p, 0xFF, n * sizeof(T)), "poison");  // NaN / all ones: unwritten shows
  return p;
}

template <class T>
void ToHost(const T* p, size_t n, std::vector<T>* out) {
  out->resize(n);
  Check(cudaDeviceSynchronize(), "kernel");
  Check(cudaMemcpy(out->data(), p, n * sizeof(T), cudaMemcpyDeviceToHost), "copy out");
}

__global__ void Tf32Kernel(const float* in, uint32_t* out, int n) {
  simt::DeviceCtx c;
  Tf32Body(c, in, out, n);
}
__global__ void MmaKernel(const float* a, const float* b, const float* cin, float* d) {
  simt::DeviceCtx c;
  MmaBody(c, a, b, cin, d);
}
__global__ void ShflKernel(const float* in, float* out) {
  simt::DeviceCtx c;
  ShflBody(c, in, out);
}
__global__ void MathKernel(const float* x, const float* u, float* e, float* s, float* fs, float* sp,
                           float* tn, int n) {
  simt::DeviceCtx c;
  MathBody(c, x, u, e, s, fs, sp, tn, n);
}

__global__ void __launch_bounds__(kRefitThreads)
    TopKKernel(const float* returns, int num, int sort_size, int k, int32_t* elites) {
  simt::DeviceCtx c;
  TopKBody(c, returns, num, sort_size, k, elites);
}

int Blocks(size_t n) { return static_cast<int>((n + kWarp - 1) / kWarp); }

}  // namespace

namespace device {

void Tf32(const std::vector<float>& in, std::vector<uint32_t>* out) {
  float* d_in = ToDevice(in);
  uint32_t* d_out = Output<uint32_t>(in.size());
  Tf32Kernel<<<Blocks(in.size()), kWarp>>>(d_in, d_out, static_cast<int>(in.size()));
  Check(cudaGetLastError(), "tf32 launch");
  ToHost(d_out, in.size(), out);
  cudaFree(d_in);
  cudaFree(d_out);
}

void Mma(const std::vector<float>& a, const std::vector<float>& b, const std::vector<float>& c,
         std::vector<float>* d) {
  float *da = ToDevice(a), *db = ToDevice(b), *dc = ToDevice(c);
  float* dd = Output<float>(a.size());
  MmaKernel<<<static_cast<int>(a.size() / 128), kWarp>>>(da, db, dc, dd);
  Check(cudaGetLastError(), "mma launch");
  ToHost(dd, a.size(), d);
  for (float* p : {da, db, dc, dd}) cudaFree(p);
}

void Shfl(const std::vector<float>& in, std::vector<float>* out) {
  float* d_in = ToDevice(in);
  float* d_out = Output<float>(in.size() * 5);
  ShflKernel<<<static_cast<int>(in.size() / kWarp), kWarp>>>(d_in, d_out);
  Check(cudaGetLastError(), "shfl launch");
  ToHost(d_out, in.size() * 5, out);
  cudaFree(d_in);
  cudaFree(d_out);
}

void Math(const std::vector<float>& x, const std::vector<float>& u, MathOut* out) {
  const size_t n = x.size();
  float *dx = ToDevice(x), *du = ToDevice(u);
  float *e = Output<float>(n), *s = Output<float>(n), *fs = Output<float>(n),
        *sp = Output<float>(n), *tn = Output<float>(n);
  MathKernel<<<Blocks(n), kWarp>>>(dx, du, e, s, fs, sp, tn, static_cast<int>(n));
  Check(cudaGetLastError(), "math launch");
  ToHost(e, n, &out->exp);
  ToHost(s, n, &out->swish);
  ToHost(fs, n, &out->fast_swish);
  ToHost(sp, n, &out->softplus);
  ToHost(tn, n, &out->truncated_normal);
  for (float* p : {dx, du, e, s, fs, sp, tn}) cudaFree(p);
}

void TopK(const std::vector<float>& returns, int num, int k, std::vector<int32_t>* elites) {
  const int trials = static_cast<int>(returns.size() / num);
  float* d_ret = ToDevice(returns);
  int32_t* d_el = Output<int32_t>(static_cast<size_t>(trials) * k);
  TopKKernel<<<trials, kRefitThreads, kernels::RefitSmemBytes(num)>>>(
      d_ret, num, kernels::SortSize(num), k, d_el);
  Check(cudaGetLastError(), "top-k launch");
  ToHost(d_el, static_cast<size_t>(trials) * k, elites);
  cudaFree(d_ret);
  cudaFree(d_el);
}

}  // namespace device
}  // namespace mbrlhpo::cuda::probes
