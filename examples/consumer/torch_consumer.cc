// Uses fedra::torch from an installed fedra (find_package(fedra COMPONENTS torch)): loads a
// TorchScript module (examples/torch/export_mlp.py OUT.pt --input 4 --hidden 8 --classes 2)
// and trains it on a separable two-class problem; exits non-zero unless the local update
// lowers the loss.
#include <cmath>
#include <cstdio>

#include "fedra/core/rng.h"
#include "fedra/torch/torchscript_trainer.h"

int main(int argc, char** argv) {
  if (argc != 2) return std::fprintf(stderr, "usage: %s MODULE.pt\n", argv[0]), 2;
  fedra::Rng rng(1);
  fedra::Dataset data;
  data.example_shape = {4};
  data.num_classes = 2;
  data.features = fedra::Matrix::Random(4, 256);
  data.targets.resize(1, 256);
  for (int i = 0; i < 256; ++i) data.targets(0, i) = data.features(0, i) > 0 ? 1.0f : 0.0f;
  auto trainer = fedra::torch::TorchScriptTrainer::Load(argv[1], data, data);
  if (!trainer.ok()) return std::fprintf(stderr, "%s\n", trainer.status().ToString().c_str()), 1;
  const fedra::Parameters global = (*trainer)->parameters();
  auto before = (*trainer)->Evaluate(global, {});
  auto fit =
      (*trainer)->Fit(global, {.epochs = 5, .learning_rate = 0.1f, .momentum = 0.9f}, {}, rng);
  if (!before.ok() || !fit.ok()) return std::fprintf(stderr, "fit or evaluate failed\n"), 1;
  fedra::Parameters trained = global;
  trained.AddInPlace(fit->update);
  auto after = (*trainer)->Evaluate(trained, {});
  if (!after.ok()) return std::fprintf(stderr, "%s\n", after.status().ToString().c_str()), 1;
  std::printf("fedra torch consumer: %zu tensors, loss %.4f -> %.4f, accuracy %.3f\n",
              global.num_tensors(), before->loss, after->loss, after->accuracy);
  return std::isfinite(after->loss) && after->loss < before->loss ? 0 : 1;
}
