// 2-D convolution by im2col + GEMM, one example at a time.
//
// For example b, im2col writes col (CKK x OHW, row-major: one row per (channel, kernel row,
// kernel col), one column per output pixel). The weight buffer {OC, C, KH, KW} is the row-major
// (OC x CKK) matrix W, so the example's output, (OC, OH, OW) row-major as its column of y
// holds it, is exactly W * col: no transposes. Working one example at a time keeps col (25 x
// 784 floats for the first LeNet layer) in L2 while its GEMM reads it; the backward pass reads
// the batch's col matrices kept from the forward pass.
#include <algorithm>
#include <vector>

#include "fedra/ml/layer.h"
#include "kernels.h"
#include "layer_util.h"

namespace fedra {
namespace {

using internal::Gemm;

class Conv2D final : public Layer {
 public:
  Conv2D(const Shape& input, const Conv2DOptions& o)
      : c_(input[0]),
        h_(input[1]),
        w_(input[2]),
        oc_(o.out_channels),
        k_(o.kernel),
        s_(o.stride),
        p_(o.padding),
        oh_((h_ + 2 * p_ - k_) / s_ + 1),
        ow_((w_ + 2 * p_ - k_) / s_ + 1),
        ckk_(c_ * k_ * k_),
        ohw_(oh_ * ow_) {}

  std::string Name() const override { return "conv2d"; }
  Shape InputShape() const override { return {c_, h_, w_}; }
  Shape OutputShape() const override { return {oc_, oh_, ow_}; }
  std::unique_ptr<Layer> Clone() const override { return std::make_unique<Conv2D>(*this); }
  std::vector<ParamSpec> ParameterSpecs() const override {
    return {{"weight", {oc_, c_, k_, k_}}, {"bias", {oc_}}};
  }
  void Bind(std::span<float* const> w, std::span<float* const> g) override {
    wt_ = w[0], b_ = w[1], dwt_ = g[0], db_ = g[1];
  }
  void Initialize(Rng& rng) override {
    internal::FillUniformFanIn({wt_, static_cast<size_t>(oc_ * ckk_)}, ckk_, rng);
    internal::FillUniformFanIn({b_, static_cast<size_t>(oc_)}, ckk_, rng);
  }

  void Forward(const Matrix& x, Matrix* y, bool training) override {
    y->resize(oc_ * ohw_, x.cols());
    // Training keeps every example's col for the backward pass; evaluation (large batches, no
    // backward) reuses one example's.
    cached_batch_ = training ? x.cols() : 0;
    const Eigen::Index kept = training ? x.cols() : 1;
    if (!IsIdentityIm2Col()) cols_.resize(static_cast<size_t>(kept * ckk_ * ohw_));
    for (Eigen::Index b = 0; b < x.cols(); ++b) {
      const float* col = Im2Col(x.col(b).data(), training ? b : 0);
      float* yb = y->col(b).data();
      Gemm(false, false, oc_, ohw_, ckk_, 1.0f, wt_, ckk_, col, ohw_, 0.0f, yb, ohw_);
      internal::AddRowBias(yb, b_, oc_, ohw_);
    }
  }

  void Backward(const Matrix& x, const Matrix&, const Matrix& dy, Matrix* dx) override {
    const Eigen::Index batch = dy.cols();
    if (batch == 0) {
      std::fill(dwt_, dwt_ + oc_ * ckk_, 0.0f);
      std::fill(db_, db_ + oc_, 0.0f);
    }
    if (dx != nullptr) dx->resize(c_ * h_ * w_, batch);
    if (cached_batch_ != batch && !IsIdentityIm2Col()) {
      cols_.resize(static_cast<size_t>(ckk_ * ohw_));
    }
    for (Eigen::Index b = 0; b < batch; ++b) {
      const float* dyb = dy.col(b).data();
      const float first = b == 0 ? 0.0f : 1.0f;  // overwrite with the first example, then add
      // The col kept by a training Forward of this batch, or rebuilt.
      const float* col = cached_batch_ == batch ? ColOf(x, b) : Im2Col(x.col(b).data(), 0);
      Gemm(false, true, oc_, ckk_, ohw_, 1.0f, dyb, ohw_, col, ohw_, first, dwt_, ckk_);
      internal::RowSums(dyb, oc_, ohw_, db_, /*accumulate=*/b > 0);
      if (dx == nullptr) continue;
      if (IsIdentityIm2Col()) {  // col is x itself: write dx directly
        Gemm(true, false, ckk_, ohw_, oc_, 1.0f, wt_, ckk_, dyb, ohw_, 0.0f, dx->col(b).data(),
             ohw_);
        continue;
      }
      dcol_.resize(static_cast<size_t>(ckk_ * ohw_));
      Gemm(true, false, ckk_, ohw_, oc_, 1.0f, wt_, ckk_, dyb, ohw_, 0.0f, dcol_.data(), ohw_);
      Col2Im(dcol_.data(), dx->col(b).data());
    }
  }

 private:
  bool IsIdentityIm2Col() const { return k_ == 1 && s_ == 1 && p_ == 0; }

  internal::ConvGeometry Geometry() const { return {c_, h_, w_, k_, s_, p_, oh_, ow_}; }

  // Example b's col kept in cols_ (or the example itself for a 1x1 kernel).
  const float* ColOf(const Matrix& x, Eigen::Index b) const {
    return IsIdentityIm2Col() ? x.col(b).data() : cols_.data() + b * ckk_ * ohw_;
  }

  // Fills slot `slot` of cols_ from one example (or returns the example itself for a 1x1
  // kernel). REQUIRES: cols_ has room for the slot.
  const float* Im2Col(const float* x, Eigen::Index slot) {
    if (IsIdentityIm2Col()) return x;
    float* col = cols_.data() + slot * ckk_ * ohw_;
    internal::Im2Col(Geometry(), x, col);
    return col;
  }

  void Col2Im(const float* dcol, float* dx) const { internal::Col2Im(Geometry(), dcol, dx); }

  int64_t c_, h_, w_, oc_, k_, s_, p_, oh_, ow_, ckk_, ohw_;
  float *wt_ = nullptr, *b_ = nullptr, *dwt_ = nullptr, *db_ = nullptr;
  std::vector<float> cols_;        // the batch's im2col matrices, kept for the backward pass
  Eigen::Index cached_batch_ = 0;  // batch whose cols_ a training Forward kept (0: none)
  std::vector<float> dcol_;        // one example's im2col gradient
};

}  // namespace

StatusOr<std::unique_ptr<Layer>> NewConv2D(const Shape& input, const Conv2DOptions& o) {
  if (input.size() != 3 || NumElements(input) <= 0) {
    return internal::ShapeError("conv2d", input, "expected {channels, height, width}");
  }
  if (o.out_channels <= 0 || o.kernel <= 0 || o.stride <= 0 || o.padding < 0) {
    return InvalidArgumentError("conv2d needs out_channels, kernel, stride > 0 and padding >= 0");
  }
  if (input[1] + 2 * o.padding < o.kernel || input[2] + 2 * o.padding < o.kernel) {
    return internal::ShapeError("conv2d", input, "the kernel is larger than the padded image");
  }
  return std::unique_ptr<Layer>(std::make_unique<Conv2D>(input, o));
}

}  // namespace fedra
