// Optimizer: updates a flat float32 parameter vector from a gradient of the same length.
// Used by the local Trainer on a Model's Parameters, and (later) by server-side
// optimizers on the aggregated update, so it works on spans, not on models.
//
// State (moments, step count) is exported as an OptimizerState and can be restored into a
// fresh optimizer of the same kind and options, which makes a run resumable from a
// checkpoint: the restored optimizer continues bit for bit as the original would have.
//
// Thread-safety: not thread-safe.
#ifndef FEDRA_ML_OPTIMIZER_H_
#define FEDRA_ML_OPTIMIZER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "fedra/core/status.h"

namespace fedra {

struct OptimizerState {
  std::string kind;  // Name() of the optimizer that exported it
  int64_t step = 0;  // number of Step() calls so far
  // "momentum" for SGD with momentum > 0; "m" and "v" for Adam and AdamW; none for plain
  // SGD. Empty before the first Step, one value per parameter after it.
  std::map<std::string, std::vector<float>> buffers;

  bool operator==(const OptimizerState&) const = default;
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  virtual std::string Name() const = 0;
  // params -= update(grads). REQUIRES (FEDRA_CHECK): params.size() == grads.size(), and the
  // same size on every call: the first call (or an imported non-empty state) fixes it, and
  // Reset does not change it.
  virtual void Step(std::span<float> params, std::span<const float> grads) = 0;
  virtual float learning_rate() const = 0;
  // REQUIRES (FEDRA_CHECK): lr finite and >= 0.
  virtual void set_learning_rate(float lr) = 0;
  // Forgets moments and step count (e.g. between federated rounds); keeps the options,
  // including a learning rate set with set_learning_rate, and the parameter count.
  virtual void Reset() = 0;

  virtual OptimizerState ExportState() const = 0;
  // Replaces step count and buffers with `state`'s. InvalidArgument if `state` is of
  // another kind, has a negative step, lacks an expected buffer or has an unexpected one
  // (e.g. "momentum" for an SGD without momentum), or its buffers differ in length, are not
  // empty at step 0, or do not match the parameter count already fixed by Step; the
  // optimizer is unchanged on error. Options (learning rate, betas, ...) are not part of the
  // state.
  virtual Status ImportState(const OptimizerState& state) = 0;

 protected:
  Optimizer() = default;
};

// SGD with optional (heavy-ball or Nesterov) momentum and L2 weight decay, as in PyTorch:
//   g = grad + weight_decay * p;  b = momentum * b + g (b = g on the first step);
//   p -= lr * (nesterov ? g + momentum * b : b).
// Name() is "sgd".
struct SgdOptions {
  float learning_rate = 0.01f;
  float momentum = 0.0f;
  bool nesterov = false;
  float weight_decay = 0.0f;
};

// Adam (Kingma & Ba, ICLR 2015) with bias correction; with decoupled_weight_decay it is
// AdamW (Loshchilov & Hutter, ICLR 2019): p -= lr * weight_decay * p before the Adam step.
// Without it, weight_decay is added to the gradient (L2), as in PyTorch's Adam. Step t:
//   m = beta1 * m + (1 - beta1) * g;  v = beta2 * v + (1 - beta2) * g^2  (m = v = 0 at t = 0);
//   p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + epsilon).
// Name() is "adamw" with decoupled_weight_decay, "adam" without.
struct AdamOptions {
  float learning_rate = 0.001f;
  float beta1 = 0.9f;
  float beta2 = 0.999f;
  float epsilon = 1e-8f;
  float weight_decay = 0.0f;
  bool decoupled_weight_decay = false;
  // Empty: every parameter decays. Else one 0 or 1 per parameter (WeightDecayMask in
  // fine_tuning.h exempts biases and LayerNorm weights, as BERT does); REQUIRES
  // (FEDRA_CHECK) its size to match the parameters at Step.
  std::vector<float> decay_mask;
};

// Factories validate their options, InvalidArgument unless: learning_rate and weight_decay
// are finite and >= 0; momentum, beta1 and beta2 are in [0, 1); epsilon is finite and > 0;
// nesterov has momentum > 0; every decay_mask value is 0 or 1.
StatusOr<std::unique_ptr<Optimizer>> NewSgd(const SgdOptions& options);
StatusOr<std::unique_ptr<Optimizer>> NewAdam(const AdamOptions& options);
// AdamW: NewAdam with decoupled_weight_decay forced on (set weight_decay, e.g. 0.01).
StatusOr<std::unique_ptr<Optimizer>> NewAdamW(AdamOptions options);

}  // namespace fedra

#endif  // FEDRA_ML_OPTIMIZER_H_
