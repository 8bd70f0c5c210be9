// Private to src/ml: the self-attention layer (see NewSelfAttention in fedra/ml/layer.h), here
// so that the text encoder can hand it a key mask: padding positions receive no attention.
#ifndef FEDRA_SRC_ML_SELF_ATTENTION_H_
#define FEDRA_SRC_ML_SELF_ATTENTION_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "fedra/ml/layer.h"

namespace fedra::internal {

using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using RowMap = Eigen::Map<RowMat>;
using ConstRowMap = Eigen::Map<const RowMat>;
// One column of T entries per example: 1 for a real token, 0 for padding.
using KeyMask = Eigen::Matrix<uint8_t, Eigen::Dynamic, Eigen::Dynamic>;

class SelfAttention final : public Layer {
 public:
  SelfAttention(int64_t length, int64_t dim, int64_t heads) : t_(length), d_(dim), h_(heads) {}
  std::string Name() const override { return "self_attention"; }
  Shape InputShape() const override { return {t_, d_}; }
  Shape OutputShape() const override { return {t_, d_}; }
  std::unique_ptr<Layer> Clone() const override { return std::make_unique<SelfAttention>(*this); }
  std::vector<ParamSpec> ParameterSpecs() const override;
  void Bind(std::span<float* const> w, std::span<float* const> g) override;
  void Initialize(Rng& rng) override;
  void Forward(const Matrix& x, Matrix* y, bool training) override;
  void Backward(const Matrix& x, const Matrix& y, const Matrix& dy, Matrix* dx) override;

  // Keys whose mask entry is 0 get no attention; a query with no key left attends to nothing
  // (its heads' output is 0). Null: every key counts. Must stay valid through Forward and
  // Backward and have one column per example.
  void set_key_mask(const KeyMask* mask) { mask_ = mask; }

 private:
  struct Work {
    Work(int64_t t, int64_t d) : qkv(t, 3 * d), o(t, d) {}
    RowMat qkv, o;
    std::vector<RowMat> p;  // attention weights per head, T x T
  };
  // Projections, attention weights and the heads' concatenated output for example `c`.
  void Attend(const float* x, Eigen::Index c, Work& w) const;

  int64_t t_, d_, h_;
  const KeyMask* mask_ = nullptr;
  float *w_in_ = nullptr, *b_in_ = nullptr, *w_out_ = nullptr, *b_out_ = nullptr;
  float *g_w_in_ = nullptr, *g_b_in_ = nullptr, *g_w_out_ = nullptr, *g_b_out_ = nullptr;
};

}  // namespace fedra::internal

#endif  // FEDRA_SRC_ML_SELF_ATTENTION_H_
