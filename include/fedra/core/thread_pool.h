// ThreadPool: a fixed set of worker threads that run one job together. Run(fn) calls
// fn(worker) on every worker (worker in [0, size())) and returns when all have finished, so a
// job can keep per-worker scratch state (e.g. one model copy per worker) indexed by `worker`.
//
// Thread-safety: Run() may be called from one thread at a time.
#ifndef FEDRA_CORE_THREAD_POOL_H_
#define FEDRA_CORE_THREAD_POOL_H_

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace fedra {

class ThreadPool {
 public:
  // REQUIRES: threads >= 1.
  explicit ThreadPool(size_t threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  size_t size() const { return workers_.size(); }
  // Runs fn(worker) on each worker and waits for all of them.
  void Run(const std::function<void(size_t worker)>& fn);

 private:
  void WorkerLoop(size_t worker);

  std::mutex mu_;
  std::condition_variable start_cv_, done_cv_;
  const std::function<void(size_t)>* job_ = nullptr;  // guarded by mu_
  uint64_t generation_ = 0;                           // guarded by mu_
  size_t running_ = 0;                                // guarded by mu_
  bool stop_ = false;                                 // guarded by mu_
  std::vector<std::thread> workers_;
};

}  // namespace fedra

#endif  // FEDRA_CORE_THREAD_POOL_H_
