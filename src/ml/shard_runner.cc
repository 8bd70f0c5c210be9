#include "shard_runner.h"

#include <chrono>

#include "fedra/core/status.h"

namespace fedra::internal {
namespace {

// How long a helper keeps polling for the next job before it sleeps: longer than the gap
// between the hand-offs of one training step, short enough not to hold a core when idle.
constexpr auto kSpinFor = std::chrono::microseconds(2000);

// Polls briefly with the CPU's pause hint, then yields, so that a spinning thread gives its core
// to other runnable threads when the machine is oversubscribed (several clients on few cores).
inline void CpuRelax(int iteration) {
  if (iteration < 1024) {
#if defined(__x86_64__)
    __builtin_ia32_pause();
#endif
    return;
  }
  std::this_thread::yield();
}

}  // namespace

ShardRunner::ShardRunner(size_t threads) {
  FEDRA_CHECK(threads >= 2);
  for (size_t i = 1; i < threads; ++i) helpers_.emplace_back([this, i] { HelperLoop(i); });
}

ShardRunner::~ShardRunner() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_.store(true);
    generation_.fetch_add(1);
  }
  wake_.notify_all();
  for (auto& t : helpers_) t.join();
}

void ShardRunner::Run(size_t n, const std::function<void(size_t)>& fn) {
  FEDRA_CHECK(n >= 1 && n <= threads());
  job_ = &fn;
  shards_ = n;
  pending_.store(helpers_.size(), std::memory_order_relaxed);
  {
    // Under the lock so that a helper about to sleep cannot miss the new generation.
    std::lock_guard<std::mutex> lock(mu_);
    generation_.fetch_add(1, std::memory_order_release);
  }
  wake_.notify_all();
  fn(0);
  for (int i = 0; pending_.load(std::memory_order_acquire) != 0; ++i) CpuRelax(i);
  job_ = nullptr;
}

void ShardRunner::HelperLoop(size_t shard) {
  uint64_t seen = 0;
  for (;;) {
    // Spin, then sleep, until a new generation is published.
    const auto spin_until = std::chrono::steady_clock::now() + kSpinFor;
    uint64_t g = generation_.load(std::memory_order_acquire);
    for (int i = 0; g == seen; ++i) {
      CpuRelax(i);
      g = generation_.load(std::memory_order_acquire);
      if (g != seen || (i & 255) != 0 || std::chrono::steady_clock::now() < spin_until) continue;
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [&] { return generation_.load(std::memory_order_acquire) != seen; });
      g = generation_.load(std::memory_order_acquire);
    }
    seen = g;
    if (stop_.load()) return;
    if (shard < shards_) (*job_)(shard);
    pending_.fetch_sub(1, std::memory_order_acq_rel);
  }
}

}  // namespace fedra::internal
