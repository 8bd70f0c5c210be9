// Aggregation throughput: client updates folded per second by the round driver's streaming
// path (layout and report checks + Strategy::Fold staged in an UpdateAccumulator, which checks
// the values in the same pass), beside a plain `acc += w * x` loop over the same buffers in
// the same run.
//
//   build/bench/aggregation_bench --benchmark_min_time=1
#include <benchmark/benchmark.h>

#include <vector>

#include "fedra/core/rng.h"
#include "fedra/fl/fed_avg.h"
#include "fedra/fl/round_driver.h"

namespace {

constexpr int kClients = 16;  // distinct update buffers, cycled so they are not all in cache

std::vector<fedra::FitResult> Updates(int64_t params) {
  fedra::Rng rng(1);
  std::vector<fedra::FitResult> out(kClients);
  for (int c = 0; c < kClients; ++c) {
    out[c].client = static_cast<fedra::ClientId>(c);
    out[c].update.Add("w", {params});
    for (float& v : out[c].update.span()) v = static_cast<float>(rng.Normal());
    out[c].num_examples = 10 + static_cast<size_t>(c);
    out[c].train_loss = 1.0;
  }
  return out;
}

void BM_PlainAxpyLoop(benchmark::State& state) {
  const int64_t n = state.range(0);
  auto updates = Updates(n);
  std::vector<float> acc(static_cast<size_t>(n), 0.0f);
  int c = 0;
  for (auto _ : state) {
    const float w = static_cast<float>(updates[c].num_examples);
    const float* x = updates[c].update.data();
    float* a = acc.data();
    for (int64_t i = 0; i < n; ++i) a[i] += w * x[i];
    benchmark::ClobberMemory();
    c = (c + 1) % kClients;
  }
  state.SetItemsProcessed(state.iterations() * n);  // parameters folded
}

// The same loop written with Eigen, which vectorises it whatever the compiler's -O2 choices.
void BM_EigenAxpy(benchmark::State& state) {
  const int64_t n = state.range(0);
  auto updates = Updates(n);
  fedra::Vector acc = fedra::Vector::Zero(n);
  int c = 0;
  for (auto _ : state) {
    acc += static_cast<float>(updates[c].num_examples) * updates[c].update.Flat();
    benchmark::ClobberMemory();
    c = (c + 1) % kClients;
  }
  state.SetItemsProcessed(state.iterations() * n);
}

void BM_DriverFold(benchmark::State& state) {
  const int64_t n = state.range(0);
  auto updates = Updates(n);
  auto strategy = *fedra::NewFedAvg({});
  fedra::UpdateAccumulator acc;
  fedra::Parameters global = fedra::Parameters::ZerosLike(updates[0].update);
  int c = 0;
  for (auto _ : state) {
    // What RoundDriver does for every arriving result of a sum-based strategy: check the
    // layout and the report, then fold as a unit: check every value of the new sum, then add
    // the update in place.
    if (!global.CheckSameLayout(updates[c].update).ok() ||
        !fedra::ValidateFitReport(updates[c]).ok()) {
      state.SkipWithError("invalid");
    }
    acc.BeginFold({&updates[c].update});
    strategy->Fold(updates[c], acc);
    if (!acc.CommitFold().ok()) state.SkipWithError("not finite");
    benchmark::ClobberMemory();
    c = (c + 1) % kClients;
  }
  state.SetItemsProcessed(state.iterations() * n);
}

// 100k parameters (fits in L2/L3 cycling 16 clients: 6.4 MB) and 2.5M (10 MB per update, RAM).
BENCHMARK(BM_PlainAxpyLoop)->Arg(100'000)->Arg(2'500'000);
BENCHMARK(BM_EigenAxpy)->Arg(100'000)->Arg(2'500'000);
BENCHMARK(BM_DriverFold)->Arg(100'000)->Arg(2'500'000);

}  // namespace

BENCHMARK_MAIN();
