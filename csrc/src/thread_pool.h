// A fixed pool of worker threads for data-parallel loops. The calling thread takes part, so a
// pool of T threads starts T - 1 workers. Work is split into contiguous static chunks, so which
// thread runs which index is deterministic; results must not depend on it anyway.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "mbrlhpo/cem_planner.h"  // DefaultThreadCount
#include "mbrlhpo/export.h"

namespace mbrlhpo {

// Exported for the C++ tests; not installed.
class MBRLHPO_API ThreadPool {
 public:
  // num_threads <= 0: DefaultThreadCount() (mbrlhpo/cem_planner.h).
  explicit ThreadPool(int num_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int num_threads() const { return num_threads_; }

  // Calls fn(begin, end, thread_index) on disjoint chunks covering [0, n); returns when all are
  // done. The first exception thrown by fn is rethrown here. Not reentrant.
  void ParallelFor(int64_t n, const std::function<void(int64_t, int64_t, int)>& fn);

 private:
  void WorkerLoop(int thread_index);
  void RunChunk(int thread_index);

  int num_threads_;
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable start_cv_;
  std::condition_variable done_cv_;
  const std::function<void(int64_t, int64_t, int)>* job_ = nullptr;
  int64_t job_size_ = 0;
  uint64_t generation_ = 0;
  int pending_ = 0;
  bool stop_ = false;
  std::exception_ptr error_;
};

}  // namespace mbrlhpo
