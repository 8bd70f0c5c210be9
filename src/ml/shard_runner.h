// ShardRunner: runs the shards of one model step on a few threads with a low hand-off cost.
//
// A model step hands work to its helpers two or three times (forward, backward, gradient
// sum), a few hundred microseconds apart. Waking a sleeping thread through a condition variable
// costs tens to hundreds of microseconds on a virtual machine, so helpers spin for a while
// after each job before they sleep, and the caller runs shard 0 itself (as OpenMP does).
//
// Thread-safety: Run() may be called from one thread at a time.
#ifndef FEDRA_SRC_ML_SHARD_RUNNER_H_
#define FEDRA_SRC_ML_SHARD_RUNNER_H_

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace fedra::internal {

class ShardRunner {
 public:
  // REQUIRES: threads >= 2 (the caller and threads - 1 helpers).
  explicit ShardRunner(size_t threads);
  ~ShardRunner();
  ShardRunner(const ShardRunner&) = delete;
  ShardRunner& operator=(const ShardRunner&) = delete;

  size_t threads() const { return helpers_.size() + 1; }
  // Calls fn(i) for every i in [0, n) and returns when all are done; fn(0) runs on the
  // caller. REQUIRES: 1 <= n <= threads().
  void Run(size_t n, const std::function<void(size_t)>& fn);

 private:
  void HelperLoop(size_t shard);

  const std::function<void(size_t)>* job_ = nullptr;  // published by generation_
  size_t shards_ = 0;                                 // published by generation_
  std::atomic<uint64_t> generation_{0};
  std::atomic<size_t> pending_{0};  // helper shards of the current job not yet done
  std::atomic<bool> stop_{false};
  std::mutex mu_;  // only for sleeping helpers
  std::condition_variable wake_;
  std::vector<std::thread> helpers_;
};

}  // namespace fedra::internal

#endif  // FEDRA_SRC_ML_SHARD_RUNNER_H_
