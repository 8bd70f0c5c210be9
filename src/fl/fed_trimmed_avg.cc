// FedTrimmedAvg: coordinate-wise trimmed mean (Yin et al., ICML 2018). The maths lives in
// robust_aggregation.h.
#include "fedra/fl/fed_trimmed_avg.h"

#include <cmath>
#include <string>
#include <vector>

#include "robust_aggregation.h"

namespace fedra {
namespace {

class FedTrimmedAvg final : public Strategy {
 public:
  explicit FedTrimmedAvg(const FedTrimmedAvgOptions& options) : options_(options) {}

  std::string Name() const override { return "fedtrimmedavg"; }
  AggregationMode mode() const override { return AggregationMode::kIndividual; }

  StatusOr<RoundPlan> ConfigureFit(int, const Parameters&, std::span<const ClientId> available,
                                   Rng& rng) override {
    return PlanFitRound(options_.base.sampling, options_.base.fit, available, rng);
  }

  StatusOr<Parameters> AggregateFit(int, const Parameters& global,
                                    const AggregateInput& in) override {
    FEDRA_RETURN_IF_ERROR(robust::CheckResults(global, in.results));
    Parameters next = global;
    next.AddInPlace(robust::TrimmedMean(in.results, options_.beta));
    return next;
  }

  StatusOr<std::vector<EvaluateTask>> ConfigureEvaluate(int, const Parameters&,
                                                        std::span<const ClientId> available,
                                                        Rng& rng) override {
    return SampleEvaluateTasks(available, options_.base.sampling, rng);
  }

 private:
  FedTrimmedAvgOptions options_;
};

}  // namespace

StatusOr<std::unique_ptr<Strategy>> NewFedTrimmedAvg(const FedTrimmedAvgOptions& options) {
  FEDRA_RETURN_IF_ERROR(ValidateFedAvgOptions(options.base));
  if (!(options.beta >= 0 && options.beta < 0.5)) {
    return InvalidArgumentError("trimmed-mean beta must be in [0, 0.5), got " +
                                std::to_string(options.beta));
  }
  return std::unique_ptr<Strategy>(std::make_unique<FedTrimmedAvg>(options));
}

}  // namespace fedra
