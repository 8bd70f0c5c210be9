// Training throughput (samples/s for a full forward + loss + backward + SGD momentum step, batch
// 64, Fashion-MNIST shapes) of the zoo's models at 1 and 2 threads. bench/train_vs_pytorch.py
// runs this beside the same models in PyTorch and prints the ratios.
//
//   build/release/bench/train_throughput_bench --benchmark_min_time=2
#include <benchmark/benchmark.h>

#include "fedra/core/rng.h"
#include "fedra/ml/backend.h"
#include "fedra/ml/loss.h"
#include "fedra/ml/model_zoo.h"
#include "fedra/ml/optimizer.h"

namespace {

constexpr int kBatch = 64;

void TrainStep(benchmark::State& state, const char* name) {
  fedra::Rng rng(1);
  auto model = *fedra::NewModelByName(name, {1, 28, 28}, 10, 1);
  if (!model->SetThreads(static_cast<int>(state.range(0))).ok()) state.SkipWithError("threads");
  auto loss = fedra::NewSoftmaxCrossEntropy();
  auto opt = *fedra::NewSgd({.learning_rate = 0.01f, .momentum = 0.9f});
  fedra::Matrix x(784, kBatch), labels(1, kBatch), grad;
  for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(rng.Uniform());
  for (int i = 0; i < kBatch; ++i) labels(0, i) = static_cast<float>(i % 10);
  for (auto _ : state) {
    loss->Compute(model->Forward(x), labels, &grad);
    model->Backward(grad);
    opt->Step(model->mutable_parameters().span(), model->gradients().span());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}

BENCHMARK_CAPTURE(TrainStep, mlp, "mlp")
    ->Arg(1)
    ->Arg(2)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(TrainStep, cnn, "cnn")
    ->Arg(1)
    ->Arg(2)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(TrainStep, simple_cnn, "simple-cnn")
    ->Arg(1)
    ->Arg(2)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  benchmark::AddCustomContext("fedra_ml_backend", fedra::MlBackendInfo());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
