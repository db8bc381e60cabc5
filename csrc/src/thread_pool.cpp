#include "thread_pool.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#if defined(__linux__)
#include <sched.h>
#endif

namespace mbrlhpo {
namespace {

// The CPUs this process may run on; hardware_concurrency() where affinity is unknown.
int AllowedCpuCount() {
#if defined(__linux__)
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    const int count = CPU_COUNT(&set);
    if (count > 0) return count;
  }
#endif
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

// OMP_NUM_THREADS as a positive integer, or 0 when unset or not one (OpenMP's lists such as
// "4,2" give their first entry, as OpenMP does for the outer level).
int OmpNumThreads() {
  const char* value = std::getenv("OMP_NUM_THREADS");
  if (value == nullptr) return 0;
  errno = 0;
  char* end = nullptr;
  const long n = std::strtol(value, &end, 10);
  if (errno != 0 || end == value || (*end != '\0' && *end != ',') || n <= 0) return 0;
  return static_cast<int>(std::min<long>(n, 1 << 16));
}

}  // namespace

int DefaultThreadCount() {
  int count = AllowedCpuCount();
  const int omp = OmpNumThreads();
  if (omp > 0) count = std::min(count, omp);
  return std::max(1, count);
}

ThreadPool::ThreadPool(int num_threads) {
  if (num_threads <= 0) num_threads = DefaultThreadCount();
  num_threads_ = num_threads;
  workers_.reserve(num_threads_ - 1);
  for (int t = 1; t < num_threads_; ++t) {
    workers_.emplace_back([this, t] { WorkerLoop(t); });
  }
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  start_cv_.notify_all();
  for (auto& worker : workers_) worker.join();
}

void ThreadPool::RunChunk(int thread_index) {
  const int64_t chunk = (job_size_ + num_threads_ - 1) / num_threads_;
  const int64_t begin = std::min<int64_t>(job_size_, chunk * thread_index);
  const int64_t end = std::min<int64_t>(job_size_, begin + chunk);
  if (begin >= end) return;
  try {
    (*job_)(begin, end, thread_index);
  } catch (...) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!error_) error_ = std::current_exception();
  }
}

void ThreadPool::WorkerLoop(int thread_index) {
  uint64_t seen = 0;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      start_cv_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
    }
    RunChunk(thread_index);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (--pending_ == 0) done_cv_.notify_one();
    }
  }
}

void ThreadPool::ParallelFor(int64_t n, const std::function<void(int64_t, int64_t, int)>& fn) {
  if (n <= 0) return;
  if (num_threads_ == 1) {
    fn(0, n, 0);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    job_ = &fn;
    job_size_ = n;
    error_ = nullptr;
    pending_ = num_threads_ - 1;
    ++generation_;
  }
  start_cv_.notify_all();
  RunChunk(0);
  std::exception_ptr error;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    done_cv_.wait(lock, [&] { return pending_ == 0; });
    job_ = nullptr;
    error = error_;
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace mbrlhpo
