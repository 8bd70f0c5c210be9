// Multi-head self-attention over a sequence {T, D} (torch.nn.MultiheadAttention with
// batch_first inputs and query = key = value): one packed input projection
// in_proj_weight {3D, D} / in_proj_bias {3D} (query, key, value rows in that order), H heads
// of D / H, softmax(Q K^T / sqrt(D / H)) V, and out_proj.weight {D, D} / out_proj.bias {D}.
// Backward recomputes the projections and attention weights from x (no cache to go stale).
#include <algorithm>
#include <cmath>
#include <vector>

#include "fedra/ml/layer.h"
#include "layer_util.h"

namespace fedra {
namespace {

using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using RowMap = Eigen::Map<RowMat>;
using ConstRowMap = Eigen::Map<const RowMat>;

class SelfAttention final : public Layer {
 public:
  SelfAttention(int64_t length, int64_t dim, int64_t heads) : t_(length), d_(dim), h_(heads) {}
  std::string Name() const override { return "self_attention"; }
  Shape InputShape() const override { return {t_, d_}; }
  Shape OutputShape() const override { return {t_, d_}; }
  std::unique_ptr<Layer> Clone() const override { return std::make_unique<SelfAttention>(*this); }
  std::vector<ParamSpec> ParameterSpecs() const override {
    return {{"in_proj_weight", {3 * d_, d_}},
            {"in_proj_bias", {3 * d_}},
            {"out_proj.weight", {d_, d_}},
            {"out_proj.bias", {d_}}};
  }
  void Bind(std::span<float* const> w, std::span<float* const> g) override {
    w_in_ = w[0], b_in_ = w[1], w_out_ = w[2], b_out_ = w[3];
    g_w_in_ = g[0], g_b_in_ = g[1], g_w_out_ = g[2], g_b_out_ = g[3];
  }
  // PyTorch's: Xavier-uniform input projection, Linear's default output projection, zero
  // biases.
  void Initialize(Rng& rng) override {
    const double in_bound = std::sqrt(6.0 / static_cast<double>(3 * d_ + d_));
    for (int64_t i = 0; i < 3 * d_ * d_; ++i)
      w_in_[i] = static_cast<float>((2 * rng.Uniform() - 1) * in_bound);
    internal::FillUniformFanIn({w_out_, static_cast<size_t>(d_ * d_)}, d_, rng);
    std::fill(b_in_, b_in_ + 3 * d_, 0.0f);
    std::fill(b_out_, b_out_ + d_, 0.0f);
  }

  void Forward(const Matrix& x, Matrix* y, bool) override {
    y->resize(t_ * d_, x.cols());
    Work w(t_, d_);
    for (Eigen::Index c = 0; c < x.cols(); ++c) {
      Attend(&x(0, c), w);
      RowMap(&(*y)(0, c), t_, d_) = (w.o * OutW().transpose()).rowwise() + OutB();
    }
  }

  void Backward(const Matrix& x, const Matrix&, const Matrix& dy, Matrix* dx) override {
    RowMap gw_in(g_w_in_, 3 * d_, d_), gw_out(g_w_out_, d_, d_);
    Eigen::Map<Eigen::RowVectorXf> gb_in(g_b_in_, 3 * d_), gb_out(g_b_out_, d_);
    gw_in.setZero();
    gw_out.setZero();
    gb_in.setZero();
    gb_out.setZero();
    if (dx != nullptr) dx->resize(x.rows(), x.cols());
    Work w(t_, d_);
    const int64_t dh = d_ / h_;
    const float scale = 1.0f / std::sqrt(static_cast<float>(dh));
    RowMat dqkv(t_, 3 * d_);
    for (Eigen::Index c = 0; c < x.cols(); ++c) {
      Attend(&x(0, c), w);
      const ConstRowMap xc(&x(0, c), t_, d_);
      const ConstRowMap g(&dy(0, c), t_, d_);
      gw_out.noalias() += g.transpose() * w.o;
      gb_out += g.colwise().sum();
      const RowMat d_o = g * OutW();
      for (int64_t h = 0; h < h_; ++h) {
        const auto q = w.qkv.middleCols(h * dh, dh);
        const auto k = w.qkv.middleCols(d_ + h * dh, dh);
        const auto v = w.qkv.middleCols(2 * d_ + h * dh, dh);
        const RowMat& p = w.p[h];
        const auto d_oh = d_o.middleCols(h * dh, dh);
        const RowMat d_p = d_oh * v.transpose();
        // Softmax backward, row by row: dS = P (dP - sum_j dP_j P_j).
        const Eigen::VectorXf dots = (d_p.array() * p.array()).rowwise().sum();
        const RowMat d_s = (p.array() * (d_p.colwise() - dots).array()).matrix() * scale;
        dqkv.middleCols(h * dh, dh) = d_s * k;
        dqkv.middleCols(d_ + h * dh, dh) = d_s.transpose() * q;
        dqkv.middleCols(2 * d_ + h * dh, dh) = p.transpose() * d_oh;
      }
      gw_in.noalias() += dqkv.transpose() * xc;
      gb_in += dqkv.colwise().sum();
      if (dx != nullptr) RowMap(&(*dx)(0, c), t_, d_) = dqkv * InW();
    }
  }

 private:
  struct Work {
    Work(int64_t t, int64_t d) : qkv(t, 3 * d), o(t, d) {}
    RowMat qkv, o;
    std::vector<RowMat> p;  // attention weights per head, T x T
  };

  ConstRowMap InW() const { return ConstRowMap(w_in_, 3 * d_, d_); }
  ConstRowMap OutW() const { return ConstRowMap(w_out_, d_, d_); }
  Eigen::Map<const Eigen::RowVectorXf> InB() const {
    return Eigen::Map<const Eigen::RowVectorXf>(b_in_, 3 * d_);
  }
  Eigen::Map<const Eigen::RowVectorXf> OutB() const {
    return Eigen::Map<const Eigen::RowVectorXf>(b_out_, d_);
  }

  // Projections, attention weights and the heads' concatenated output for one example.
  void Attend(const float* x, Work& w) const {
    const ConstRowMap xc(x, t_, d_);
    w.qkv = (xc * InW().transpose()).rowwise() + InB();
    const int64_t dh = d_ / h_;
    const float scale = 1.0f / std::sqrt(static_cast<float>(dh));
    w.p.resize(static_cast<size_t>(h_));
    for (int64_t h = 0; h < h_; ++h) {
      RowMat s =
          (w.qkv.middleCols(h * dh, dh) * w.qkv.middleCols(d_ + h * dh, dh).transpose()) * scale;
      const Eigen::VectorXf row_max = s.rowwise().maxCoeff();
      s = (s.colwise() - row_max).array().exp();
      const Eigen::VectorXf sums = s.rowwise().sum();
      s.array().colwise() /= sums.array();
      w.o.middleCols(h * dh, dh) = s * w.qkv.middleCols(2 * d_ + h * dh, dh);
      w.p[static_cast<size_t>(h)] = std::move(s);
    }
  }

  int64_t t_, d_, h_;
  float *w_in_ = nullptr, *b_in_ = nullptr, *w_out_ = nullptr, *b_out_ = nullptr;
  float *g_w_in_ = nullptr, *g_b_in_ = nullptr, *g_w_out_ = nullptr, *g_b_out_ = nullptr;
};

}  // namespace

StatusOr<std::unique_ptr<Layer>> NewSelfAttention(const Shape& input, int64_t heads) {
  if (input.size() != 2 || input[0] < 1 || input[1] < 1)
    return internal::ShapeError("self_attention", input, "expected {sequence length, dim}");
  if (heads < 1 || input[1] % heads != 0)
    return InvalidArgumentError("self_attention: " + std::to_string(heads) +
                                " heads do not divide the dimension " + std::to_string(input[1]));
  return std::unique_ptr<Layer>(std::make_unique<SelfAttention>(input[0], input[1], heads));
}

}  // namespace fedra
