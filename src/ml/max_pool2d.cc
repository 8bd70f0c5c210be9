// Max pooling; remembers the arg-max of every window (as an offset within the example, the
// first maximum as PyTorch picks it, NaN winning) for the backward pass.
#include <cstdint>
#include <vector>

#include "fedra/ml/layer.h"
#include "kernels.h"
#include "layer_util.h"

namespace fedra {
namespace {

class MaxPool2D final : public Layer {
 public:
  MaxPool2D(const Shape& in, int64_t k, int64_t s)
      : c_(in[0]),
        h_(in[1]),
        w_(in[2]),
        k_(k),
        s_(s),
        oh_((h_ - k) / s + 1),
        ow_((w_ - k) / s + 1) {}

  std::string Name() const override { return "maxpool2d"; }
  Shape InputShape() const override { return {c_, h_, w_}; }
  Shape OutputShape() const override { return {c_, oh_, ow_}; }
  std::unique_ptr<Layer> Clone() const override { return std::make_unique<MaxPool2D>(*this); }

  void Forward(const Matrix& x, Matrix* y, bool) override {
    const Eigen::Index batch = x.cols();
    const int64_t out_size = c_ * oh_ * ow_;
    y->resize(out_size, batch);
    argmax_.resize(static_cast<size_t>(out_size * batch));
    const internal::ConvGeometry g{c_, h_, w_, k_, s_, 0, oh_, ow_};
    for (Eigen::Index b = 0; b < batch; ++b) {
      internal::MaxPoolForward(g, x.col(b).data(), y->col(b).data(), argmax_.data() + b * out_size);
    }
  }

  void Backward(const Matrix&, const Matrix&, const Matrix& dy, Matrix* dx) override {
    if (dx == nullptr) return;
    const int64_t in_size = c_ * h_ * w_, out_size = dy.rows();
    dx->setZero(in_size, dy.cols());
    for (Eigen::Index b = 0; b < dy.cols(); ++b) {
      float* dxb = dx->col(b).data();
      const float* dyb = dy.col(b).data();
      const int32_t* ab = argmax_.data() + b * out_size;
      for (int64_t o = 0; o < out_size; ++o) dxb[ab[o]] += dyb[o];
    }
  }

 private:
  int64_t c_, h_, w_, k_, s_, oh_, ow_;
  std::vector<int32_t> argmax_;  // per output: input offset within its example
};

}  // namespace

StatusOr<std::unique_ptr<Layer>> NewMaxPool2D(const Shape& input, int64_t kernel, int64_t stride) {
  if (stride == 0) stride = kernel;
  if (input.size() != 3 || NumElements(input) <= 0) {
    return internal::ShapeError("maxpool2d", input, "expected {channels, height, width}");
  }
  if (NumElements(input) > INT32_MAX) {
    return internal::ShapeError("maxpool2d", input, "at most 2^31 - 1 values per example");
  }
  if (kernel <= 0 || stride <= 0) {
    return InvalidArgumentError("maxpool2d needs kernel > 0 and stride >= 0");
  }
  if (input[1] < kernel || input[2] < kernel) {
    return internal::ShapeError("maxpool2d", input, "the window is larger than the image");
  }
  return std::unique_ptr<Layer>(std::make_unique<MaxPool2D>(input, kernel, stride));
}

}  // namespace fedra
