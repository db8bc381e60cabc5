// The SIMT context of the CUDA planner's kernel bodies: one body, two executors.
//
// Kernel bodies (kernels/*.h) are `template <class Ctx> MBRLHPO_HOST_DEVICE` functions that use
// only the context for what is SIMT-specific: thread and block ids, dynamic shared memory, the
// block barrier, __syncwarp, warp shuffles, the TF32 tensor-core MMA (m16n8k8, PTX fragment
// layout) and every shared-memory load and store (c.lds / c.sts). Rules that keep the emulator
// honest: no shared-memory access and no warp operation outside the context, and no block reads
// what another block of the same launch writes.
//  - DeviceCtx (below, nvcc device pass): each method is the intrinsic itself.
//  - HostCtx (cuda/testing/emulator/simt_host.h, g++): a block emulator running each thread as a
//  fiber,
//    with a real barrier, the fragment layout, cvt.rna.tf32 rounding, and a checker of
//    shared-memory races, uninitialised shared reads, divergent barriers and partial-warp
//    collectives.
#pragma once

#include <cstdint>
#include <cstring>

#include "mbrlhpo/host_device.h"

namespace mbrlhpo::simt {

// cvt.rna.tf32.f32 on the host: round to nearest, ties away from zero, to 10 mantissa bits
// (the low 13 bits cleared). Inf and NaN pass unchanged.
MBRLHPO_HOST_DEVICE inline uint32_t Tf32Bits(float x) {
  uint32_t u;
  memcpy(&u, &x, sizeof u);
  if ((u & 0x7F800000u) != 0x7F800000u) u += 0x1000u;  // finite: add half a tf32 ulp
  return u & 0xFFFFE000u;
}

// The float a tf32 bit pattern stands for (what the tensor core multiplies).
MBRLHPO_HOST_DEVICE inline float Tf32Value(uint32_t bits) {
  bits &= 0xFFFFE000u;
  float f;
  memcpy(&f, &bits, sizeof f);
  return f;
}

#if defined(__CUDACC__)
// Only meaningful in device code; the host pass of nvcc sees stubs (never called on the host).
struct DeviceCtx {
  __device__ __forceinline__ int tid() const { return static_cast<int>(threadIdx.x); }
  __device__ __forceinline__ int bid() const { return static_cast<int>(blockIdx.x); }
  __device__ __forceinline__ int nthreads() const { return static_cast<int>(blockDim.x); }
  template <class T>
  __device__ __forceinline__ T* smem() const {
    extern __shared__ float4 mbrlhpo_dynamic_smem[];
    return reinterpret_cast<T*>(mbrlhpo_dynamic_smem);
  }
  __device__ __forceinline__ void sync() const { __syncthreads(); }
  __device__ __forceinline__ void syncwarp() const { __syncwarp(); }
  __device__ __forceinline__ float shfl_xor(float v, int mask) const {
    return __shfl_xor_sync(0xFFFFFFFFu, v, mask);
  }
  __device__ __forceinline__ uint32_t tf32(float x) const {
    uint32_t r;
    asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(r) : "f"(x));
    return r;
  }
  // d += A (16x8, row-major) * B (8x8, col-major); fragments in the PTX ISA layout of
  // mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 (see simt_host.h for the layout).
  __device__ __forceinline__ void mma_tf32(float (&d)[4], const uint32_t (&a)[4],
                                           const uint32_t (&b)[2]) const {
    asm volatile(
        "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, "
        "{%8,%9}, {%0,%1,%2,%3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
  }
  template <class T>
  __device__ __forceinline__ T lds(const T* p) const {
    return *p;
  }
  template <class T>
  __device__ __forceinline__ void sts(T* p, T v) const {
    *p = v;
  }
};
#endif  // __CUDACC__

}  // namespace mbrlhpo::simt
