// Layer: one differentiable step of a Sequential model, working on a batch held as a matrix
// with one column per example (see tensor.h for the layout).
//
// A layer is built for a fixed per-example input shape. Its parameters (if any) live in
// buffers owned by the model: the model asks for ParameterSpecs(), lays the tensors out in one
// Parameters, and Bind()s the layer to the weight and gradient storage. Forward() may cache
// what Backward() needs; Backward() overwrites (does not accumulate) the bound gradients.
//
// To write a custom layer, subclass Layer and add it with Sequential::Add().
// Thread-safety: not thread-safe; a layer belongs to one model.
#ifndef FEDRA_ML_LAYER_H_
#define FEDRA_ML_LAYER_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "fedra/core/rng.h"
#include "fedra/core/status.h"
#include "fedra/ml/tensor.h"

namespace fedra {

struct ParamSpec {
  std::string name;  // e.g. "weight", "bias"
  Shape shape;
};

class Layer {
 public:
  virtual ~Layer() = default;
  Layer& operator=(const Layer&) = delete;

  // Short lower-case kind, e.g. "dense", "conv2d".
  virtual std::string Name() const = 0;
  virtual Shape InputShape() const = 0;
  virtual Shape OutputShape() const = 0;
  // A copy with the same configuration; the model rebinds it to new buffers.
  virtual std::unique_ptr<Layer> Clone() const = 0;

  virtual std::vector<ParamSpec> ParameterSpecs() const { return {}; }
  // weights[i] and grads[i] point at storage for ParameterSpecs()[i] (row-major, as in
  // PyTorch: a dense weight is {out, in}, a conv weight {out, in, kh, kw}).
  virtual void Bind(std::span<float* const> weights, std::span<float* const> grads) {
    (void)weights;
    (void)grads;
  }
  // Draws initial weights (and any private random state, e.g. dropout's) from `rng`.
  virtual void Initialize(Rng& rng) { (void)rng; }

  // Re-seeds private random state only (weights untouched); see Model::ReseedRandomState.
  virtual void Reseed(Rng& rng) { (void)rng; }

  // x: (NumElements(InputShape()) x batch). Writes y: (NumElements(OutputShape()) x batch).
  virtual void Forward(const Matrix& x, Matrix* y, bool training) = 0;
  // Given the x and y of the last Forward and dL/dy, writes dL/dx into *dx (skipped when dx
  // is null) and dL/dparameters into the bound gradients.
  virtual void Backward(const Matrix& x, const Matrix& y, const Matrix& dy, Matrix* dx) = 0;

 protected:
  Layer() = default;
  Layer(const Layer&) = default;
};

struct Conv2DOptions {
  int64_t out_channels = 1;
  int64_t kernel = 3;  // square kernel
  int64_t stride = 1;
  int64_t padding = 0;  // zero padding on every side
};

// Factories. `input` is the per-example input shape; each returns InvalidArgument when the
// shape does not fit the layer (e.g. Conv2D needs {C, H, W} and a kernel that fits).
// Dense flattens its input: y = W x + b, W of shape {units, NumElements(input)}.
StatusOr<std::unique_ptr<Layer>> NewDense(const Shape& input, int64_t units);
StatusOr<std::unique_ptr<Layer>> NewReLU(const Shape& input);
// 2-D convolution (cross-correlation, as in PyTorch) by im2col + GEMM over the whole batch.
StatusOr<std::unique_ptr<Layer>> NewConv2D(const Shape& input, const Conv2DOptions& options);
// Max pooling over kernel x kernel windows, no padding; stride 0 means stride = kernel.
StatusOr<std::unique_ptr<Layer>> NewMaxPool2D(const Shape& input, int64_t kernel,
                                              int64_t stride = 0);
// Token + learned position embeddings for sequences of `input` = {T} token ids (stored as
// floats, exact below 2^24): output {T, dim}, parameters "word_embeddings.weight" {vocab, dim}
// and "position_embeddings.weight" {T, dim} (BERT's names), initialised N(0, 0.02). An id that
// is not in [0, vocab) reads as [UNK] (1); validate token data before training.
StatusOr<std::unique_ptr<Layer>> NewEmbedding(const Shape& input, int64_t vocab, int64_t dim);
// Multi-head self-attention over `input` = {T, D} (torch.nn.MultiheadAttention, query = key =
// value, no mask): parameters "in_proj_weight" {3D, D}, "in_proj_bias" {3D},
// "out_proj.weight" {D, D}, "out_proj.bias" {D}. InvalidArgument unless heads divides D.
StatusOr<std::unique_ptr<Layer>> NewSelfAttention(const Shape& input, int64_t heads);
// A transformer text encoder from `input` = {T} token ids to {dim}: NewEmbedding, `layers`
// pre-LN blocks (x + self_attn(norm1(x)), then x + linear2(gelu(linear1(norm2(x)))), as
// torch.nn.TransformerEncoderLayer(norm_first=True, activation="gelu", dropout=0) names and
// computes them, under "layers.<i>."), a final "norm", and the mean over the real tokens.
// [PAD] (id 0) positions get no attention and are left out of the mean.
// With pooling kNone the output is {T, dim}, one vector per position (for masked-language-model
// pre-training). With lora_rank r > 0 every attention projection (and with lora_feed_forward
// linear1 and linear2) computes with W + (lora_alpha / r) B A (LoRA, Hu et al. 2021): extra
// parameters "<projection>.lora_A" {r, in} (uniform in +-1/sqrt(in)) and "<projection>.lora_B"
// {out, r} (zero, so the encoder computes as without adapters; drawing A does take values from
// the initialising Rng), where <projection> is
// "layers.<i>.self_attn.in_proj", "layers.<i>.self_attn.out_proj", "layers.<i>.linear1" or
// "layers.<i>.linear2". With lora_embedding_rank e > 0 the word table {vocab, dim} computes
// with W + (lora_alpha / e) B A the same way: "embeddings.word_embeddings.lora_A" {e, dim} and
// ".lora_B" {vocab, e}, a rank of its own because the table's vocab rows cost e (vocab + dim).
// Freezing the base is the model's business (see NewTrainableSubset).
struct TextEncoderOptions {
  enum class Pooling { kMean, kNone };
  int64_t vocab = 0;  // the tokenizer's vocab_size()
  int64_t dim = 128;
  int64_t heads = 4;
  int64_t layers = 4;
  int64_t ff_dim = 512;
  double eps = 1e-5;  // LayerNorm's
  Pooling pooling = Pooling::kMean;
  int64_t lora_rank = 0;
  double lora_alpha = 8;
  bool lora_feed_forward = false;
  int64_t lora_embedding_rank = 0;
};
StatusOr<std::unique_ptr<Layer>> NewTextEncoder(const Shape& input,
                                                const TextEncoderOptions& options);
// GELU with the exact normal CDF (torch.nn.GELU()): y = x Phi(x).
StatusOr<std::unique_ptr<Layer>> NewGelu(const Shape& input);
// Layer normalisation over the last dimension D of `input` (torch.nn.LayerNorm(D, eps)):
// parameters "weight" {D} (initially 1) and "bias" {D} (0). InvalidArgument for eps <= 0.
StatusOr<std::unique_ptr<Layer>> NewLayerNorm(const Shape& input, double eps = 1e-5);
// Reshapes to {NumElements(input)}.
StatusOr<std::unique_ptr<Layer>> NewFlatten(const Shape& input);
// Inverted dropout: in training, zeroes each value with probability `rate` and scales the
// rest by 1 / (1 - rate); identity in evaluation. REQUIRES 0 <= rate < 1.
StatusOr<std::unique_ptr<Layer>> NewDropout(const Shape& input, double rate);

}  // namespace fedra

#endif  // FEDRA_ML_LAYER_H_
