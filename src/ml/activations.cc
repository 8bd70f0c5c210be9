// Parameter-free layers that keep no random state: ReLU and Flatten.
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

StatusOr<std::unique_ptr<Layer>> NewFlatten(const Shape& input) {
  if (input.empty()) return internal::ShapeError("flatten", input, "expected a non-empty shape");
  return std::unique_ptr<Layer>(std::make_unique<Flatten>(input));
}

}  // namespace fedra
