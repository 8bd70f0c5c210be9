// Inverted dropout with its own random stream (split from the model's initialisation Rng).
#include "fedra/ml/layer.h"
#include "layer_util.h"

namespace fedra {
namespace {

class Dropout final : public Layer {
 public:
  Dropout(Shape input, double rate) : shape_(std::move(input)), rate_(rate), rng_(0) {}
  std::string Name() const override { return "dropout"; }
  Shape InputShape() const override { return shape_; }
  Shape OutputShape() const override { return shape_; }
  std::unique_ptr<Layer> Clone() const override { return std::make_unique<Dropout>(*this); }
  void Initialize(Rng& rng) override { Reseed(rng); }
  // Draws from `rng` (not Split) so that several dropout layers get different streams.
  void Reseed(Rng& rng) override { rng_ = Rng(rng.NextU64()); }

  void Forward(const Matrix& x, Matrix* y, bool training) override {
    training_ = training;
    if (!training || rate_ == 0.0) {
      *y = x;
      return;
    }
    const float scale = static_cast<float>(1.0 / (1.0 - rate_));
    mask_.resize(x.rows(), x.cols());
    for (Eigen::Index i = 0; i < mask_.size(); ++i) {
      mask_.data()[i] = rng_.Uniform() < rate_ ? 0.0f : scale;
    }
    *y = x.cwiseProduct(mask_);
  }
  void Backward(const Matrix&, const Matrix&, const Matrix& dy, Matrix* dx) override {
    if (dx == nullptr) return;
    if (!training_ || rate_ == 0.0) {
      *dx = dy;
    } else {
      *dx = dy.cwiseProduct(mask_);
    }
  }

 private:
  Shape shape_;
  double rate_;
  Rng rng_;
  Matrix mask_;
  bool training_ = false;
};

}  // namespace

StatusOr<std::unique_ptr<Layer>> NewDropout(const Shape& input, double rate) {
  if (input.empty()) return internal::ShapeError("dropout", input, "expected a non-empty shape");
  if (!(rate >= 0.0 && rate < 1.0)) {
    return InvalidArgumentError("dropout rate must be in [0, 1), got " + std::to_string(rate));
  }
  return std::unique_ptr<Layer>(std::make_unique<Dropout>(input, rate));
}

}  // namespace fedra
