// Small builders shared by the federated-learning tests: one-tensor parameter vectors,
// hand-made client results, and one round of aggregation without a RoundDriver.
#ifndef FEDRA_TESTS_TESTING_FL_FIXTURES_H_
#define FEDRA_TESTS_TESTING_FL_FIXTURES_H_

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <utility>
#include <vector>

#include "fedra/core/rng.h"
#include "fedra/core/status.h"
#include "fedra/fl/strategy.h"
#include "fedra/fl/types.h"
#include "fedra/fl/update_accumulator.h"
#include "fedra/ml/dataset.h"
#include "fedra/ml/parameters.h"

namespace fedra::testing {

// Parameters holding a single tensor "w" of shape {values.size()} with `values`.
inline Parameters Vec(std::initializer_list<float> values) {
  Parameters p;
  p.Add("w", {static_cast<int64_t>(values.size())});
  std::copy(values.begin(), values.end(), p.data());
  return p;
}

// n examples of four well-separated Gaussian blobs in 2-D (classes 0-3, centres (+-3, +-3)).
inline Dataset FourBlobs(size_t n, Rng& rng) {
  Dataset d{.features = Matrix(2, static_cast<Eigen::Index>(n)),
            .targets = Matrix(1, static_cast<Eigen::Index>(n)),
            .example_shape = {2},
            .num_classes = 4};
  for (Eigen::Index i = 0; i < d.features.cols(); ++i) {
    const int c = static_cast<int>(rng.UniformInt(4));
    d.features(0, i) = static_cast<float>((c % 2 ? 3 : -3) + 0.5 * rng.Normal());
    d.features(1, i) = static_cast<float>((c / 2 ? 3 : -3) + 0.5 * rng.Normal());
    d.targets(0, i) = static_cast<float>(c);
  }
  return d;
}

// Every value of `p`, flattened in storage order.
inline std::vector<float> Values(const Parameters& p) { return {p.data(), p.data() + p.size()}; }

// The FitResult `client` would send after `local_steps` optimizer steps on `num_examples`
// examples that moved it by `update`. Other fields (train_loss, extras) keep their defaults.
inline FitResult MakeFitResult(ClientId client, Parameters update, size_t num_examples,
                               int64_t local_steps = 1) {
  FitResult r;
  r.client = client;
  r.update = std::move(update);
  r.num_examples = num_examples;
  r.local_steps = local_steps;
  return r;
}

// As above with update = Vec(update).
inline FitResult MakeFitResult(ClientId client, std::initializer_list<float> update,
                               size_t num_examples, int64_t local_steps = 1) {
  return MakeFitResult(client, Vec(update), num_examples, local_steps);
}

// The strategy a New*() factory returned; a failed factory is a test failure (and a null).
inline std::unique_ptr<Strategy> Unwrap(StatusOr<std::unique_ptr<Strategy>> s) {
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return std::move(s).value();
}

// AggregateFit for round 1 over `results`, fed as RoundDriver feeds the strategy's mode:
// kWeightedSum strategies see every result Fold()ed into an UpdateAccumulator, kIndividual
// strategies see the results themselves (and no sums).
inline StatusOr<Parameters> Aggregate(Strategy& strategy, const Parameters& global,
                                      const std::vector<FitResult>& results) {
  if (strategy.mode() == AggregationMode::kIndividual) {
    return strategy.AggregateFit(1, global, {.results = results, .num_results = results.size()});
  }
  UpdateAccumulator acc;
  for (const FitResult& r : results) strategy.Fold(r, acc);
  return strategy.AggregateFit(1, global, {.sums = &acc, .num_results = results.size()});
}

// Values() of Aggregate(); a failed aggregation is a test failure and gives {}.
inline std::vector<float> AggregateValues(Strategy& strategy, const Parameters& global,
                                          const std::vector<FitResult>& results) {
  auto next = Aggregate(strategy, global, results);
  EXPECT_TRUE(next.ok()) << next.status().ToString();
  return next.ok() ? Values(*next) : std::vector<float>{};
}

}  // namespace fedra::testing

#endif  // FEDRA_TESTS_TESTING_FL_FIXTURES_H_
