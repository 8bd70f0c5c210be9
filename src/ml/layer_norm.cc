// LayerNorm over the last dimension (as torch.nn.LayerNorm(D)): each D-vector of every
// example is normalised to zero mean and unit (biased) variance, then scaled and shifted by
// "weight" and "bias" of shape {D}. Backward recomputes the statistics from x, so it does not
// depend on what the last Forward cached (evaluation forwards included).
#include <algorithm>
#include <cmath>

#include "fedra/ml/layer.h"
#include "layer_util.h"

namespace fedra {
namespace {

class LayerNorm final : public Layer {
 public:
  LayerNorm(Shape input, double eps) : shape_(std::move(input)), eps_(eps) {}
  std::string Name() const override { return "layer_norm"; }
  Shape InputShape() const override { return shape_; }
  Shape OutputShape() const override { return shape_; }
  std::unique_ptr<Layer> Clone() const override { return std::make_unique<LayerNorm>(*this); }
  std::vector<ParamSpec> ParameterSpecs() const override {
    return {{"weight", {dim()}}, {"bias", {dim()}}};
  }
  void Bind(std::span<float* const> w, std::span<float* const> g) override {
    w_ = w[0], b_ = w[1], gw_ = g[0], gb_ = g[1];
  }
  void Initialize(Rng&) override {
    std::fill(w_, w_ + dim(), 1.0f);
    std::fill(b_, b_ + dim(), 0.0f);
  }

  void Forward(const Matrix& x, Matrix* y, bool) override {
    y->resize(x.rows(), x.cols());
    const int64_t d = dim();
    for (Eigen::Index c = 0; c < x.cols(); ++c) {
      for (Eigen::Index r = 0; r < x.rows(); r += d) {
        const float* in = &x(r, c);
        float* out = &(*y)(r, c);
        const auto [mean, rstd] = Stats(in);
        for (int64_t k = 0; k < d; ++k)
          out[k] = static_cast<float>((in[k] - mean) * rstd) * w_[k] + b_[k];
      }
    }
  }

  void Backward(const Matrix& x, const Matrix&, const Matrix& dy, Matrix* dx) override {
    const int64_t d = dim();
    std::fill(gw_, gw_ + d, 0.0f);
    std::fill(gb_, gb_ + d, 0.0f);
    if (dx != nullptr) dx->resize(x.rows(), x.cols());
    for (Eigen::Index c = 0; c < x.cols(); ++c) {
      for (Eigen::Index r = 0; r < x.rows(); r += d) {
        const float* in = &x(r, c);
        const float* g = &dy(r, c);
        const auto [mean, rstd] = Stats(in);
        // dx = rstd (g w - mean(g w) - xhat mean(g w xhat)).
        double sum_gw = 0, sum_gwx = 0;
        for (int64_t k = 0; k < d; ++k) {
          const double xhat = (in[k] - mean) * rstd;
          gw_[k] += static_cast<float>(g[k] * xhat);
          gb_[k] += g[k];
          sum_gw += g[k] * w_[k];
          sum_gwx += g[k] * w_[k] * xhat;
        }
        if (dx == nullptr) continue;
        float* out = &(*dx)(r, c);
        for (int64_t k = 0; k < d; ++k) {
          const double xhat = (in[k] - mean) * rstd;
          out[k] = static_cast<float>(rstd * (g[k] * w_[k] - sum_gw / d - xhat * sum_gwx / d));
        }
      }
    }
  }

 private:
  int64_t dim() const { return shape_.back(); }
  std::pair<double, double> Stats(const float* in) const {
    const int64_t d = dim();
    double mean = 0;
    for (int64_t k = 0; k < d; ++k) mean += in[k];
    mean /= d;
    double var = 0;
    for (int64_t k = 0; k < d; ++k) var += (in[k] - mean) * (in[k] - mean);
    return {mean, 1.0 / std::sqrt(var / d + eps_)};
  }

  Shape shape_;
  double eps_;
  float *w_ = nullptr, *b_ = nullptr, *gw_ = nullptr, *gb_ = nullptr;
};

}  // namespace

StatusOr<std::unique_ptr<Layer>> NewLayerNorm(const Shape& input, double eps) {
  if (input.empty() || input.back() < 1)
    return internal::ShapeError("layer_norm", input,
                                "expected a shape whose last dimension is >= 1");
  if (!(eps > 0) || !std::isfinite(eps))
    return InvalidArgumentError("layer_norm: eps must be finite and > 0");
  return std::unique_ptr<Layer>(std::make_unique<LayerNorm>(input, eps));
}

}  // namespace fedra
