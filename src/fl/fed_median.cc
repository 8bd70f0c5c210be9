// FedMedian (Yin et al., ICML 2018), plus the coordinate-wise maths and plumbing that the
// robust strategies share (declared in robust_aggregation.h).
#include "fedra/fl/fed_median.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "robust_aggregation.h"

namespace fedra {
namespace robust {
namespace {

// out[j] = reduce(column j), where column j holds the j-th value of every update (scratch
// the reducer may reorder).
template <typename Reduce>
Parameters ReduceCoordinates(std::span<const FitResult> results, Reduce reduce) {
  Parameters out = Parameters::ZerosLike(results.front().update);
  std::vector<const float*> sources;
  sources.reserve(results.size());
  for (const FitResult& r : results) sources.push_back(r.update.data());
  std::vector<float> column(results.size());
  float* dst = out.data();
  for (size_t j = 0; j < out.size(); ++j) {
    for (size_t i = 0; i < sources.size(); ++i) column[i] = sources[i][j];
    dst[j] = reduce(std::span<float>(column));
  }
  return out;
}

float Median(std::span<float> v) {
  const size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
  const double upper = v[mid];
  if (v.size() % 2 == 1) return static_cast<float>(upper);
  // nth_element leaves the smaller half in front; its maximum is the lower middle value.
  const double lower = *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid));
  return static_cast<float>((lower + upper) / 2);
}

// floor(beta * n), nudged so that a product which is an integer in exact arithmetic (0.2 * 5)
// is not rounded down by binary floating point.
size_t NumTrimmed(size_t n, double beta) {
  return static_cast<size_t>(std::floor(beta * static_cast<double>(n) + 1e-9));
}

}  // namespace

Status CheckResults(const Parameters& global, std::span<const FitResult> results) {
  if (results.empty()) return FailedPreconditionError("no client results to aggregate");
  for (const FitResult& r : results) {
    const std::string who = "client " + std::to_string(r.client) + " update";
    FEDRA_RETURN_IF_ERROR(global.CheckSameLayout(r.update).WithContext(who));
    FEDRA_RETURN_IF_ERROR(r.update.CheckFinite().WithContext(who));
  }
  return OkStatus();
}

Parameters CoordinateMedian(std::span<const FitResult> results) {
  return ReduceCoordinates(results, Median);
}

Parameters TrimmedMean(std::span<const FitResult> results, double beta) {
  const size_t cut = NumTrimmed(results.size(), beta);
  FEDRA_CHECK(2 * cut < results.size());
  return ReduceCoordinates(results, [cut](std::span<float> v) {
    std::sort(v.begin(), v.end());
    double sum = 0;
    for (size_t i = cut; i < v.size() - cut; ++i) sum += v[i];
    return static_cast<float>(sum / static_cast<double>(v.size() - 2 * cut));
  });
}

}  // namespace robust

namespace {

class FedMedian final : public Strategy {
 public:
  explicit FedMedian(const FedAvgOptions& options) : options_(options) {}

  std::string Name() const override { return "fedmedian"; }
  AggregationMode mode() const override { return AggregationMode::kIndividual; }

  StatusOr<RoundPlan> ConfigureFit(int, const Parameters&, std::span<const ClientId> available,
                                   Rng& rng) override {
    return PlanFitRound(options_.sampling, options_.fit, available, rng);
  }

  StatusOr<Parameters> AggregateFit(int, const Parameters& global,
                                    const AggregateInput& in) override {
    FEDRA_RETURN_IF_ERROR(robust::CheckResults(global, in.results));
    Parameters next = global;
    next.AddInPlace(robust::CoordinateMedian(in.results));
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

StatusOr<std::unique_ptr<Strategy>> NewFedMedian(const FedAvgOptions& options) {
  FEDRA_RETURN_IF_ERROR(ValidateFedAvgOptions(options));
  return std::unique_ptr<Strategy>(std::make_unique<FedMedian>(options));
}

}  // namespace fedra
