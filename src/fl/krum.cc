// Krum and Multi-Krum (Blanchard et al., NeurIPS 2017).
#include "fedra/fl/krum.h"

#include <algorithm>
#include <numeric>
#include <string>
#include <vector>

#include "robust_aggregation.h"

namespace fedra {
namespace robust {

std::vector<double> KrumScores(std::span<const FitResult> results, size_t f) {
  const size_t n = results.size();
  FEDRA_CHECK(n > 2 * f + 2);
  const size_t neighbours = n - f - 2;
  // Squared distances, accumulated in double; dist[i * n + j] == dist[j * n + i].
  std::vector<double> dist(n * n, 0.0);
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = i + 1; j < n; ++j) {
      const double d =
          (results[i].update.Flat() - results[j].update.Flat()).cast<double>().squaredNorm();
      dist[i * n + j] = dist[j * n + i] = d;
    }
  }
  std::vector<double> scores(n), others;
  for (size_t i = 0; i < n; ++i) {
    others.clear();
    for (size_t j = 0; j < n; ++j) {
      if (j != i) others.push_back(dist[i * n + j]);
    }
    const auto k = static_cast<std::ptrdiff_t>(neighbours);
    std::nth_element(others.begin(), others.begin() + k - 1, others.end());
    scores[i] = std::accumulate(others.begin(), others.begin() + k, 0.0);
  }
  return scores;
}

}  // namespace robust

namespace {

// Unweighted mean of the updates of results[i], i in `indices` (non-empty).
Parameters MeanOf(std::span<const FitResult> results, std::span<const size_t> indices) {
  Parameters mean = Parameters::ZerosLike(results.front().update);
  for (size_t i : indices) mean.AddInPlace(results[i].update);
  mean.Scale(static_cast<float>(1.0 / static_cast<double>(indices.size())));
  return mean;
}

class Krum final : public Strategy {
 public:
  explicit Krum(const KrumOptions& options) : options_(options) {}

  std::string Name() const override { return options_.num_selected == 1 ? "krum" : "multikrum"; }
  AggregationMode mode() const override { return AggregationMode::kIndividual; }

  StatusOr<RoundPlan> ConfigureFit(int, const Parameters&, std::span<const ClientId> available,
                                   Rng& rng) override {
    return PlanFitRound(options_.base.sampling, options_.base.fit, available, rng);
  }

  StatusOr<Parameters> AggregateFit(int, const Parameters& global,
                                    const AggregateInput& in) override {
    FEDRA_RETURN_IF_ERROR(robust::CheckResults(global, in.results));
    const size_t n = in.results.size(), f = options_.num_byzantine, m = options_.num_selected;
    if (n <= 2 * f + 2) {
      return FailedPreconditionError(
          "Krum with f = " + std::to_string(f) + " Byzantine clients needs more than 2f + 2 = " +
          std::to_string(2 * f + 2) + " results, got " + std::to_string(n));
    }
    if (m > n) {
      return FailedPreconditionError("Multi-Krum selects m = " + std::to_string(m) +
                                     " updates, got only " + std::to_string(n) + " results");
    }
    const std::vector<double> scores = robust::KrumScores(in.results, f);
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), size_t{0});
    // Stable: equal scores keep result order, so the choice is deterministic.
    std::stable_sort(order.begin(), order.end(),
                     [&scores](size_t a, size_t b) { return scores[a] < scores[b]; });
    order.resize(m);
    Parameters next = global;
    next.AddInPlace(MeanOf(in.results, order));
    return next;
  }

  StatusOr<std::vector<EvaluateTask>> ConfigureEvaluate(int, const Parameters&,
                                                        std::span<const ClientId> available,
                                                        Rng& rng) override {
    return SampleEvaluateTasks(available, options_.base.sampling, rng);
  }

 private:
  KrumOptions options_;
};

}  // namespace

StatusOr<std::unique_ptr<Strategy>> NewKrum(const KrumOptions& options) {
  FEDRA_RETURN_IF_ERROR(ValidateFedAvgOptions(options.base));
  if (options.num_selected < 1) return InvalidArgumentError("Krum num_selected (m) must be >= 1");
  return std::unique_ptr<Strategy>(std::make_unique<Krum>(options));
}

}  // namespace fedra
