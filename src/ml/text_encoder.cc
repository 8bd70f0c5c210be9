// The text encoder: token ids {T} -> one vector {D} per example (or {T, D} unpooled). Embeddings,
// then `layers` pre-LN blocks as torch.nn.TransformerEncoderLayer(norm_first=True,
// activation="gelu", dropout=0) computes them, a final LayerNorm, and the mean over the real
// tokens. Position-wise sublayers run on the batch reshaped to one column per position (D x T*B);
// attention on one column per example (T*D x B) with the padding keys masked. A LoRA adapter is
// folded into its projection before every forward (the sublayer computes with the merged weight and
// the gradient of that weight yields the adapters'), so the sublayers stay unaware of it.
#include <algorithm>
#include <cmath>

#include "fedra/ml/layer.h"
#include "layer_util.h"
#include "self_attention.h"

namespace fedra {
namespace {

using internal::ConstRowMap;
using internal::KeyMask;
using internal::RowMap;

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
    if (o.lora_rank > 0) {
      for (Block& b : blocks_) {
        b.lora.push_back(Lora{"in_proj", 0, 3 * o.dim, o.dim, o.lora_rank});
        b.lora.push_back(Lora{"out_proj", 2, o.dim, o.dim, o.lora_rank});
        if (o.lora_feed_forward) {
          b.lora_ff1.push_back(Lora{"", 0, o.ff_dim, o.dim, o.lora_rank});
          b.lora_ff2.push_back(Lora{"", 0, o.dim, o.ff_dim, o.lora_rank});
        }
      }
    }
    if (o.lora_embedding_rank > 0)
      embed_lora_.push_back(Lora{"word_embeddings", 0, o.vocab, o.dim, o.lora_embedding_rank});
  }
  std::string Name() const override { return "text_encoder"; }
  Shape InputShape() const override { return {t_}; }
  Shape OutputShape() const override {
    if (o_.pooling == TextEncoderOptions::Pooling::kNone) return {t_, o_.dim};
    return {o_.dim};
  }
  std::unique_ptr<Layer> Clone() const override { return std::make_unique<TextEncoder>(t_, o_); }

  std::vector<ParamSpec> ParameterSpecs() const override {
    std::vector<ParamSpec> out;
    ForEachPart([&](const std::string& prefix, Layer& l, const std::vector<Lora>& lora) {
      for (ParamSpec s : l.ParameterSpecs()) out.push_back({prefix + s.name, s.shape});
      for (const Lora& a : lora) {
        const std::string p = prefix + (a.name.empty() ? "" : a.name + ".");
        out.push_back({p + "lora_A", {a.rank, a.in}});
        out.push_back({p + "lora_B", {a.out, a.rank}});
      }
    });
    return out;
  }
  // An adapted projection's sublayer is bound to the merged weight and its gradient, which
  // this layer owns; the real weight and the adapters are bound here.
  void Bind(std::span<float* const> w, std::span<float* const> g) override {
    size_t at = 0;
    ForEachPart([&](const std::string&, Layer& l, std::vector<Lora>& lora) {
      const size_t n = l.ParameterSpecs().size();
      std::vector<float*> lw(w.begin() + at, w.begin() + at + n);
      std::vector<float*> lg(g.begin() + at, g.begin() + at + n);
      at += n;
      for (Lora& a : lora) {
        a.w = lw[a.slot], a.gw = lg[a.slot];
        a.merged.resize(a.out * a.in), a.g_merged.resize(a.out * a.in);
        lw[a.slot] = a.merged.data(), lg[a.slot] = a.g_merged.data();
        a.a = w[at], a.ga = g[at], a.b = w[at + 1], a.gb = g[at + 1];
        at += 2;
      }
      l.Bind(lw, lg);
    });
  }
  void Initialize(Rng& rng) override {
    ForEachPart([&](const std::string&, Layer& l, std::vector<Lora>& lora) {
      l.Initialize(rng);  // into the merged buffers of adapted projections
      for (Lora& a : lora) {
        std::copy(a.merged.begin(), a.merged.end(), a.w);
        const double bound = 1.0 / std::sqrt(static_cast<double>(a.in));
        for (int64_t i = 0; i < a.rank * a.in; ++i)
          a.a[i] = static_cast<float>(bound * (2 * rng.Uniform() - 1));
        std::fill(a.b, a.b + a.out * a.rank, 0.0f);
      }
    });
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
    ForEachPart([&](const std::string&, Layer&, std::vector<Lora>& lora) {
      for (Lora& a : lora) a.Merge(o_);
    });
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
    if (o_.pooling == TextEncoderOptions::Pooling::kNone) {
      *y = Reshaped(n, t_ * d);
      return;
    }
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
    Matrix dn;
    if (o_.pooling == TextEncoderOptions::Pooling::kNone) {
      dn = dy;
    } else {
      dn.setZero(t_ * d, x.cols());
      for (Eigen::Index c = 0; c < x.cols(); ++c)
        for (int64_t t = 0; t < t_; ++t)
          if (mask_(t, c)) dn.block(t * d, c, d, 1) = dy.col(c) / count_(c);
    }
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
    ForEachPart([&](const std::string&, Layer&, std::vector<Lora>& lora) {
      for (Lora& a : lora) a.SplitGradient(o_);
    });
    if (dx != nullptr) dx->setZero(x.rows(), x.cols());
  }

 private:
  // A LoRA adapter on the weight `slot` (an {out, in} matrix) of one sublayer.
  struct Lora {
    std::string name;  // under the sublayer's prefix ("" for a dense sublayer's own weight)
    size_t slot = 0;
    int64_t out = 0, in = 0, rank = 0;
    float *w = nullptr, *gw = nullptr, *a = nullptr, *ga = nullptr, *b = nullptr, *gb = nullptr;
    std::vector<float> merged, g_merged;  // W + s B A and dL/d(merged)

    void Merge(const TextEncoderOptions& o) {
      const float s = static_cast<float>(o.lora_alpha / static_cast<double>(rank));
      RowMap(merged.data(), out, in) =
          ConstRowMap(w, out, in) + s * ConstRowMap(b, out, rank) * ConstRowMap(a, rank, in);
    }
    // dL/dW = dL/dmerged; dL/dA = s B^T dL/dmerged; dL/dB = s dL/dmerged A^T.
    void SplitGradient(const TextEncoderOptions& o) {
      const float s = static_cast<float>(o.lora_alpha / static_cast<double>(rank));
      const ConstRowMap gm(g_merged.data(), out, in);
      RowMap(gw, out, in) = gm;
      RowMap(ga, rank, in).noalias() = s * ConstRowMap(b, out, rank).transpose() * gm;
      RowMap(gb, out, rank).noalias() = s * gm * ConstRowMap(a, rank, in).transpose();
    }
  };
  struct Block {
    std::unique_ptr<Layer> norm1, norm2, linear1, gelu, linear2;
    std::unique_ptr<internal::SelfAttention> attn;
    std::vector<Lora> lora, lora_ff1, lora_ff2;  // on attn, linear1, linear2
    Matrix a, n1, b, n2, f1, g;                  // what Backward needs, from the last Forward
  };

  // Every part in parameter order, with the PyTorch-style name prefix of its parameters and
  // its adapters (each part's adapter tensors follow its own).
  template <typename F>
  void ForEachPart(F&& f) const {
    auto* self = const_cast<TextEncoder*>(this);  // the callers that mutate are non-const
    std::vector<Lora> none;
    f("embeddings.", *embed_, self->embed_lora_);
    for (size_t i = 0; i < blocks_.size(); ++i) {
      const std::string p = "layers." + std::to_string(i) + ".";
      Block& b = self->blocks_[i];
      f(p + "self_attn.", *b.attn, b.lora);
      f(p + "linear1.", *b.linear1, b.lora_ff1);
      f(p + "linear2.", *b.linear2, b.lora_ff2);
      f(p + "norm1.", *b.norm1, none);
      f(p + "norm2.", *b.norm2, none);
      f(p + "gelu.", *b.gelu, none);
    }
    f("norm.", *norm_, none);
  }

  int64_t t_;
  TextEncoderOptions o_;
  std::unique_ptr<Layer> embed_, norm_;
  std::vector<Block> blocks_;
  std::vector<Lora> embed_lora_;  // on the word table, when lora_embedding_rank > 0
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
  // Every adapted matrix has the width on one side: a larger rank only adds parameters.
  if (o.lora_rank < 0 || o.lora_embedding_rank < 0 || o.lora_rank > o.dim ||
      o.lora_embedding_rank > o.dim ||
      (o.lora_rank + o.lora_embedding_rank > 0 &&
       !(o.lora_alpha > 0 && std::isfinite(o.lora_alpha))))
    return InvalidArgumentError(
        "text_encoder: need lora_rank and lora_embedding_rank in [0, dim = " +
        std::to_string(o.dim) + "] and a finite lora_alpha > 0");
  return std::unique_ptr<Layer>(std::make_unique<TextEncoder>(input[0], o));
}

}  // namespace fedra
