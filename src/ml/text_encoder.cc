// The text encoder: token ids {T} -> one vector {D} per example. Embeddings, then `layers`
// pre-LN blocks as torch.nn.TransformerEncoderLayer(norm_first=True, activation="gelu",
// dropout=0) computes them, a final LayerNorm, and the mean over the real tokens. Position-
// wise sublayers run on the batch reshaped to one column per position (D x T*B); attention
// on one column per example (T*D x B) with the padding keys masked.
#include <algorithm>
#include <cmath>

#include "fedra/ml/layer.h"
#include "layer_util.h"
#include "self_attention.h"

namespace fedra {
namespace {

using internal::KeyMask;

// The same values seen as `rows` x (size / rows): positions <-> examples.
Matrix Reshaped(const Matrix& m, Eigen::Index rows) {
  return Eigen::Map<const Matrix>(m.data(), rows, m.size() / rows);
}

class TextEncoder final : public Layer {
 public:
  TextEncoder(int64_t length, const TextEncoderOptions& o) : t_(length), o_(o) {
    embed_ = *NewEmbedding({t_}, o.vocab, o.dim);
    for (int64_t i = 0; i < o.layers; ++i) {
      Block b;
      b.norm1 = *NewLayerNorm({o.dim}, o.eps);
      b.attn = std::make_unique<internal::SelfAttention>(t_, o.dim, o.heads);
      b.norm2 = *NewLayerNorm({o.dim}, o.eps);
      b.linear1 = *NewDense({o.dim}, o.ff_dim);
      b.gelu = *NewGelu({o.ff_dim});
      b.linear2 = *NewDense({o.ff_dim}, o.dim);
      blocks_.push_back(std::move(b));
    }
    norm_ = *NewLayerNorm({o.dim}, o.eps);
  }
  std::string Name() const override { return "text_encoder"; }
  Shape InputShape() const override { return {t_}; }
  Shape OutputShape() const override { return {o_.dim}; }
  std::unique_ptr<Layer> Clone() const override { return std::make_unique<TextEncoder>(t_, o_); }

  std::vector<ParamSpec> ParameterSpecs() const override {
    std::vector<ParamSpec> out;
    ForEachPart([&](const std::string& prefix, Layer& l) {
      for (ParamSpec s : l.ParameterSpecs()) out.push_back({prefix + s.name, s.shape});
    });
    return out;
  }
  void Bind(std::span<float* const> w, std::span<float* const> g) override {
    size_t at = 0;
    ForEachPart([&](const std::string&, Layer& l) {
      const size_t n = l.ParameterSpecs().size();
      l.Bind(w.subspan(at, n), g.subspan(at, n));
      at += n;
    });
  }
  void Initialize(Rng& rng) override {
    ForEachPart([&](const std::string&, Layer& l) { l.Initialize(rng); });
  }

  void Forward(const Matrix& x, Matrix* y, bool) override {
    ids_ = x;
    mask_ = KeyMask(t_, x.cols());
    count_ = Eigen::VectorXf(x.cols());
    for (Eigen::Index c = 0; c < x.cols(); ++c) {
      int real = 0;
      for (int64_t t = 0; t < t_; ++t) {
        mask_(t, c) = std::nearbyint(x(t, c)) != 0.0f ? 1 : 0;  // [PAD] = 0
        real += mask_(t, c);
      }
      count_(c) = static_cast<float>(std::max(real, 1));
    }
    const Eigen::Index d = o_.dim;
    Matrix h;
    embed_->Forward(x, &h, false);
    for (Block& b : blocks_) {
      b.a = Reshaped(h, d);
      b.norm1->Forward(b.a, &b.n1, false);
      b.n1 = Reshaped(b.n1, t_ * d);
      b.attn->set_key_mask(&mask_);
      Matrix att;
      b.attn->Forward(b.n1, &att, false);
      const Matrix h2 = h + att;
      b.b = Reshaped(h2, d);
      b.norm2->Forward(b.b, &b.n2, false);
      b.linear1->Forward(b.n2, &b.f1, false);
      b.gelu->Forward(b.f1, &b.g, false);
      Matrix f2;
      b.linear2->Forward(b.g, &f2, false);
      h = h2 + Reshaped(f2, t_ * d);
    }
    final_in_ = Reshaped(h, d);
    Matrix n;
    norm_->Forward(final_in_, &n, false);
    const Matrix out = Reshaped(n, t_ * d);
    y->setZero(d, x.cols());
    for (Eigen::Index c = 0; c < x.cols(); ++c)
      for (int64_t t = 0; t < t_; ++t)
        if (mask_(t, c)) y->col(c) += out.block(t * d, c, d, 1);
    for (Eigen::Index c = 0; c < x.cols(); ++c) y->col(c) /= count_(c);
  }

  // Ids are not differentiable: dx (when asked for) is zero.
  void Backward(const Matrix& x, const Matrix&, const Matrix& dy, Matrix* dx) override {
    if (ids_.rows() != x.rows() || ids_.cols() != x.cols() || ids_ != x) {
      Matrix unused;
      Forward(x, &unused, true);  // the cache is of another batch
    }
    const Eigen::Index d = o_.dim;
    Matrix dn = Matrix::Zero(t_ * d, x.cols());
    for (Eigen::Index c = 0; c < x.cols(); ++c)
      for (int64_t t = 0; t < t_; ++t)
        if (mask_(t, c)) dn.block(t * d, c, d, 1) = dy.col(c) / count_(c);
    Matrix dfinal;
    norm_->Backward(final_in_, Matrix(), Reshaped(dn, d), &dfinal);
    Matrix dh = Reshaped(dfinal, t_ * d);
    for (auto it = blocks_.rbegin(); it != blocks_.rend(); ++it) {
      Block& b = *it;
      // h = h2 + ff(h2): the residual passes dh through; the feed-forward adds its part.
      Matrix dg, df1, dn2, db;
      b.linear2->Backward(b.g, Matrix(), Reshaped(dh, d), &dg);
      b.gelu->Backward(b.f1, Matrix(), dg, &df1);
      b.linear1->Backward(b.n2, Matrix(), df1, &dn2);
      b.norm2->Backward(b.b, Matrix(), dn2, &db);
      Matrix dh2 = dh + Reshaped(db, t_ * d);
      // h2 = in + attn(norm1(in)).
      Matrix dn1, da;
      b.attn->set_key_mask(&mask_);
      b.attn->Backward(b.n1, Matrix(), dh2, &dn1);
      b.norm1->Backward(b.a, Matrix(), Reshaped(dn1, d), &da);
      dh = dh2 + Reshaped(da, t_ * d);
    }
    embed_->Backward(x, Matrix(), dh, nullptr);
    if (dx != nullptr) dx->setZero(x.rows(), x.cols());
  }

 private:
  struct Block {
    std::unique_ptr<Layer> norm1, norm2, linear1, gelu, linear2;
    std::unique_ptr<internal::SelfAttention> attn;
    Matrix a, n1, b, n2, f1, g;  // what Backward needs, from the last Forward
  };

  // Every part in parameter order, with the PyTorch-style name prefix of its parameters.
  template <typename F>
  void ForEachPart(F&& f) const {
    f("embeddings.", *embed_);
    for (size_t i = 0; i < blocks_.size(); ++i) {
      const std::string p = "layers." + std::to_string(i) + ".";
      const Block& b = blocks_[i];
      f(p + "self_attn.", *b.attn);
      f(p + "linear1.", *b.linear1);
      f(p + "linear2.", *b.linear2);
      f(p + "norm1.", *b.norm1);
      f(p + "norm2.", *b.norm2);
      f(p + "gelu.", *b.gelu);
    }
    f("norm.", *norm_);
  }

  int64_t t_;
  TextEncoderOptions o_;
  std::unique_ptr<Layer> embed_, norm_;
  std::vector<Block> blocks_;
  Matrix ids_, final_in_;
  KeyMask mask_;
  Eigen::VectorXf count_;
};

}  // namespace

StatusOr<std::unique_ptr<Layer>> NewTextEncoder(const Shape& input, const TextEncoderOptions& o) {
  if (input.size() != 1 || input[0] < 1)
    return internal::ShapeError("text_encoder", input, "expected {sequence length}");
  if (o.vocab < 2 || o.dim < 1 || o.heads < 1 || o.dim % o.heads != 0 || o.layers < 0 ||
      o.ff_dim < 1 || !(o.eps > 0))
    return InvalidArgumentError(
        "text_encoder: need vocab >= 2, dim >= 1 divisible by heads >= 1, layers >= 0, "
        "ff_dim >= 1 and eps > 0");
  return std::unique_ptr<Layer>(std::make_unique<TextEncoder>(input[0], o));
}

}  // namespace fedra
