// FedNova (Wang et al., NeurIPS 2020): normalised averaging for clients that take different
// numbers of local steps. With p_i = n_i / W, W = sum_i n_i:
//   x += tau_eff * sum_i p_i delta_i / a_i,   tau_eff = sum_i p_i a_i,
// folded as the sums nova = sum_i (n_i / a_i) delta_i, weight = W, tau_eff = sum_i n_i a_i, so
// the step is (tau_eff / W) * (nova / W).
#include "fedra/fl/fed_nova.h"

#include <cmath>
#include <string>
#include <vector>

#include "fedra/fl/local_update.h"

namespace fedra {
namespace {

class FedNova final : public Strategy {
 public:
  explicit FedNova(const FedAvgOptions& options) : options_(options) {}

  std::string Name() const override { return "fednova"; }
  AggregationMode mode() const override { return AggregationMode::kWeightedSum; }

  StatusOr<RoundPlan> ConfigureFit(int, const Parameters&, std::span<const ClientId> available,
                                   Rng& rng) override {
    return PlanFitRound(options_.sampling, options_.fit, available, rng);
  }

  // A result with local_steps <= 0 has no a_i: it is counted under scalar "skipped" and left
  // out of every sum.
  void Fold(const FitResult& result, UpdateAccumulator& acc) const override {
    if (result.local_steps <= 0) {
      acc.AddScalar("skipped", 1);
      return;
    }
    const auto n = static_cast<double>(result.num_examples);
    const double a = EffectiveLocalSteps(result.local_steps, options_.fit.momentum);
    acc.Add("nova", static_cast<float>(n / a), result.update);
    acc.AddScalar("weight", n);
    acc.AddScalar("tau_eff", n * a);
  }

  std::optional<FoldSpec> fold_spec() const override {
    return FoldSpec{.vectors = {{"nova", "update", FoldWeight::kExamplesPerEffectiveStep}},
                    .scalars = {{"weight", FoldWeight::kExamples},
                                {"tau_eff", FoldWeight::kExamplesTimesEffectiveStep}},
                    .momentum = options_.fit.momentum};
  }

  StatusOr<Parameters> AggregateFit(int, const Parameters& global,
                                    const AggregateInput& in) override {
    if (in.sums == nullptr) return FailedPreconditionError("FedNova aggregates sums, got none");
    const UpdateAccumulator& sums = *in.sums;
    const double weight = sums.scalar("weight");
    if (!(weight > 0) || !sums.has("nova")) {
      return FailedPreconditionError("no usable FedNova result: " +
                                     std::to_string(static_cast<size_t>(sums.scalar("skipped"))) +
                                     " had local_steps <= 0 and the rest trained on no examples");
    }
    FEDRA_RETURN_IF_ERROR(global.CheckSameLayout(sums.sum("nova")).WithContext("FedNova sum"));
    Parameters next = global;
    next.Axpy(static_cast<float>(sums.scalar("tau_eff") / (weight * weight)), sums.sum("nova"));
    return next;
  }

  StatusOr<std::vector<EvaluateTask>> ConfigureEvaluate(int, const Parameters&,
                                                        std::span<const ClientId> available,
                                                        Rng& rng) override {
    return SampleEvaluateTasks(available, options_.sampling, rng);
  }

 private:
  FedAvgOptions options_;
};

}  // namespace

StatusOr<std::unique_ptr<Strategy>> NewFedNova(const FedAvgOptions& options) {
  FEDRA_RETURN_IF_ERROR(ValidateFedAvgOptions(options));
  if (options.fit.optimizer != "sgd")
    return InvalidArgumentError("FedNova normalises SGD steps: it needs --local-optimizer sgd");
  return std::unique_ptr<Strategy>(std::make_unique<FedNova>(options));
}

}  // namespace fedra
