// Differential-privacy costs, each beside a baseline measured in the same run:
// - a sweep of 300 (z, q, steps) settings through the RDP accountant (dp_accounting's default
//   orders, improved conversion), beside the same sweep with q = 1, where RDP is closed form;
// - one PLD epsilon (z = 1, q = 0.1, 100 steps) beside RDP for the same setting;
// - CSPRNG Gaussian noise added to a 1M-float update, beside fedra::Rng's non-cryptographic
//   normals; L2 clipping beside Parameters::L2Norm.
//
//   build/bench/dp_accountant_bench --benchmark_min_time=1
#include <benchmark/benchmark.h>

#include <vector>

#include "fedra/core/rng.h"
#include "fedra/ml/parameters.h"
#include "fedra/privacy/dp/clipping.h"
#include "fedra/privacy/dp/gaussian_noise.h"
#include "fedra/privacy/dp/pld_accountant.h"
#include "fedra/privacy/dp/rdp_accountant.h"

namespace {

namespace dp = fedra::dp;

// 10 noise multipliers x 6 sampling rates x 5 step counts = 300 settings.
std::vector<dp::SampledGaussian> Sweep(bool unsampled) {
  std::vector<dp::SampledGaussian> out;
  for (double z : {0.5, 0.7, 0.8, 1.0, 1.1, 1.3, 1.5, 2.0, 3.0, 5.0}) {
    for (double q : {0.001, 0.004, 0.01, 0.05, 0.1, 0.3}) {
      for (int64_t t : {10, 100, 1000, 5000, 20000}) {
        out.push_back({.noise_multiplier = z, .sampling_rate = unsampled ? 1.0 : q, .steps = t});
      }
    }
  }
  return out;
}

void RunSweep(benchmark::State& state, bool unsampled) {
  const auto sweep = Sweep(unsampled);
  for (auto _ : state) {
    double total = 0;
    for (const auto& s : sweep) total += *dp::RdpEpsilon(s, 1e-5);
    benchmark::DoNotOptimize(total);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(sweep.size()));
}

void BM_RdpSweepClosedFormBaseline(benchmark::State& state) { RunSweep(state, true); }
void BM_RdpSweep300SampledGaussian(benchmark::State& state) { RunSweep(state, false); }

constexpr dp::SampledGaussian kFlSetting{
    .noise_multiplier = 1.0, .sampling_rate = 0.1, .steps = 100};

void BM_RdpOneSetting(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(*dp::RdpEpsilon(kFlSetting, 1e-5));
}

void BM_PldOneSetting(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(*dp::PldEpsilon(kFlSetting, 1e-5));
}

std::vector<float> Buffer(size_t n) { return std::vector<float>(n, 0.5f); }

void BM_NoiseBaselineXoshiroNormals(benchmark::State& state) {
  auto x = Buffer(static_cast<size_t>(state.range(0)));
  fedra::Rng rng(1);
  for (auto _ : state) {
    for (float& v : x) v = static_cast<float>(v + 0.01 * rng.Normal());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

void BM_NoiseChaCha20Normals(benchmark::State& state) {
  auto x = Buffer(static_cast<size_t>(state.range(0)));
  auto noise = *dp::GaussianNoise::FromSeed(1);
  for (auto _ : state) {
    noise.AddTo(x, 0.01);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

fedra::Parameters Params(int64_t n) {
  fedra::Parameters p;
  p.Add("w", {n});
  fedra::Rng rng(2);
  for (float& v : p.span()) v = static_cast<float>(rng.Normal());
  return p;
}

void BM_ClipBaselineL2Norm(benchmark::State& state) {
  auto p = Params(state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(p.L2Norm());
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

void BM_ClipL2(benchmark::State& state) {
  auto p = Params(state.range(0));
  for (auto _ : state) {
    benchmark::DoNotOptimize(dp::ClipL2(p, 1e9));  // norm only: nothing to scale
    benchmark::DoNotOptimize(dp::ClipL2(p, 1.0));  // scales (later calls: already short)
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

}  // namespace

BENCHMARK(BM_RdpSweepClosedFormBaseline)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_RdpSweep300SampledGaussian)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_RdpOneSetting)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_PldOneSetting)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_NoiseBaselineXoshiroNormals)->Arg(1 << 20)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_NoiseChaCha20Normals)->Arg(1 << 20)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ClipBaselineL2Norm)->Arg(1 << 20)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ClipL2)->Arg(1 << 20)->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
