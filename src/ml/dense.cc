// Fully connected layer: y = W x + b.
#include "fedra/ml/layer.h"
#include "kernels.h"
#include "layer_util.h"

namespace fedra {
namespace {

class Dense final : public Layer {
 public:
  Dense(Shape input, int64_t units)
      : input_(std::move(input)), in_(NumElements(input_)), out_(units) {}

  std::string Name() const override { return "dense"; }
  Shape InputShape() const override { return input_; }
  Shape OutputShape() const override { return {out_}; }
  std::unique_ptr<Layer> Clone() const override { return std::make_unique<Dense>(*this); }
  std::vector<ParamSpec> ParameterSpecs() const override {
    return {{"weight", {out_, in_}}, {"bias", {out_}}};
  }
  void Bind(std::span<float* const> w, std::span<float* const> g) override {
    w_ = w[0], b_ = w[1], dw_ = g[0], db_ = g[1];
  }
  void Initialize(Rng& rng) override {
    internal::FillUniformFanIn({w_, static_cast<size_t>(out_ * in_)}, in_, rng);
    internal::FillUniformFanIn({b_, static_cast<size_t>(out_)}, in_, rng);
  }

  // Row-major views: the batch x (in x B, column-major) is the row-major (B x in) matrix X, and
  // W is row-major (out x in), so Y = X W^T, dW = dY^T X and dX = dY W.
  void Forward(const Matrix& x, Matrix* y, bool /*training*/) override {
    const int64_t batch = x.cols();
    y->resize(out_, batch);
    internal::Gemm(false, true, batch, out_, in_, 1.0f, x.data(), in_, w_, in_, 0.0f, y->data(),
                   out_);
    internal::AddColBias(y->data(), b_, out_, batch);
  }

  void Backward(const Matrix& x, const Matrix& /*y*/, const Matrix& dy, Matrix* dx) override {
    const int64_t batch = dy.cols();
    internal::Gemm(true, false, out_, in_, batch, 1.0f, dy.data(), out_, x.data(), in_, 0.0f, dw_,
                   in_);
    internal::ColMajorRowSums(dy.data(), out_, batch, db_);
    if (dx == nullptr) return;
    dx->resize(in_, batch);
    internal::Gemm(false, false, batch, in_, out_, 1.0f, dy.data(), out_, w_, in_, 0.0f, dx->data(),
                   in_);
  }

 private:
  Shape input_;
  int64_t in_, out_;
  float *w_ = nullptr, *b_ = nullptr, *dw_ = nullptr, *db_ = nullptr;
};

}  // namespace

StatusOr<std::unique_ptr<Layer>> NewDense(const Shape& input, int64_t units) {
  if (input.empty() || NumElements(input) <= 0) {
    return internal::ShapeError("dense", input, "expected a non-empty shape");
  }
  if (units <= 0)
    return InvalidArgumentError("dense layer needs units > 0, got " + std::to_string(units));
  return std::unique_ptr<Layer>(std::make_unique<Dense>(input, units));
}

}  // namespace fedra
