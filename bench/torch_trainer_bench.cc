// The same MLP trained two ways as a federated client would: fedra's own layers (ModelTrainer)
// and a TorchScript module in libtorch (fedra::torch::TorchScriptTrainer), one local epoch of
// SGD (momentum 0.9, batch 64) on Fashion-MNIST-shaped synthetic data, at 1 and 2 threads.
// Prints one JSON line per (trainer, threads) with samples/s (best of 3 epochs).
//
//   /usr/bin/python3 examples/torch/export_mlp.py /tmp/mlp.pt
//   build/release/bench/torch_trainer_bench /tmp/mlp.pt
#include <algorithm>
#include <chrono>
#include <cstdio>

#include "fedra/fl/local_trainer.h"
#include "fedra/ml/loss.h"
#include "fedra/ml/model_zoo.h"
#include "fedra/torch/torchscript_trainer.h"

namespace {

fedra::Dataset Data(size_t n) {
  fedra::Rng rng(1);
  fedra::Dataset d{.features = fedra::Matrix(784, static_cast<Eigen::Index>(n)),
                   .targets = fedra::Matrix(1, static_cast<Eigen::Index>(n)),
                   .example_shape = {1, 28, 28},
                   .num_classes = 10};
  for (Eigen::Index i = 0; i < d.features.cols(); ++i) {
    const int c = static_cast<int>(rng.UniformInt(10));
    for (Eigen::Index j = 0; j < 784; ++j)
      d.features(j, i) = static_cast<float>(0.1 * rng.Normal() + (j % 10 == c ? 0.5 : 0.0));
    d.targets(0, i) = static_cast<float>(c);
  }
  return d;
}

double BestSamplesPerSecond(fedra::LocalTrainer& t, const fedra::Parameters& global, size_t n) {
  const fedra::FitConfig config{
      .epochs = 1, .batch_size = 64, .learning_rate = 0.01f, .momentum = 0.9f};
  double best = 0;
  for (int rep = 0; rep < 3; ++rep) {
    fedra::Rng rng(static_cast<uint64_t>(rep));
    const auto start = std::chrono::steady_clock::now();
    auto r = t.Fit(global, config, {}, rng);
    const double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!r.ok()) {
      std::fprintf(stderr, "fit failed: %s\n", r.status().ToString().c_str());
      std::exit(1);
    }
    best = std::max(best, static_cast<double>(n) / s);
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: torch_trainer_bench MLP.pt (examples/torch/export_mlp.py)\n");
    return 2;
  }
  const size_t n = 12800;
  const fedra::Dataset train = Data(n), test;
  auto model = std::move(fedra::NewMlp({1, 28, 28}, 10, 1)).value();
  const fedra::Parameters global = model->parameters();
  auto loss = fedra::NewSoftmaxCrossEntropy();
  auto torch_trainer = fedra::torch::TorchScriptTrainer::Load(argv[1], train, test);
  if (!torch_trainer.ok()) {
    std::fprintf(stderr, "%s\n", torch_trainer.status().ToString().c_str());
    return 1;
  }
  for (int threads : {1, 2}) {
    if (!model->SetThreads(threads).ok()) return 1;
    fedra::ModelTrainer fedra_trainer(*model, *loss, train, test, nullptr);
    fedra::torch::SetTorchThreads(threads);
    const double f = BestSamplesPerSecond(fedra_trainer, global, n);
    const double t = BestSamplesPerSecond(**torch_trainer, global, n);
    std::printf(
        "{\"model\":\"mlp 784-200-200-10\",\"threads\":%d,\"fedra_samples_per_s\":%.0f,"
        "\"torchscript_samples_per_s\":%.0f,\"fedra_over_torchscript\":%.3f}\n",
        threads, f, t, f / t);
  }
  return 0;
}
