// Model: a differentiable function of a batch with trainable Parameters. The Trainer, the
// federated client and the simulation only see this interface, so a user can bring any model
// (compose layers in Sequential, or implement Model directly).
//
// Contract: Forward(x) returns the output batch and keeps what Backward needs; Backward(dout)
// then fills gradients() with dL/dparameters for the same batch (overwriting, not adding).
// gradients() has the same layout as parameters().
//
// Thread-safety: not thread-safe; Clone() gives each thread (or simulated client) its own.
#ifndef FEDRA_ML_MODEL_H_
#define FEDRA_ML_MODEL_H_

#include <cstdint>
#include <memory>
#include <string>

#include "fedra/core/status.h"
#include "fedra/ml/parameters.h"
#include "fedra/ml/tensor.h"

namespace fedra {

class Model {
 public:
  virtual ~Model() = default;
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  virtual std::string Name() const = 0;
  virtual Shape InputShape() const = 0;   // per example
  virtual Shape OutputShape() const = 0;  // per example

  virtual const Parameters& parameters() const = 0;
  virtual Parameters& mutable_parameters() = 0;
  virtual const Parameters& gradients() const = 0;
  virtual Parameters& mutable_gradients() = 0;
  // Replaces every parameter value. InvalidArgument (model unchanged) if `params` has
  // another layout or holds NaN/Inf.
  virtual Status SetParameters(const Parameters& params) = 0;

  // Training mode enables dropout and similar train-only behaviour.
  virtual void SetTraining(bool training) = 0;
  // x: (NumElements(InputShape()) x batch); returns (NumElements(OutputShape()) x batch),
  // valid until the next Forward.
  virtual const Matrix& Forward(const Matrix& x) = 0;
  // dout: dL/doutput of the last Forward, same size as its result.
  virtual void Backward(const Matrix& dout) = 0;

  // Re-seeds train-time randomness (e.g. dropout masks), so that training is reproducible
  // whichever copy of the model runs it. Models without such randomness ignore it.
  virtual void ReseedRandomState(uint64_t seed) { (void)seed; }

  // Lets each Forward/Backward use up to `threads` threads (1, the default, runs on the
  // caller's thread). InvalidArgument if threads < 1. Models that cannot split their work
  // ignore it. Results are deterministic for a fixed thread count. REQUIRES: not between a
  // Forward and its Backward.
  virtual Status SetThreads(int threads) {
    if (threads < 1) return InvalidArgumentError("a model needs at least one thread");
    return OkStatus();
  }

  // An independent copy with equal parameters; it runs on one thread (see SetThreads).
  virtual std::unique_ptr<Model> Clone() const = 0;

 protected:
  Model() = default;
};

}  // namespace fedra

#endif  // FEDRA_ML_MODEL_H_
