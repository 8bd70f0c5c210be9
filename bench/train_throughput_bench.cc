// Training throughput of the MLP and the CNN (samples/s for a full forward + backward +
// SGD step), beside the raw Eigen GEMMs that the same step performs with the same shapes, so
// the overhead of the layer machinery shows as a ratio measured in the same run.
//
//   build/bench/train_throughput_bench --benchmark_min_time=2
#include <benchmark/benchmark.h>

#include <vector>

#include "fedra/core/rng.h"
#include "fedra/ml/loss.h"
#include "fedra/ml/model_zoo.h"
#include "fedra/ml/optimizer.h"

namespace {

constexpr int kBatch = 64;

fedra::Matrix Random(Eigen::Index r, Eigen::Index c, fedra::Rng& rng) {
  fedra::Matrix m(r, c);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = static_cast<float>(rng.Normal());
  return m;
}

void TrainStep(benchmark::State& state, const char* name) {
  fedra::Rng rng(1);
  auto model = *fedra::NewModelByName(name, {1, 28, 28}, 10, 1);
  auto loss = fedra::NewSoftmaxCrossEntropy();
  auto opt = *fedra::NewSgd({.learning_rate = 0.01f, .momentum = 0.9f});
  const fedra::Matrix x = Random(784, kBatch, rng);
  fedra::Matrix labels(1, kBatch), grad;
  for (int i = 0; i < kBatch; ++i) labels(0, i) = static_cast<float>(i % 10);
  for (auto _ : state) {
    loss->Compute(model->Forward(x), labels, &grad);
    model->Backward(grad);
    opt->Step(model->mutable_parameters().span(), model->gradients().span());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}

// One GEMM of a training step: C (m x n) = A (m x k) * B (k x n).
struct Gemm {
  fedra::Matrix a, b, c;
};

Gemm MakeGemm(Eigen::Index m, Eigen::Index k, Eigen::Index n, fedra::Rng& rng) {
  return {Random(m, k, rng), Random(k, n, rng), fedra::Matrix(m, n)};
}

// For a dense layer out x in with batch B: forward W x, weight gradient dY x^T, input gradient W^T
// dY.
void AddDenseGemms(std::vector<Gemm>& g, Eigen::Index out, Eigen::Index in, bool input_grad,
                   fedra::Rng& rng) {
  g.push_back(MakeGemm(out, in, kBatch, rng));
  g.push_back(MakeGemm(out, kBatch, in, rng));
  if (input_grad) g.push_back(MakeGemm(in, out, kBatch, rng));
}

// For a conv layer as im2col GEMM: forward colT (B*P x CKK) * Wt (CKK x OC), weight
// gradient colT^T dO, input gradient dO Wt^T.
void AddConvGemms(std::vector<Gemm>& g, Eigen::Index pixels, Eigen::Index ckk, Eigen::Index oc,
                  bool input_grad, fedra::Rng& rng) {
  g.push_back(MakeGemm(kBatch * pixels, ckk, oc, rng));
  g.push_back(MakeGemm(ckk, kBatch * pixels, oc, rng));
  if (input_grad) g.push_back(MakeGemm(kBatch * pixels, oc, ckk, rng));
}

void RawGemms(benchmark::State& state, std::vector<Gemm> gemms) {
  for (auto _ : state) {
    for (Gemm& g : gemms) g.c.noalias() = g.a * g.b;
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}

void BM_MlpTrainStep(benchmark::State& state) { TrainStep(state, "mlp"); }
void BM_CnnTrainStep(benchmark::State& state) { TrainStep(state, "cnn"); }

void BM_MlpRawGemms(benchmark::State& state) {
  fedra::Rng rng(2);
  std::vector<Gemm> g;
  AddDenseGemms(g, 200, 784, false, rng);
  AddDenseGemms(g, 200, 200, true, rng);
  AddDenseGemms(g, 10, 200, true, rng);
  RawGemms(state, std::move(g));
}

void BM_CnnRawGemms(benchmark::State& state) {
  fedra::Rng rng(3);
  std::vector<Gemm> g;
  AddConvGemms(g, 28 * 28, 1 * 25, 6, false, rng);
  AddConvGemms(g, 10 * 10, 6 * 25, 16, true, rng);
  AddDenseGemms(g, 120, 400, true, rng);
  AddDenseGemms(g, 84, 120, true, rng);
  AddDenseGemms(g, 10, 84, true, rng);
  RawGemms(state, std::move(g));
}

BENCHMARK(BM_MlpTrainStep)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_MlpRawGemms)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_CnnTrainStep)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_CnnRawGemms)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
