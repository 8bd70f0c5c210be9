// Uses fedra as an installed package: fits linear regression to synthetic data with known
// weights and exits non-zero unless training recovers them.
#include <cmath>
#include <cstdio>

#include "fedra/ml/model_zoo.h"
#include "fedra/ml/synthetic.h"
#include "fedra/ml/trainer.h"

int main() {
  fedra::Rng rng(1);
  auto data = fedra::MakeLinearRegression({.num_examples = 2000, .num_features = 8}, rng);
  if (!data.ok()) return std::fprintf(stderr, "%s\n", data.status().ToString().c_str()), 1;
  auto model = fedra::NewLinearRegression(data->data.example_shape, 1, 1);
  auto opt = fedra::NewSgd({.learning_rate = 0.05f, .momentum = 0.5f});
  auto loss = fedra::NewMeanSquaredError();
  auto fit = fedra::Fit(**model, *loss, **opt, data->data, {.epochs = 10, .batch_size = 32}, rng);
  if (!fit.ok()) return std::fprintf(stderr, "%s\n", fit.status().ToString().c_str()), 1;
  const fedra::Parameters& p = (*model)->parameters();
  double max_error = std::abs(p.Tensor(1)[0] - data->b);
  for (size_t j = 0; j < data->w.size(); ++j) {
    max_error =
        std::fmax(max_error, std::abs(p.Tensor(0)[static_cast<Eigen::Index>(j)] - data->w[j]));
  }
  std::printf("fedra consumer: linear regression, largest weight error %.4f, final loss %.4f\n",
              max_error, fit->loss());
  return max_error < 0.05 ? 0 : 1;
}
