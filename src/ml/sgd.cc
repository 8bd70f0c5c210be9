// Stochastic gradient descent with optional heavy-ball (Polyak, 1964) or Nesterov
// (Sutskever et al., ICML 2013) momentum and L2 weight decay, with PyTorch's torch.optim.SGD
// semantics (dampening 0): the momentum buffer starts as the first gradient.
#include <optional>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "fedra/ml/optimizer.h"
#include "optimizer_internal.h"

namespace fedra {
namespace {

constexpr char kMomentumBuffer[] = "momentum";

class Sgd final : public Optimizer {
 public:
  explicit Sgd(const SgdOptions& options) : options_(options) {}

  std::string Name() const override { return "sgd"; }
  void Step(std::span<float> params, std::span<const float> grads) override;
  float learning_rate() const override { return options_.learning_rate; }
  void set_learning_rate(float lr) override {
    internal::CheckLearningRate(lr);
    options_.learning_rate = lr;
  }
  void Reset() override {
    step_ = 0;
    momentum_.clear();
  }
  OptimizerState ExportState() const override;
  Status ImportState(const OptimizerState& state) override;

 private:
  bool has_momentum() const { return options_.momentum != 0.0f; }

  SgdOptions options_;
  int64_t step_ = 0;
  std::optional<size_t> size_;   // fixed by the first Step
  std::vector<float> momentum_;  // empty before the first Step, or without momentum
};

void Sgd::Step(std::span<float> params, std::span<const float> grads) {
  internal::CheckStepSizes(params.size(), grads.size(), &size_);
  const auto n = static_cast<Eigen::Index>(params.size());
  Eigen::Map<Eigen::ArrayXf> p(params.data(), n);
  const Eigen::Map<const Eigen::ArrayXf> grad(grads.data(), n);
  const float lr = options_.learning_rate;
  const float wd = options_.weight_decay;
  const float mu = options_.momentum;
  // Every expression below is coefficient-wise, so reading p while assigning it is safe.
  const auto g = grad + wd * p;
  if (!has_momentum()) {
    p -= lr * g;
  } else {
    const bool first = step_ == 0;
    if (first) momentum_.assign(params.size(), 0.0f);
    Eigen::Map<Eigen::ArrayXf> b(momentum_.data(), n);
    if (first) {
      b = g;
    } else {
      b = mu * b + g;
    }
    if (options_.nesterov) {
      p -= lr * (g + mu * b);
    } else {
      p -= lr * b;
    }
  }
  ++step_;
}

OptimizerState Sgd::ExportState() const {
  OptimizerState state{Name(), step_, {}};
  if (has_momentum()) state.buffers[kMomentumBuffer] = momentum_;
  return state;
}

Status Sgd::ImportState(const OptimizerState& state) {
  StatusOr<size_t> n = has_momentum()
                           ? internal::ValidateState(state, Name(), {kMomentumBuffer}, size_)
                           : internal::ValidateState(state, Name(), {}, size_);
  if (!n.ok()) return n.status();
  step_ = state.step;
  if (has_momentum()) {
    momentum_ = state.buffers.at(kMomentumBuffer);
    if (step_ > 0) size_ = *n;
  }
  return OkStatus();
}

}  // namespace

namespace internal {
std::unique_ptr<Optimizer> MakeSgd(const SgdOptions& options) {
  return std::make_unique<Sgd>(options);
}
}  // namespace internal

}  // namespace fedra
