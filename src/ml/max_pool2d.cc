// Max pooling; remembers the arg-max of every window for the backward pass.
#include <limits>

#include "fedra/ml/layer.h"
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
    const Eigen::Index out_size = c_ * oh_ * ow_;
    y->resize(out_size, batch);
    argmax_.resize(static_cast<size_t>(out_size * batch));
    for (Eigen::Index b = 0; b < batch; ++b) {
      for (int64_t c = 0; c < c_; ++c) {
        for (int64_t oi = 0; oi < oh_; ++oi) {
          for (int64_t oj = 0; oj < ow_; ++oj) {
            const Eigen::Index o = (c * oh_ + oi) * ow_ + oj;
            float best = -std::numeric_limits<float>::infinity();
            Eigen::Index best_at = (c * h_ + oi * s_) * w_ + oj * s_;
            for (int64_t ki = 0; ki < k_; ++ki) {
              for (int64_t kj = 0; kj < k_; ++kj) {
                const Eigen::Index at = (c * h_ + oi * s_ + ki) * w_ + oj * s_ + kj;
                if (x(at, b) > best) best = x(at, b), best_at = at;
              }
            }
            (*y)(o, b) = best;
            argmax_[static_cast<size_t>(b * out_size + o)] = best_at;
          }
        }
      }
    }
  }

  void Backward(const Matrix&, const Matrix&, const Matrix& dy, Matrix* dx) override {
    if (dx == nullptr) return;
    dx->setZero(c_ * h_ * w_, dy.cols());
    for (Eigen::Index b = 0; b < dy.cols(); ++b) {
      for (Eigen::Index o = 0; o < dy.rows(); ++o) {
        (*dx)(argmax_[static_cast<size_t>(b * dy.rows() + o)], b) += dy(o, b);
      }
    }
  }

 private:
  int64_t c_, h_, w_, k_, s_, oh_, ow_;
  std::vector<Eigen::Index> argmax_;
};

}  // namespace

StatusOr<std::unique_ptr<Layer>> NewMaxPool2D(const Shape& input, int64_t kernel, int64_t stride) {
  if (stride == 0) stride = kernel;
  if (input.size() != 3 || NumElements(input) <= 0) {
    return internal::ShapeError("maxpool2d", input, "expected {channels, height, width}");
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
