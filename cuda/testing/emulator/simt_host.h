// The host executor of the SIMT kernel bodies (simt.h): runs a launch on the CPU with g++, no
// CUDA needed. For ctest, gpu_check's dry run and the driver's host launcher; never part of the
// Python module.
//
// Each thread of a block is a fiber (ucontext); blocks run one after another. Between
// synchronisation points the fibers run in a chosen order (forward, reverse, seeded shuffle), so
// a body whose result depends on the order shows it as a difference between schedules.
//  - c.sync(): a real block barrier; every barrier starts a new shared-memory epoch.
//  - c.syncwarp(): orders the shared accesses of one warp's lanes (a warp-level epoch).
//  - warp collectives (shfl_xor, mma_tf32, syncwarp): all 32 lanes must arrive at the same one.
// Checked and reported (LaunchReport), never tolerated:
//  - shared-memory races inside one epoch (RAW, WAR, WAW between different threads; lanes of one
//    warp are ordered only by syncwarp or a barrier), through shadow memory on every lds/sts;
//  - reads of shared memory this block never wrote (shared memory is also NaN-poisoned);
//  - shared accesses outside the launch's dynamic shared memory, and 64/128-bit ones not aligned
//    to their size;
//  - a thread that exits while others wait at a barrier (divergent __syncthreads); lanes of one
//    warp in different collectives; collectives in a partial warp; deadlock.
// Not modelled: races between blocks on global memory (blocks run sequentially), the memory
// model between blocks, atomics, cp.async/TMA/wgmma, the tensor core's internal accumulation
// order (here: exact products summed in double, rounded to float once per mma).
#pragma once

#include <ucontext.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <numeric>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "mbrlhpo/cuda/simt.h"

namespace mbrlhpo::simt {

enum class Order { kForward, kReverse, kShuffled };

struct LaunchReport {
  std::vector<std::string> errors;
  size_t suppressed = 0;
  bool ok() const { return errors.empty(); }
  void Add(std::string e) {
    if (errors.size() < 8) {
      errors.push_back(std::move(e));
    } else {
      ++suppressed;
    }
  }
  std::string Summary() const {
    std::string s;
    for (const auto& e : errors) s += (s.empty() ? "" : "; ") + e;
    if (suppressed) s += "; and " + std::to_string(suppressed) + " more";
    return s;
  }
};

// Test hook: the mma fragment layout the emulator assumes. kPtx is the PTX ISA's; kSwapA12 is a
// deliberately wrong layout (a1 and a2 exchanged) for the mutation test that proves a kernel
// written against the wrong layout is caught.
enum class MmaLayout { kPtx, kSwapA12 };

class HostBlock;

class HostCtx {
 public:
  int tid() const { return tid_; }
  int bid() const;
  int nthreads() const;
  template <class T>
  T* smem() const;
  void sync();
  void syncwarp();
  float shfl_xor(float v, int mask);
  uint32_t tf32(float x) const { return Tf32Bits(x); }
  void mma_tf32(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]);
  template <class T>
  T lds(const T* p);
  template <class T>
  void sts(T* p, T v);

 private:
  friend class HostBlock;
  HostBlock* blk_ = nullptr;
  int tid_ = 0;
};

class HostBlock {
 public:
  HostBlock(int nthreads, size_t smem_bytes, LaunchReport* rep, MmaLayout layout)
      : n_(nthreads), smem_words_((smem_bytes + 3) / 4), rep_(rep), layout_(layout) {
    smem_.resize(smem_words_ + 4);
    shadow_.resize(smem_words_);
    ctx_.resize(n_);
    stacks_.resize(n_);
    for (auto& s : stacks_) s.resize(kStackBytes);
    st_.resize(n_);
    tctx_.resize(n_);
    warps_.resize((n_ + 31) / 32);
    for (int t = 0; t < n_; ++t) {
      tctx_[t].blk_ = this;
      tctx_[t].tid_ = t;
    }
  }

  void Run(int bid, Order order, uint64_t seed, const std::function<void(HostCtx&)>& body) {
    bid_ = bid;
    body_ = &body;
    std::memset(smem_.data(), 0xFF, smem_.size() * 4);  // NaN poison
    for (auto& s : shadow_) s = Shadow{};
    epoch_ = 1;
    bar_count_ = 0;
    aborted_ = false;
    for (auto& w : warps_) w = Warp{};
    for (int t = 0; t < n_; ++t) {
      st_[t] = kReady;
      getcontext(&ctx_[t]);
      ctx_[t].uc_stack.ss_sp = stacks_[t].data();
      ctx_[t].uc_stack.ss_size = stacks_[t].size();
      ctx_[t].uc_link = &sched_;
      makecontext(&ctx_[t], &HostBlock::Trampoline, 0);
    }
    std::vector<int> ord(n_);
    std::iota(ord.begin(), ord.end(), 0);
    if (order == Order::kReverse) std::reverse(ord.begin(), ord.end());
    std::mt19937_64 rng(seed);
    HostBlock* saved = current_block_;
    current_block_ = this;
    for (;;) {
      if (order == Order::kShuffled) std::shuffle(ord.begin(), ord.end(), rng);
      const uint64_t before = progress_;
      bool all_done = true;
      for (int t : ord) {
        if (st_[t] == kDone) continue;
        all_done = false;
        current_ = t;
        swapcontext(&sched_, &ctx_[t]);
        if (aborted_) break;
      }
      if (all_done || aborted_) break;
      if (progress_ == before) {
        int at_bar = 0, at_warp = 0, done = 0;
        for (int t = 0; t < n_; ++t) {
          at_bar += st_[t] == kBarrier;
          at_warp += st_[t] == kWarp;
          done += st_[t] == kDone;
        }
        Error("deadlock: " + std::to_string(at_bar) + " threads at __syncthreads, " +
              std::to_string(at_warp) + " in warp collectives, " + std::to_string(done) +
              " exited");
        break;
      }
    }
    current_block_ = saved;
  }

  // A fiber that was aborted mid-body is abandoned: its stack is reset by the next Run().

  int bid() const { return bid_; }
  int nthreads() const { return n_; }
  void* smem() { return smem_.data(); }

  void Sync(int t) {
    const uint64_t gen = bar_gen_;
    if (++bar_count_ == Live()) {
      bar_count_ = 0;
      ++bar_gen_;
      ++epoch_;
      ++progress_;
      return;
    }
    st_[t] = kBarrier;
    while (bar_gen_ == gen) Yield();
    st_[t] = kReady;
    ++progress_;
  }

  void SyncWarp(int t) {
    Collective(
        t, kOpSyncwarp, nullptr, 0, [this](Warp& w, int) { ++w.sync_count; }, [](Warp&, int) {},
        nullptr);
  }

  float ShflXor(int t, float v, int mask) {
    float out = 0.0f;
    Collective(
        t, kOpShfl, &v, sizeof v, [](Warp&, int) {},
        [&](Warp& w, int lane) {
          int m;
          std::memcpy(&m, w.in[lane] + 4, 4);
          if ((lane ^ m) > 31 || (lane ^ m) < 0) {
            Error("shfl_xor mask " + std::to_string(m) + " leaves the warp");
            return;
          }
          std::memcpy(&out, w.in[lane ^ m], 4);
        },
        &mask);
    return out;
  }

  void MmaTf32(int t, float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) {
    unsigned char buf[40];
    std::memcpy(buf, a, 16);
    std::memcpy(buf + 16, b, 8);
    std::memcpy(buf + 24, d, 16);
    Collective(
        t, kOpMma, buf, sizeof buf, [this](Warp& w, int) { MmaCombine(w); },
        [&](Warp& w, int lane) { std::memcpy(d, w.out[lane], 16); }, nullptr);
  }

  template <class T>
  T Lds(int t, const T* p) {
    T v;
    if (!InShared(p, sizeof(T))) {  // reported; the access itself would corrupt the host
      CheckShared(t, p, sizeof(T), /*write=*/false);
      std::memset(&v, 0xFF, sizeof(T));  // NaN-like poison
      return v;
    }
    CheckShared(t, p, sizeof(T), /*write=*/false);
    std::memcpy(&v, p, sizeof(T));
    return v;
  }
  template <class T>
  void Sts(int t, T* p, const T& v) {
    CheckShared(t, p, sizeof(T), /*write=*/true);
    if (InShared(p, sizeof(T))) std::memcpy(p, &v, sizeof(T));  // outside: reported, not done
  }

 private:
  static constexpr size_t kStackBytes = 64 * 1024;
  enum St { kReady, kBarrier, kWarp, kDone };
  enum Op { kOpNone = -1, kOpShfl = 1, kOpMma = 2, kOpSyncwarp = 3 };
  struct Shadow {
    int32_t writer = -1, reader = -1;
    uint32_t wep = 0, rep = 0;      // block epochs of the last write / read
    uint64_t wwarp = 0, rwarp = 0;  // the accessing warp's syncwarp count at that time
    bool multi = false;             // several readers in the read epoch
  };
  struct Warp {
    int count = 0;
    uint64_t gen = 0;
    uint64_t sync_count = 0;
    int op = kOpNone;
    unsigned char in[32][48];
    unsigned char out[32][16];
  };

  static inline thread_local HostBlock* current_block_ = nullptr;

  static void Trampoline() {
    HostBlock* b = current_block_;
    const int t = b->current_;
    (*b->body_)(b->tctx_[t]);
    b->st_[t] = kDone;
    ++b->progress_;
    if (b->bar_count_ > 0 && !b->aborted_) {
      b->Error("thread " + std::to_string(t) + " exited while " + std::to_string(b->bar_count_) +
               " threads wait at __syncthreads (divergent barrier)");
    }
  }

  int Live() const {
    int live = 0;
    for (St s : st_) live += s != kDone;
    return live;
  }
  void Yield() { swapcontext(&ctx_[current_], &sched_); }
  void Error(const std::string& e) {
    if (aborted_) return;
    rep_->Add("block " + std::to_string(bid_) + ": " + e);
    aborted_ = true;
  }

  void WarpBarrier(int t, Warp& w, int wsize) {
    const uint64_t gen = w.gen;
    if (++w.count == wsize) {
      w.count = 0;
      ++w.gen;
      ++progress_;
      return;
    }
    st_[t] = kWarp;
    while (w.gen == gen && !aborted_) Yield();
    st_[t] = kReady;
    ++progress_;
  }

  // Lanes deposit their input; the last lane to arrive runs `combine` for the whole warp; each
  // lane then takes its result with `finish`. Two warp barriers, as a warp-synchronous op.
  template <class Combine, class Finish>
  void Collective(int t, int op, const void* in, size_t bytes, Combine combine, Finish finish,
                  const int* extra) {
    Warp& w = warps_[t / 32];
    const int lane = t % 32;
    const int wsize = std::min(32, n_ - (t / 32) * 32);
    if (wsize != 32) Error("warp collective in a partial warp (block size not a multiple of 32)");
    if (w.count == 0) {
      w.op = op;
    } else if (w.op != op) {
      Error("lanes of warp " + std::to_string(t / 32) + " are in different warp collectives");
    }
    if (bytes) std::memcpy(w.in[lane], in, bytes);
    if (extra) std::memcpy(w.in[lane] + 4, extra, 4);
    if (w.count + 1 == wsize) combine(w, lane);
    WarpBarrier(t, w, wsize);
    finish(w, lane);
    WarpBarrier(t, w, wsize);
  }

  // mma.sync m16n8k8 .row.col .f32.tf32.tf32.f32, fragment layout of the PTX ISA
  // (g = lane >> 2, q = lane & 3):
  //   A (16x8): a0 (g, q), a1 (g+8, q), a2 (g, q+4), a3 (g+8, q+4)
  //   B (8x8):  b0 (k=q, n=g), b1 (k=q+4, n=g)
  //   C/D:      c0 (g, 2q), c1 (g, 2q+1), c2 (g+8, 2q), c3 (g+8, 2q+1)
  // The tensor core reads only the tf32 bits of A and B; products are exact in double, summed
  // with C in k order, rounded to float once.
  void MmaCombine(Warp& w) {
    float A[16][8], B[8][8], C[16][8];
    const bool swap = layout_ == MmaLayout::kSwapA12;
    for (int l = 0; l < 32; ++l) {
      uint32_t a[4], b[2];
      float c[4];
      std::memcpy(a, w.in[l], 16);
      std::memcpy(b, w.in[l] + 16, 8);
      std::memcpy(c, w.in[l] + 24, 16);
      const int g = l >> 2, q = l & 3;
      A[g][q] = Tf32Value(a[0]);
      A[g + 8][q] = Tf32Value(swap ? a[2] : a[1]);
      A[g][q + 4] = Tf32Value(swap ? a[1] : a[2]);
      A[g + 8][q + 4] = Tf32Value(a[3]);
      B[q][g] = Tf32Value(b[0]);
      B[q + 4][g] = Tf32Value(b[1]);
      C[g][2 * q] = c[0];
      C[g][2 * q + 1] = c[1];
      C[g + 8][2 * q] = c[2];
      C[g + 8][2 * q + 1] = c[3];
    }
    for (int l = 0; l < 32; ++l) {
      const int g = l >> 2, q = l & 3;
      const int rows[4] = {g, g, g + 8, g + 8};
      const int cols[4] = {2 * q, 2 * q + 1, 2 * q, 2 * q + 1};
      float d[4];
      for (int i = 0; i < 4; ++i) d[i] = MmaDot(A[rows[i]], B, cols[i], C[rows[i]][cols[i]]);
      std::memcpy(w.out[l], d, 16);
    }
  }

 public:
  // One output element of the emulated mma: c + sum_k a[k] b[k][col], exact products summed in
  // double in k order, rounded once (the scalar references use the same function).
  static float MmaDot(const float* a_row, const float (*b)[8], int col, float c) {
    double s = c;
    for (int k = 0; k < 8; ++k) s += static_cast<double>(a_row[k]) * b[k][col];
    return static_cast<float>(s);
  }

 private:
  bool InShared(const void* p, size_t bytes) const {
    const auto* base = reinterpret_cast<const unsigned char*>(smem_.data());
    const auto* q = static_cast<const unsigned char*>(p);
    return q >= base && q + bytes <= base + smem_words_ * 4;
  }
  void CheckShared(int t, const void* p, size_t bytes, bool write) {
    const auto* base = reinterpret_cast<const unsigned char*>(smem_.data());
    const auto* q = static_cast<const unsigned char*>(p);
    if (q < base || q + bytes > base + smem_words_ * 4) {
      Error("thread " + std::to_string(t) + ": shared access outside the block's " +
            std::to_string(smem_words_ * 4) + " bytes of shared memory");
      return;
    }
    // The device faults on a 64- or 128-bit shared access that is not aligned to its size (the
    // dynamic shared memory itself starts 16-byte aligned).
    if ((bytes == 8 || bytes == 16) && (q - base) % bytes != 0) {
      Error("thread " + std::to_string(t) + ": " + std::to_string(bytes) +
            "-byte shared access at byte " + std::to_string(q - base) + ", not " +
            std::to_string(bytes) + "-byte aligned");
      return;
    }
    const uint64_t wsync = warps_[t / 32].sync_count;
    const size_t w0 = (q - base) / 4, w1 = (q - base + bytes + 3) / 4;
    for (size_t i = w0; i < w1 && !aborted_; ++i) {
      Shadow& s = shadow_[i];
      const std::string where =
          " at shared word " + std::to_string(i) + " (epoch " + std::to_string(epoch_) + ")";
      // An access in this epoch by another thread is ordered only when it was made by a lane
      // of the same warp before a syncwarp that both passed.
      auto unordered = [&](int32_t other, uint64_t other_wsync) {
        return other != t && !(other / 32 == t / 32 && other_wsync < wsync);
      };
      if (write) {
        if (s.wep == epoch_ && unordered(s.writer, s.wwarp)) {
          Error("WAW race: threads " + std::to_string(s.writer) + " and " + std::to_string(t) +
                where);
        } else if (s.rep == epoch_ && (unordered(s.reader, s.rwarp) || s.multi)) {
          Error("WAR race: thread " + std::to_string(t) + " writes what thread " +
                std::to_string(s.reader) + " read" + where);
        }
        s.writer = t;
        s.wep = epoch_;
        s.wwarp = wsync;
        s.rep = 0;
        s.multi = false;
      } else {
        if (s.wep == 0) {
          Error("uninitialised shared read by thread " + std::to_string(t) + where);
        } else if (s.wep == epoch_ && unordered(s.writer, s.wwarp)) {
          Error("RAW race: thread " + std::to_string(t) + " reads what thread " +
                std::to_string(s.writer) + " wrote without a barrier" + where);
        }
        if (s.rep == epoch_ && s.reader != t) {
          s.multi = true;
        } else if (s.rep != epoch_) {
          s.reader = t;
          s.rep = epoch_;
          s.rwarp = wsync;
          s.multi = false;
        }
      }
    }
  }

  int n_;
  size_t smem_words_;
  LaunchReport* rep_;
  MmaLayout layout_;
  std::vector<float> smem_;
  std::vector<Shadow> shadow_;
  uint32_t epoch_ = 1;
  std::vector<ucontext_t> ctx_;
  std::vector<std::vector<char>> stacks_;
  ucontext_t sched_{};
  std::vector<St> st_;
  std::vector<HostCtx> tctx_;
  std::vector<Warp> warps_;
  const std::function<void(HostCtx&)>* body_ = nullptr;
  int current_ = -1, bid_ = 0, bar_count_ = 0;
  uint64_t bar_gen_ = 0, progress_ = 0;
  bool aborted_ = false;
};

inline int HostCtx::bid() const { return blk_->bid(); }
inline int HostCtx::nthreads() const { return blk_->nthreads(); }
template <class T>
T* HostCtx::smem() const {
  return static_cast<T*>(blk_->smem());
}
inline void HostCtx::sync() { blk_->Sync(tid_); }
inline void HostCtx::syncwarp() { blk_->SyncWarp(tid_); }
inline float HostCtx::shfl_xor(float v, int mask) { return blk_->ShflXor(tid_, v, mask); }
inline void HostCtx::mma_tf32(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) {
  blk_->MmaTf32(tid_, d, a, b);
}
template <class T>
T HostCtx::lds(const T* p) {
  return blk_->Lds(tid_, p);
}
template <class T>
void HostCtx::sts(T* p, T v) {
  blk_->Sts(tid_, p, v);
}

struct HostLaunchOptions {
  Order order = Order::kForward;
  uint64_t seed = 0;
  MmaLayout layout = MmaLayout::kPtx;
};

// Runs `grid` blocks of `block` threads; blocks run one after another, each block's threads as
// fibers. Stops at the first block with a finding.
template <class Body>
LaunchReport LaunchHost(int grid, int block, size_t smem_bytes, const HostLaunchOptions& opt,
                        Body body) {
  LaunchReport rep;
  if (grid <= 0) return rep;
  HostBlock b(block, smem_bytes, &rep, opt.layout);
  const std::function<void(HostCtx&)> fn = [&](HostCtx& c) { body(c); };
  for (int bid = 0; bid < grid && rep.ok(); ++bid) b.Run(bid, opt.order, opt.seed + bid, fn);
  return rep;
}

}  // namespace mbrlhpo::simt
