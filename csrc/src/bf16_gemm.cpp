#include "bf16_gemm.h"

#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "mbrlhpo/errors.h"

#define MBRLHPO_BF16_TARGET __attribute__((target("avx512f,avx512bf16,avx512bw,avx512vl")))

namespace mbrlhpo::bf16 {

bool Supported() {
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bf16");
#else
  return false;
#endif
}

void RequireSupported() {
  MBRLHPO_CHECK(Supported(),
                "precision 'bf16' needs a CPU with AVX512_BF16 (avx512f, avx512bw, avx512vl, "
                "avx512bf16); this CPU lacks it: use precision 'float32'");
}

uint16_t FromFloat(float x) {
  uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40u);  // NaN
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}

float ToFloat(uint16_t b) {
  const uint32_t u = static_cast<uint32_t>(b) << 16;
  float x;
  std::memcpy(&x, &u, sizeof x);
  return x;
}

namespace {

// Column panels of nv 16-wide vectors: 3s (8-row micro-kernel), the rest as one 4, 2 or 1.
template <typename F>
void ForEachPanel(int n, F&& f) {
  const int nv_total = (n + 15) / 16;
  int64_t offset = 0;
  for (int v0 = 0; v0 < nv_total;) {
    const int r = nv_total - v0;
    const int nv = (r >= 3 && r != 4) ? 3 : r;
    f(v0 * 16, nv, offset);
    v0 += nv;
    offset += static_cast<int64_t>(nv) * 16;  // times the pair count, by the caller
  }
}

// exp(x), the Cephes polynomial of fast_math.h. The maskz forms with a full mask avoid GCC 12's
// false -Wmaybe-uninitialized on the plain intrinsics (_mm512_undefined_ps).
MBRLHPO_BF16_TARGET inline __m512 Exp512(__m512 x) {
  constexpr __mmask16 kAll = 0xffff;
  x = _mm512_maskz_min_ps(kAll, _mm512_maskz_max_ps(kAll, x, _mm512_set1_ps(-87.3f)),
                          _mm512_set1_ps(88.3f));
  const __m512 n =
      _mm512_maskz_roundscale_ps(kAll, _mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                 _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fmadd_ps(n, _mm512_set1_ps(2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  const __m512 e = _mm512_add_ps(_mm512_fmadd_ps(_mm512_mul_ps(p, r), r, r), _mm512_set1_ps(1.0f));
  return _mm512_maskz_scalef_ps(kAll, e, n);
}

// Epilogues: plain fp32 store; bias + swish, fp32 store; bias + swish, bf16 store.
enum { kPlain = 0, kSwishF32 = 1, kSwishBf16 = 2 };

// MR rows x NV*16 columns of fp32 accumulators over kp pairs of k; rows >= mr read the last
// valid row (results not stored); columns >= ncols are not stored.
template <int MR, int NV, int EP>
MBRLHPO_BF16_TARGET void Micro(const uint16_t* a, int lda, int mr, const uint32_t* b, int kp,
                               void* c, int ldc, int ncols, const float* bias) {
  const uint32_t* ap[MR];
  for (int i = 0; i < MR; ++i) {
    ap[i] = reinterpret_cast<const uint32_t*>(a + static_cast<int64_t>(std::min(i, mr - 1)) * lda);
  }
  __m512 acc[MR][NV];
  for (int i = 0; i < MR; ++i) {
    for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_setzero_ps();
  }
  for (int p = 0; p < kp; ++p) {
    __m512bh bv[NV];
    for (int v = 0; v < NV; ++v) {
      const uint32_t* src = b + (static_cast<int64_t>(p) * NV + v) * 16;
      bv[v] = reinterpret_cast<__m512bh>(_mm512_loadu_si512(src));
    }
    for (int i = 0; i < MR; ++i) {
      const __m512bh av = reinterpret_cast<__m512bh>(_mm512_set1_epi32(static_cast<int>(ap[i][p])));
      for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_dpbf16_ps(acc[i][v], bv[v], av);
    }
  }
  for (int v = 0; v < NV; ++v) {
    const int left = ncols - v * 16;
    if (left <= 0) break;
    const __mmask16 mask =
        left >= 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << left) - 1u);
    if (EP == kPlain) {
      float* cf = static_cast<float*>(c);
      for (int i = 0; i < MR; ++i) {
        if (i >= mr) continue;
        _mm512_mask_storeu_ps(cf + static_cast<int64_t>(i) * ldc + v * 16, mask, acc[i][v]);
      }
      continue;
    }
    const __m512 bv = _mm512_maskz_loadu_ps(mask, bias + v * 16);
    for (int i = 0; i < MR; ++i) {
      if (i >= mr) continue;
      const __m512 x = _mm512_add_ps(acc[i][v], bv);
      const __m512 e = Exp512(_mm512_sub_ps(_mm512_setzero_ps(), x));
      const __m512 y = _mm512_div_ps(x, _mm512_add_ps(_mm512_set1_ps(1.0f), e));
      const int64_t at = static_cast<int64_t>(i) * ldc + v * 16;
      if (EP == kSwishF32) {
        _mm512_mask_storeu_ps(static_cast<float*>(c) + at, mask, y);
      } else {
        _mm256_mask_storeu_epi16(static_cast<uint16_t*>(c) + at, mask,
                                 reinterpret_cast<__m256i>(_mm512_cvtneps_pbh(y)));
      }
    }
  }
}

template <int MR, int NV, int EP>
MBRLHPO_BF16_TARGET void Panel(int rows, const uint16_t* a, int lda, const uint32_t* b, int kp,
                               void* c, int ldc, int ncols, const float* bias) {
  const int64_t esize = EP == kSwishBf16 ? 2 : 4;
  for (int r0 = 0; r0 < rows; r0 += MR) {
    Micro<MR, NV, EP>(a + static_cast<int64_t>(r0) * lda, lda, std::min(MR, rows - r0), b, kp,
                      static_cast<char*>(c) + r0 * ldc * esize, ldc, ncols, bias);
  }
}

template <int EP>
void GemmImpl(int rows, const uint16_t* a, int lda, const PackedB& b, void* c, int ldc,
              const float* bias) {
  const int kp = PaddedK(b.k) / 2;
  const int64_t esize = EP == kSwishBf16 ? 2 : 4;
  ForEachPanel(b.n, [&](int col0, int nv, int64_t offset) {
    const uint32_t* panel = b.data.data() + offset * kp;
    const int ncols = std::min(nv * 16, b.n - col0);
    void* cc = static_cast<char*>(c) + col0 * esize;
    const float* bb = bias ? bias + col0 : nullptr;
    switch (nv) {
      case 1:
        Panel<12, 1, EP>(rows, a, lda, panel, kp, cc, ldc, ncols, bb);
        break;
      case 2:
        Panel<12, 2, EP>(rows, a, lda, panel, kp, cc, ldc, ncols, bb);
        break;
      case 3:
        Panel<8, 3, EP>(rows, a, lda, panel, kp, cc, ldc, ncols, bb);
        break;
      default:
        Panel<6, 4, EP>(rows, a, lda, panel, kp, cc, ldc, ncols, bb);
        break;
    }
  });
}

MBRLHPO_BF16_TARGET void ConvertRowsImpl(const float* src, int rows, int cols, uint16_t* dst) {
  const int ld = PaddedK(cols);
  for (int r = 0; r < rows; ++r) {
    const float* s = src + static_cast<int64_t>(r) * cols;
    uint16_t* d = dst + static_cast<int64_t>(r) * ld;
    int j = 0;
    for (; j + 32 <= cols; j += 32) {
      const __m512bh v = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(s + j + 16), _mm512_loadu_ps(s + j));
      _mm512_storeu_si512(d + j, reinterpret_cast<__m512i>(v));
    }
    for (; j + 16 <= cols; j += 16) {
      const __m256bh v = _mm512_cvtneps_pbh(_mm512_loadu_ps(s + j));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + j), reinterpret_cast<__m256i>(v));
    }
    if (j < cols) {
      const int left = cols - j;
      const __mmask16 mask = static_cast<__mmask16>((1u << left) - 1u);
      const __m256bh v = _mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(mask, s + j));
      _mm256_mask_storeu_epi16(d + j, mask, reinterpret_cast<__m256i>(v));
    }
    if (ld != cols) d[cols] = 0;
  }
}

}  // namespace

void PackB(const float* w, int k, int n, PackedB* out) {
  const int kp = PaddedK(k) / 2;
  out->k = k;
  out->n = n;
  out->data.assign(static_cast<size_t>(kp) * ((n + 15) / 16) * 16, 0u);
  ForEachPanel(n, [&](int col0, int nv, int64_t offset) {
    uint32_t* panel = out->data.data() + offset * kp;
    const int width = nv * 16;
    for (int p = 0; p < kp; ++p) {
      for (int j = 0; j < width; ++j) {
        const int col = col0 + j;
        if (col >= n) continue;
        const uint32_t lo = FromFloat(w[static_cast<int64_t>(2 * p) * n + col]);
        const uint32_t hi =
            2 * p + 1 < k ? FromFloat(w[static_cast<int64_t>(2 * p + 1) * n + col]) : 0u;
        panel[static_cast<int64_t>(p) * width + j] = lo | (hi << 16);
      }
    }
  });
}

void Gemm(int rows, const uint16_t* a, int lda, const PackedB& b, float* c, int ldc) {
  GemmImpl<kPlain>(rows, a, lda, b, c, ldc, nullptr);
}

void GemmSwish(int rows, const uint16_t* a, int lda, const PackedB& b, const float* bias, float* c,
               int ldc) {
  GemmImpl<kSwishF32>(rows, a, lda, b, c, ldc, bias);
}

void GemmSwishBf16(int rows, const uint16_t* a, int lda, const PackedB& b, const float* bias,
                   uint16_t* c, int ldc) {
  GemmImpl<kSwishBf16>(rows, a, lda, b, c, ldc, bias);
  if (ldc > b.n) {  // odd n: zero the pad column (the next layer's k pair)
    for (int r = 0; r < rows; ++r) c[static_cast<int64_t>(r) * ldc + b.n] = 0;
  }
}

void ConvertRows(const float* src, int rows, int cols, uint16_t* dst) {
  ConvertRowsImpl(src, rows, cols, dst);
}

}  // namespace mbrlhpo::bf16
