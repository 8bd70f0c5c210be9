#include "fedra/fl/fed_avg.h"

#include <cmath>

namespace fedra {
namespace {

class FedAvg final : public Strategy {
 public:
  FedAvg(const FedAvgOptions& options, std::unique_ptr<ServerOptimizer> server, std::string name)
      : options_(options), server_(std::move(server)), name_(std::move(name)) {}

  std::string Name() const override { return name_; }
  AggregationMode mode() const override { return AggregationMode::kWeightedSum; }

  StatusOr<RoundPlan> ConfigureFit(int, const Parameters&, std::span<const ClientId> available,
                                   Rng& rng) override {
    return PlanFitRound(options_.sampling, options_.fit, available, rng);
  }

  StatusOr<Parameters> AggregateFit(int, const Parameters& global,
                                    const AggregateInput& in) override {
    const double weight = in.sums->scalar("weight");
    if (!(weight > 0)) return FailedPreconditionError("no examples were trained on this round");
    if (!in.sums->has("update")) return FailedPreconditionError("no update was folded this round");
    Parameters delta = in.TakeSum("update");
    delta.Scale(static_cast<float>(1.0 / weight));
    Parameters next = global;
    FEDRA_RETURN_IF_ERROR(server_->Apply(delta, next));
    return next;
  }

  StatusOr<std::vector<EvaluateTask>> ConfigureEvaluate(int, const Parameters&,
                                                        std::span<const ClientId> available,
                                                        Rng& rng) override {
    return SampleEvaluateTasks(available, options_.sampling, rng);
  }

  StrategyState ExportState() const override { return server_->ExportState(); }
  Status ImportState(const StrategyState& state) override { return server_->ImportState(state); }

 private:
  FedAvgOptions options_;
  std::unique_ptr<ServerOptimizer> server_;
  std::string name_;
};

bool Finite(double x) { return std::isfinite(x); }

}  // namespace

Status ValidateFedAvgOptions(const FedAvgOptions& o) {
  const SamplingOptions& s = o.sampling;
  if (!(s.fraction_fit > 0 && s.fraction_fit <= 1)) {
    return InvalidArgumentError("fraction_fit must be in (0, 1], got " +
                                std::to_string(s.fraction_fit));
  }
  if (!(s.fraction_evaluate >= 0 && s.fraction_evaluate <= 1)) {
    return InvalidArgumentError("fraction_evaluate must be in [0, 1], got " +
                                std::to_string(s.fraction_evaluate));
  }
  if (s.min_fit_clients < 1) return InvalidArgumentError("min_fit_clients must be >= 1");
  const FitConfig& f = o.fit;
  if (f.epochs < 1 || f.batch_size < 1)
    return InvalidArgumentError("local epochs and batch size must be >= 1");
  if (f.local_steps < 0 || f.local_steps > kMaxLocalSteps)
    return InvalidArgumentError("local steps must be in [0, " + std::to_string(kMaxLocalSteps) +
                                "] (0: train --epochs passes)");
  if (!Finite(f.learning_rate) || f.learning_rate <= 0)
    return InvalidArgumentError("local learning rate must be > 0");
  if (!(f.momentum >= 0 && f.momentum < 1))
    return InvalidArgumentError("local momentum must be in [0, 1)");
  if (!Finite(f.proximal_mu) || f.proximal_mu < 0)
    return InvalidArgumentError("proximal mu must be >= 0");
  if (!Finite(f.weight_decay) || f.weight_decay < 0)
    return InvalidArgumentError("weight decay must be >= 0");
  if (f.optimizer != "sgd" && f.optimizer != "adam" && f.optimizer != "adamw")
    return InvalidArgumentError("local optimizer must be sgd, adam or adamw, got '" + f.optimizer +
                                "'");
  if (!Finite(f.max_grad_norm) || f.max_grad_norm < 0)
    return InvalidArgumentError("max grad norm must be >= 0");
  return OkStatus();
}

StatusOr<std::unique_ptr<Strategy>> NewFedAvgWith(const FedAvgOptions& options,
                                                  std::unique_ptr<ServerOptimizer> server_optimizer,
                                                  std::string name) {
  FEDRA_RETURN_IF_ERROR(ValidateFedAvgOptions(options));
  if (server_optimizer == nullptr) return InvalidArgumentError("server optimizer is null");
  return std::unique_ptr<Strategy>(
      std::make_unique<FedAvg>(options, std::move(server_optimizer), std::move(name)));
}

StatusOr<std::unique_ptr<Strategy>> NewFedAvg(const FedAvgOptions& options) {
  FEDRA_ASSIGN_OR_RETURN(auto server, NewServerSgd(1.0f, 0.0f));
  return NewFedAvgWith(options, std::move(server), "fedavg");
}

}  // namespace fedra
