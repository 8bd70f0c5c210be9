#include "fedra/core/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>

namespace fedra {
namespace {

TEST(ThreadPoolTest, RunsOnEveryWorkerAndWaits) {
  ThreadPool pool(3);
  EXPECT_EQ(pool.size(), 3u);
  for (int job = 0; job < 50; ++job) {
    std::atomic<int> sum{0};
    std::mutex mu;
    std::set<size_t> workers;
    pool.Run([&](size_t w) {
      sum += static_cast<int>(w) + 1;
      std::lock_guard<std::mutex> lock(mu);
      workers.insert(w);
    });
    EXPECT_EQ(sum.load(), 6);  // Run returned only after all three finished
    EXPECT_EQ(workers, (std::set<size_t>{0, 1, 2}));
  }
}

}  // namespace
}  // namespace fedra
