// Parameter-free layers that keep no random state: ReLU, GELU and Flatten.
#include <cmath>

#include "fedra/ml/layer.h"
#include "kernels.h"
#include "layer_util.h"

namespace fedra {
namespace {

class ReLU final : public Layer {
 public:
  explicit ReLU(Shape input) : shape_(std::move(input)) {}
  std::string Name() const override { return "relu"; }
  Shape InputShape() const override { return shape_; }
  Shape OutputShape() const override { return shape_; }
  std::unique_ptr<Layer> Clone() const override { return std::make_unique<ReLU>(*this); }

  void Forward(const Matrix& x, Matrix* y, bool) override {
    y->resize(x.rows(), x.cols());
    internal::Relu(x.data(), y->data(), x.size());
  }
  void Backward(const Matrix&, const Matrix& y, const Matrix& dy, Matrix* dx) override {
    if (dx == nullptr) return;
    dx->resize(dy.rows(), dy.cols());
    internal::ReluBackward(y.data(), dy.data(), dx->data(), dy.size());
  }

 private:
  Shape shape_;
};

// GELU with the exact normal CDF (PyTorch's default, approximate='none'):
// y = x Phi(x), dy/dx = Phi(x) + x phi(x).
class Gelu final : public Layer {
 public:
  explicit Gelu(Shape input) : shape_(std::move(input)) {}
  std::string Name() const override { return "gelu"; }
  Shape InputShape() const override { return shape_; }
  Shape OutputShape() const override { return shape_; }
  std::unique_ptr<Layer> Clone() const override { return std::make_unique<Gelu>(*this); }

  void Forward(const Matrix& x, Matrix* y, bool) override {
    y->resize(x.rows(), x.cols());
    for (Eigen::Index i = 0; i < x.size(); ++i) {
      const double v = x.data()[i];
      y->data()[i] = static_cast<float>(0.5 * v * (1.0 + std::erf(v * M_SQRT1_2)));
    }
  }
  void Backward(const Matrix& x, const Matrix&, const Matrix& dy, Matrix* dx) override {
    if (dx == nullptr) return;
    dx->resize(dy.rows(), dy.cols());
    for (Eigen::Index i = 0; i < x.size(); ++i) {
      const double v = x.data()[i];
      const double cdf = 0.5 * (1.0 + std::erf(v * M_SQRT1_2));
      const double pdf = std::exp(-0.5 * v * v) * 0.5 * M_2_SQRTPI * M_SQRT1_2;
      dx->data()[i] = static_cast<float>(dy.data()[i] * (cdf + v * pdf));
    }
  }

 private:
  Shape shape_;
};

class Flatten final : public Layer {
 public:
  explicit Flatten(Shape input) : shape_(std::move(input)) {}
  std::string Name() const override { return "flatten"; }
  Shape InputShape() const override { return shape_; }
  Shape OutputShape() const override { return {NumElements(shape_)}; }
  std::unique_ptr<Layer> Clone() const override { return std::make_unique<Flatten>(*this); }

  // Columns are already flat (row-major C, H, W), so flattening only renames the shape.
  void Forward(const Matrix& x, Matrix* y, bool) override { *y = x; }
  void Backward(const Matrix&, const Matrix&, const Matrix& dy, Matrix* dx) override {
    if (dx != nullptr) *dx = dy;
  }

 private:
  Shape shape_;
};

}  // namespace

StatusOr<std::unique_ptr<Layer>> NewReLU(const Shape& input) {
  if (input.empty()) return internal::ShapeError("relu", input, "expected a non-empty shape");
  return std::unique_ptr<Layer>(std::make_unique<ReLU>(input));
}

StatusOr<std::unique_ptr<Layer>> NewGelu(const Shape& input) {
  if (input.empty()) return internal::ShapeError("gelu", input, "expected a non-empty shape");
  return std::unique_ptr<Layer>(std::make_unique<Gelu>(input));
}

StatusOr<std::unique_ptr<Layer>> NewFlatten(const Shape& input) {
  if (input.empty()) return internal::ShapeError("flatten", input, "expected a non-empty shape");
  return std::unique_ptr<Layer>(std::make_unique<Flatten>(input));
}

}  // namespace fedra
