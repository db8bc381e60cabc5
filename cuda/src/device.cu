#include <cuda_runtime.h>

#include <vector>

#include "mbrlhpo/cuda/device.h"
#include "mbrlhpo/errors.h"

namespace mbrlhpo::cuda {
namespace {

void Check(cudaError_t status, const char* what) {
  MBRLHPO_CHECK(status == cudaSuccess, what, " failed: ", cudaGetErrorString(status));
}

__global__ void AxpyKernel(int n, float a, const float* x, float* y) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] = a * x[i] + y[i];
}

}  // namespace

int DeviceCount() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no driver/device" error
    return 0;
  }
  return count;
}

std::string DeviceDescription(int device) {
  const int count = DeviceCount();
  MBRLHPO_CHECK(device >= 0 && device < count, "expected a CUDA device index in [0, ", count,
                "), got ", device);
  cudaDeviceProp prop{};
  Check(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties");
  return internal::Concat(prop.name, " (sm_", prop.major, prop.minor, ", ",
                          prop.totalGlobalMem >> 30, " GiB)");
}

void SelfTest(int device) {
  MBRLHPO_CHECK(device >= 0 && device < DeviceCount(), "no CUDA device ", device);
  Check(cudaSetDevice(device), "cudaSetDevice");
  constexpr int kN = 1000;
  std::vector<float> x(kN), y(kN);
  for (int i = 0; i < kN; ++i) {
    x[i] = static_cast<float>(i);
    y[i] = 1.0f;
  }
  float* d_x = nullptr;
  float* d_y = nullptr;
  Check(cudaMalloc(&d_x, kN * sizeof(float)), "cudaMalloc");
  Check(cudaMalloc(&d_y, kN * sizeof(float)), "cudaMalloc");
  Check(cudaMemcpy(d_x, x.data(), kN * sizeof(float), cudaMemcpyHostToDevice), "cudaMemcpy");
  Check(cudaMemcpy(d_y, y.data(), kN * sizeof(float), cudaMemcpyHostToDevice), "cudaMemcpy");
  AxpyKernel<<<(kN + 255) / 256, 256>>>(kN, 2.0f, d_x, d_y);
  const cudaError_t launch = cudaGetLastError();
  const cudaError_t copy = cudaMemcpy(y.data(), d_y, kN * sizeof(float), cudaMemcpyDeviceToHost);
  cudaFree(d_x);
  cudaFree(d_y);
  Check(launch, "kernel launch");
  Check(copy, "cudaMemcpy");
  for (int i = 0; i < kN; ++i) {
    MBRLHPO_CHECK(y[i] == 2.0f * i + 1.0f, "CUDA self-test: expected ", 2.0f * i + 1.0f, " at ", i,
                  ", got ", y[i]);
  }
}

}  // namespace mbrlhpo::cuda
