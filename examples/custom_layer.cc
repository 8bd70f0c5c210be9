// Extending fedra with your own layer: a Tanh activation, used inside a Sequential model and
// trained on two noisy interleaved half-moons, something a linear model cannot separate.
//
//   build/release/examples/custom_layer
#include <cmath>
#include <cstdio>

#include "fedra/ml/loss.h"
#include "fedra/ml/sequential.h"
#include "fedra/ml/trainer.h"

namespace {

class Tanh final : public fedra::Layer {
 public:
  explicit Tanh(fedra::Shape shape) : shape_(std::move(shape)) {}
  std::string Name() const override { return "tanh"; }
  fedra::Shape InputShape() const override { return shape_; }
  fedra::Shape OutputShape() const override { return shape_; }
  std::unique_ptr<fedra::Layer> Clone() const override { return std::make_unique<Tanh>(*this); }
  void Forward(const fedra::Matrix& x, fedra::Matrix* y, bool) override { *y = x.array().tanh(); }
  // d tanh(x) / dx = 1 - tanh(x)^2 = 1 - y^2.
  void Backward(const fedra::Matrix&, const fedra::Matrix& y, const fedra::Matrix& dy,
                fedra::Matrix* dx) override {
    if (dx != nullptr) *dx = dy.array() * (1.0f - y.array().square());
  }

 private:
  fedra::Shape shape_;
};

fedra::Dataset Moons(size_t n, fedra::Rng& rng) {
  fedra::Dataset d{.features = fedra::Matrix(2, static_cast<Eigen::Index>(n)),
                   .targets = fedra::Matrix(1, static_cast<Eigen::Index>(n)),
                   .example_shape = {2},
                   .num_classes = 2};
  for (Eigen::Index i = 0; i < d.features.cols(); ++i) {
    const int c = static_cast<int>(rng.UniformInt(2));
    const double t = M_PI * rng.Uniform();
    d.features(0, i) = static_cast<float>((c ? 1 - std::cos(t) : std::cos(t)) + 0.1 * rng.Normal());
    d.features(1, i) =
        static_cast<float>((c ? 0.5 - std::sin(t) : std::sin(t)) + 0.1 * rng.Normal());
    d.targets(0, i) = static_cast<float>(c);
  }
  return d;
}

}  // namespace

int main() {
  fedra::Rng rng(1);
  const fedra::Dataset train = Moons(2000, rng), test = Moons(500, rng);
  fedra::Sequential::Builder builder({2});
  builder.Dense(16);
  builder.Add(std::make_unique<Tanh>(builder.current_shape())).Dense(2);
  auto model = builder.Build("tanh-mlp", 1);
  if (!model.ok()) return std::fprintf(stderr, "%s\n", model.status().ToString().c_str()), 1;
  auto opt = fedra::NewAdam({.learning_rate = 0.01f});
  auto loss = fedra::NewSoftmaxCrossEntropy();
  auto fit = fedra::Fit(**model, *loss, **opt, train, {.epochs = 30, .batch_size = 32}, rng);
  if (!fit.ok()) return std::fprintf(stderr, "%s\n", fit.status().ToString().c_str()), 1;
  auto eval = fedra::Evaluate(**model, *loss, test);
  std::printf("tanh MLP on two moons: test accuracy %.3f\n", eval->accuracy);
  return eval->accuracy > 0.95 ? 0 : 1;
}
