// Multi-head self-attention over a sequence {T, D} (torch.nn.MultiheadAttention with
// batch_first inputs and query = key = value): one packed input projection
// in_proj_weight {3D, D} / in_proj_bias {3D} (query, key, value rows in that order), H heads
// of D / H, softmax(Q K^T / sqrt(D / H)) V, and out_proj.weight {D, D} / out_proj.bias {D}.
// Backward recomputes the projections and attention weights from x (no cache to go stale).
#include "self_attention.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "layer_util.h"

namespace fedra {
namespace internal {

std::vector<ParamSpec> SelfAttention::ParameterSpecs() const {
  return {{"in_proj_weight", {3 * d_, d_}},
          {"in_proj_bias", {3 * d_}},
          {"out_proj.weight", {d_, d_}},
          {"out_proj.bias", {d_}}};
}

void SelfAttention::Bind(std::span<float* const> w, std::span<float* const> g) {
  w_in_ = w[0], b_in_ = w[1], w_out_ = w[2], b_out_ = w[3];
  g_w_in_ = g[0], g_b_in_ = g[1], g_w_out_ = g[2], g_b_out_ = g[3];
}

// PyTorch's: Xavier-uniform input projection, Linear's default output projection, zero biases.
void SelfAttention::Initialize(Rng& rng) {
  const double in_bound = std::sqrt(6.0 / static_cast<double>(3 * d_ + d_));
  for (int64_t i = 0; i < 3 * d_ * d_; ++i)
    w_in_[i] = static_cast<float>((2 * rng.Uniform() - 1) * in_bound);
  FillUniformFanIn({w_out_, static_cast<size_t>(d_ * d_)}, d_, rng);
  std::fill(b_in_, b_in_ + 3 * d_, 0.0f);
  std::fill(b_out_, b_out_ + d_, 0.0f);
}

void SelfAttention::Attend(const float* x, Eigen::Index c, Work& w) const {
  const ConstRowMap xc(x, t_, d_);
  const ConstRowMap w_in(w_in_, 3 * d_, d_);
  w.qkv = (xc * w_in.transpose()).rowwise() + Eigen::Map<const Eigen::RowVectorXf>(b_in_, 3 * d_);
  const int64_t dh = d_ / h_;
  const float scale = 1.0f / std::sqrt(static_cast<float>(dh));
  w.p.resize(static_cast<size_t>(h_));
  for (int64_t h = 0; h < h_; ++h) {
    RowMat s =
        (w.qkv.middleCols(h * dh, dh) * w.qkv.middleCols(d_ + h * dh, dh).transpose()) * scale;
    if (mask_ != nullptr) {
      for (int64_t j = 0; j < t_; ++j)
        if ((*mask_)(j, c) == 0) s.col(j).setConstant(-std::numeric_limits<float>::infinity());
    }
    for (int64_t i = 0; i < t_; ++i) {
      const float top = s.row(i).maxCoeff();
      if (top == -std::numeric_limits<float>::infinity()) {  // no key to attend to
        s.row(i).setZero();
        continue;
      }
      s.row(i) = (s.row(i).array() - top).exp().matrix();
      s.row(i) /= s.row(i).sum();
    }
    w.o.middleCols(h * dh, dh) = s * w.qkv.middleCols(2 * d_ + h * dh, dh);
    w.p[static_cast<size_t>(h)] = std::move(s);
  }
}

void SelfAttention::Forward(const Matrix& x, Matrix* y, bool) {
  y->resize(t_ * d_, x.cols());
  Work w(t_, d_);
  const ConstRowMap w_out(w_out_, d_, d_);
  const Eigen::Map<const Eigen::RowVectorXf> b_out(b_out_, d_);
  for (Eigen::Index c = 0; c < x.cols(); ++c) {
    Attend(&x(0, c), c, w);
    RowMap(&(*y)(0, c), t_, d_) = (w.o * w_out.transpose()).rowwise() + b_out;
  }
}

void SelfAttention::Backward(const Matrix& x, const Matrix&, const Matrix& dy, Matrix* dx) {
  RowMap gw_in(g_w_in_, 3 * d_, d_), gw_out(g_w_out_, d_, d_);
  Eigen::Map<Eigen::RowVectorXf> gb_in(g_b_in_, 3 * d_), gb_out(g_b_out_, d_);
  gw_in.setZero();
  gw_out.setZero();
  gb_in.setZero();
  gb_out.setZero();
  if (dx != nullptr) dx->resize(x.rows(), x.cols());
  const ConstRowMap w_in(w_in_, 3 * d_, d_), w_out(w_out_, d_, d_);
  Work w(t_, d_);
  const int64_t dh = d_ / h_;
  const float scale = 1.0f / std::sqrt(static_cast<float>(dh));
  RowMat dqkv(t_, 3 * d_);
  for (Eigen::Index c = 0; c < x.cols(); ++c) {
    Attend(&x(0, c), c, w);
    const ConstRowMap xc(&x(0, c), t_, d_);
    const ConstRowMap g(&dy(0, c), t_, d_);
    gw_out.noalias() += g.transpose() * w.o;
    gb_out += g.colwise().sum();
    const RowMat d_o = g * w_out;
    for (int64_t h = 0; h < h_; ++h) {
      const auto q = w.qkv.middleCols(h * dh, dh);
      const auto k = w.qkv.middleCols(d_ + h * dh, dh);
      const auto v = w.qkv.middleCols(2 * d_ + h * dh, dh);
      const RowMat& p = w.p[static_cast<size_t>(h)];
      const auto d_oh = d_o.middleCols(h * dh, dh);
      const RowMat d_p = d_oh * v.transpose();
      // Softmax backward, row by row: dS = P (dP - sum_j dP_j P_j); masked keys have P = 0.
      const Eigen::VectorXf dots = (d_p.array() * p.array()).rowwise().sum();
      const RowMat d_s = (p.array() * (d_p.colwise() - dots).array()).matrix() * scale;
      dqkv.middleCols(h * dh, dh) = d_s * k;
      dqkv.middleCols(d_ + h * dh, dh) = d_s.transpose() * q;
      dqkv.middleCols(2 * d_ + h * dh, dh) = p.transpose() * d_oh;
    }
    gw_in.noalias() += dqkv.transpose() * xc;
    gb_in += dqkv.colwise().sum();
    if (dx != nullptr) RowMap(&(*dx)(0, c), t_, d_) = dqkv * w_in;
  }
}

}  // namespace internal

StatusOr<std::unique_ptr<Layer>> NewSelfAttention(const Shape& input, int64_t heads) {
  if (input.size() != 2 || input[0] < 1 || input[1] < 1)
    return internal::ShapeError("self_attention", input, "expected {sequence length, dim}");
  if (heads < 1 || input[1] % heads != 0)
    return InvalidArgumentError("self_attention: " + std::to_string(heads) +
                                " heads do not divide the dimension " + std::to_string(input[1]));
  return std::unique_ptr<Layer>(
      std::make_unique<internal::SelfAttention>(input[0], input[1], heads));
}

}  // namespace fedra
