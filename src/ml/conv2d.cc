// 2-D convolution by im2col + one GEMM per batch.
//
// For a batch of B examples, im2col builds colT with one row per (example, output pixel)
// (row b * OHW + p) and one column per (channel, kernel row, kernel col). The weight buffer
// {OC, C, KH, KW} in row-major order is, read column-major, exactly the (CKK x OC) matrix Wt,
// so the whole forward pass is O = colT * Wt followed by a transpose-copy into the per-example
// (OC, OH, OW) columns.
#include "fedra/ml/layer.h"
#include "layer_util.h"

namespace fedra {
namespace {

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

  void Forward(const Matrix& x, Matrix* y, bool) override {
    const Eigen::Index batch = x.cols();
    Im2Col(x);
    out_.noalias() = col_t_ * MatrixMap(wt_, ckk_, oc_);
    y->resize(oc_ * ohw_, batch);
    for (Eigen::Index b = 0; b < batch; ++b) {
      for (Eigen::Index o = 0; o < oc_; ++o) {
        y->col(b).segment(o * ohw_, ohw_) = out_.col(o).segment(b * ohw_, ohw_).array() + b_[o];
      }
    }
  }

  void Backward(const Matrix&, const Matrix&, const Matrix& dy, Matrix* dx) override {
    const Eigen::Index batch = dy.cols();
    out_.resize(batch * ohw_, oc_);  // reused as dO
    for (Eigen::Index b = 0; b < batch; ++b) {
      for (Eigen::Index o = 0; o < oc_; ++o) {
        out_.col(o).segment(b * ohw_, ohw_) = dy.col(b).segment(o * ohw_, ohw_);
      }
    }
    MatrixMap(dwt_, ckk_, oc_).noalias() = col_t_.transpose() * out_;
    VectorMap(db_, oc_) = out_.colwise().sum().transpose();
    if (dx == nullptr) return;
    dcol_t_.noalias() = out_ * MatrixMap(wt_, ckk_, oc_).transpose();
    Col2Im(batch, dx);
  }

 private:
  // Calls f(column of colT, b, p, input offset within the example) for every in-bounds tap.
  template <typename F>
  void ForEachTap(Eigen::Index batch, F&& f) const {
    // Example-major so that consecutive taps touch consecutive rows of colT and of x.
    for (Eigen::Index b = 0; b < batch; ++b) {
      for (int64_t c = 0; c < c_; ++c) {
        for (int64_t ki = 0; ki < k_; ++ki) {
          for (int64_t kj = 0; kj < k_; ++kj) {
            const Eigen::Index col = (c * k_ + ki) * k_ + kj;
            for (int64_t oi = 0; oi < oh_; ++oi) {
              const int64_t ii = oi * s_ - p_ + ki;
              if (ii < 0 || ii >= h_) continue;
              for (int64_t oj = 0; oj < ow_; ++oj) {
                const int64_t ij = oj * s_ - p_ + kj;
                if (ij < 0 || ij >= w_) continue;
                f(col, b * ohw_ + oi * ow_ + oj, b, (c * h_ + ii) * w_ + ij);
              }
            }
          }
        }
      }
    }
  }

  void Im2Col(const Matrix& x) {
    col_t_.setZero(x.cols() * ohw_, ckk_);  // zeros stand for the padding
    ForEachTap(x.cols(), [&](Eigen::Index col, Eigen::Index row, Eigen::Index b, Eigen::Index src) {
      col_t_(row, col) = x(src, b);
    });
  }

  void Col2Im(Eigen::Index batch, Matrix* dx) const {
    dx->setZero(c_ * h_ * w_, batch);
    ForEachTap(batch, [&](Eigen::Index col, Eigen::Index row, Eigen::Index b, Eigen::Index src) {
      (*dx)(src, b) += dcol_t_(row, col);
    });
  }

  int64_t c_, h_, w_, oc_, k_, s_, p_, oh_, ow_, ckk_, ohw_;
  float *wt_ = nullptr, *b_ = nullptr, *dwt_ = nullptr, *db_ = nullptr;
  Matrix col_t_, out_, dcol_t_;
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
