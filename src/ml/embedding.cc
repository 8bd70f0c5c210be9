// Token and learned position embeddings (BERT's embeddings without the segment table):
// y[t] = word_embeddings[id_t] + position_embeddings[t] for each of the T positions.
#include <algorithm>
#include <cmath>

#include "fedra/ml/layer.h"
#include "layer_util.h"

namespace fedra {
namespace {

class Embedding final : public Layer {
 public:
  Embedding(int64_t length, int64_t vocab, int64_t dim) : t_(length), v_(vocab), d_(dim) {}
  std::string Name() const override { return "embedding"; }
  Shape InputShape() const override { return {t_}; }
  Shape OutputShape() const override { return {t_, d_}; }
  std::unique_ptr<Layer> Clone() const override { return std::make_unique<Embedding>(*this); }
  std::vector<ParamSpec> ParameterSpecs() const override {
    return {{"word_embeddings.weight", {v_, d_}}, {"position_embeddings.weight", {t_, d_}}};
  }
  void Bind(std::span<float* const> w, std::span<float* const> g) override {
    words_ = w[0], positions_ = w[1], dwords_ = g[0], dpositions_ = g[1];
  }
  void Initialize(Rng& rng) override {  // N(0, 0.02), as BERT initialises its embeddings
    for (float* table : {words_, positions_}) {
      const int64_t n = (table == words_ ? v_ : t_) * d_;
      for (int64_t i = 0; i < n; ++i) table[i] = static_cast<float>(0.02 * rng.Normal());
    }
  }

  void Forward(const Matrix& x, Matrix* y, bool) override {
    y->resize(t_ * d_, x.cols());
    for (Eigen::Index c = 0; c < x.cols(); ++c) {
      float* out = &(*y)(0, c);
      for (int64_t t = 0; t < t_; ++t) {
        const float* word = words_ + Id(x(t, c)) * d_;
        const float* pos = positions_ + t * d_;
        for (int64_t k = 0; k < d_; ++k) out[t * d_ + k] = word[k] + pos[k];
      }
    }
  }

  // Ids are not differentiable: dx (when asked for) is zero.
  void Backward(const Matrix& x, const Matrix&, const Matrix& dy, Matrix* dx) override {
    std::fill(dwords_, dwords_ + v_ * d_, 0.0f);
    std::fill(dpositions_, dpositions_ + t_ * d_, 0.0f);
    for (Eigen::Index c = 0; c < x.cols(); ++c) {
      const float* g = &dy(0, c);
      for (int64_t t = 0; t < t_; ++t) {
        float* word = dwords_ + Id(x(t, c)) * d_;
        float* pos = dpositions_ + t * d_;
        for (int64_t k = 0; k < d_; ++k) {
          word[k] += g[t * d_ + k];
          pos[k] += g[t * d_ + k];
        }
      }
    }
    if (dx != nullptr) dx->setZero(x.rows(), x.cols());
  }

 private:
  // The nearest integer id; anything outside [0, vocab) (or NaN) reads as [UNK] = 1.
  int64_t Id(float v) const {
    const double r = std::nearbyint(static_cast<double>(v));
    return r >= 0 && r < static_cast<double>(v_) ? static_cast<int64_t>(r) : 1;
  }

  int64_t t_, v_, d_;
  float *words_ = nullptr, *positions_ = nullptr, *dwords_ = nullptr, *dpositions_ = nullptr;
};

}  // namespace

StatusOr<std::unique_ptr<Layer>> NewEmbedding(const Shape& input, int64_t vocab, int64_t dim) {
  if (input.size() != 1 || input[0] < 1)
    return internal::ShapeError("embedding", input, "expected {sequence length}");
  if (vocab < 2 || dim < 1)
    return InvalidArgumentError("embedding: need a vocabulary of at least 2 ids and dim >= 1");
  return std::unique_ptr<Layer>(std::make_unique<Embedding>(input[0], vocab, dim));
}

}  // namespace fedra
