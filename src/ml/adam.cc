// Adam (Kingma & Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015) with bias
// correction, and AdamW (Loshchilov & Hutter, "Decoupled Weight Decay Regularization",
// ICLR 2019), with PyTorch's torch.optim.Adam / AdamW semantics (amsgrad off).
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "fedra/ml/optimizer.h"
#include "optimizer_internal.h"

namespace fedra {
namespace {

constexpr char kFirstMoment[] = "m";
constexpr char kSecondMoment[] = "v";

class Adam final : public Optimizer {
 public:
  explicit Adam(const AdamOptions& options) : options_(options) {}

  std::string Name() const override { return options_.decoupled_weight_decay ? "adamw" : "adam"; }
  void Step(std::span<float> params, std::span<const float> grads) override;
  float learning_rate() const override { return options_.learning_rate; }
  void set_learning_rate(float lr) override {
    internal::CheckLearningRate(lr);
    options_.learning_rate = lr;
  }
  void Reset() override {
    step_ = 0;
    m_.clear();
    v_.clear();
  }
  OptimizerState ExportState() const override;
  Status ImportState(const OptimizerState& state) override;

 private:
  AdamOptions options_;
  int64_t step_ = 0;
  std::optional<size_t> size_;  // fixed by the first Step
  std::vector<float> m_;        // first-moment estimate; empty before the first Step
  std::vector<float> v_;        // second-moment estimate; empty before the first Step
};

void Adam::Step(std::span<float> params, std::span<const float> grads) {
  internal::CheckStepSizes(params.size(), grads.size(), &size_);
  if (step_ == 0) {
    m_.assign(params.size(), 0.0f);
    v_.assign(params.size(), 0.0f);
  }
  ++step_;
  const auto n = static_cast<Eigen::Index>(params.size());
  Eigen::Map<Eigen::ArrayXf> p(params.data(), n);
  const Eigen::Map<const Eigen::ArrayXf> grad(grads.data(), n);
  Eigen::Map<Eigen::ArrayXf> m(m_.data(), n);
  Eigen::Map<Eigen::ArrayXf> v(v_.data(), n);
  const float lr = options_.learning_rate;
  const float wd = options_.weight_decay;
  const float beta1 = options_.beta1;
  const float beta2 = options_.beta2;
  auto update_moments = [&](const auto& g) {
    m = beta1 * m + (1.0f - beta1) * g;
    v = beta2 * v + (1.0f - beta2) * g.square();
  };
  const bool masked = !options_.decay_mask.empty();
  FEDRA_CHECK(!masked || options_.decay_mask.size() == params.size());
  const Eigen::Map<const Eigen::ArrayXf> mask(masked ? options_.decay_mask.data() : nullptr,
                                              masked ? n : 0);
  if (options_.decoupled_weight_decay) {
    if (wd != 0.0f && masked) {
      p *= 1.0f - lr * wd * mask;
    } else if (wd != 0.0f) {
      p *= 1.0f - lr * wd;
    }
    update_moments(grad);
  } else if (wd != 0.0f) {
    // p is not yet updated: L2 gradient of the current p.
    if (masked) {
      update_moments(grad + wd * mask * p);
    } else {
      update_moments(grad + wd * p);
    }
  } else {
    update_moments(grad);
  }
  const double bias_correction1 = 1.0 - std::pow(static_cast<double>(beta1), step_);
  const double bias_correction2 = 1.0 - std::pow(static_cast<double>(beta2), step_);
  const auto step_size = static_cast<float>(lr / bias_correction1);
  const auto bias_correction2_sqrt = static_cast<float>(std::sqrt(bias_correction2));
  p -= step_size * (m / (v.sqrt() / bias_correction2_sqrt + options_.epsilon));
}

OptimizerState Adam::ExportState() const {
  return OptimizerState{Name(), step_, {{kFirstMoment, m_}, {kSecondMoment, v_}}};
}

Status Adam::ImportState(const OptimizerState& state) {
  StatusOr<size_t> n = internal::ValidateState(state, Name(), {kFirstMoment, kSecondMoment}, size_);
  if (!n.ok()) return n.status();
  step_ = state.step;
  m_ = state.buffers.at(kFirstMoment);
  v_ = state.buffers.at(kSecondMoment);
  if (step_ > 0) size_ = *n;
  return OkStatus();
}

}  // namespace

namespace internal {
std::unique_ptr<Optimizer> MakeAdam(const AdamOptions& options) {
  return std::make_unique<Adam>(options);
}
}  // namespace internal

}  // namespace fedra
