// Strategy: how the server runs federated rounds — which clients train with which settings,
// and how their results become the next global model. Strategies do no I/O and keep no
// clock: every method is a function of its inputs (and of the strategy's own state, such as
// a server optimizer's moments), so each is testable alone. The round loop belongs to
// RoundDriver, which runs the same strategy in the simulation and behind the gRPC server.
//
// A strategy declares its AggregationMode:
// - kWeightedSum: Fold() turns each client result into terms of named weighted sums in an
//   UpdateAccumulator (O(parameters) memory whatever the number of clients); AggregateFit()
//   sees only the sums. Works with secure aggregation and Paillier (FedAvg and family).
// - kIndividual: AggregateFit() sees every result (median, trimmed mean, Krum); the server
//   then holds O(clients x parameters) and privacy modules that hide individual updates
//   cannot be combined with it.
//
// Failed clients are data: AggregateFit() is told how many failed; it never sees exceptions.
// Thread-safety: not thread-safe; one driver calls one strategy.
#ifndef FEDRA_FL_STRATEGY_H_
#define FEDRA_FL_STRATEGY_H_

#include <cstddef>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "fedra/core/rng.h"
#include "fedra/core/status.h"
#include "fedra/fl/fold_spec.h"
#include "fedra/fl/types.h"
#include "fedra/fl/update_accumulator.h"
#include "fedra/ml/parameters.h"

namespace fedra {

enum class AggregationMode { kWeightedSum, kIndividual };

// Federated evaluation summary: example-weighted mean loss and accuracy, and of each metric
// that every result carries.
EvaluateResult WeightedEvaluation(std::span<const EvaluateResult> results);

class Strategy;
// The strategy's fold_spec(), validated and checked against its Fold() on probe results (the
// same sums, scalars and values): FailedPrecondition naming the strategy and what differs,
// or when it has no fold spec.
StatusOr<FoldSpec> CheckedFoldSpec(const Strategy& strategy);

// What AggregateFit receives for one round.
struct AggregateInput {
  const UpdateAccumulator* sums = nullptr;  // kWeightedSum
  std::span<const FitResult> results;       // kIndividual (empty otherwise)
  size_t num_results = 0;                   // successful clients
  size_t num_failures = 0;                  // failed or rejected clients
  // Set by the round driver, whose sums die with the round: the sums TakeSum may move from.
  UpdateAccumulator* spent_sums = nullptr;
  // The largest share of its connected clients that any aggregator which answered asked to
  // train (fedra/fl/tiers.h: its planned / available clients; 1 for a client that is not an
  // aggregator, and when unknown). DP across tiers accounts with it (fl/dp_strategy.h).
  double max_tier_rate = 1;

  // The sum `name` for the strategy to keep and change (e.g. scale into the mean delta):
  // moved out of the sums when they are spent (sums->has(name) is false afterwards), else a
  // copy. Moving saves a model-sized copy per round. REQUIRES: sums->has(name).
  Parameters TakeSum(const std::string& name) const;
};

// Strategy state that must survive a server restart (server optimizer moments, control
// variates, ...), as named vectors and scalars. Empty for stateless strategies.
struct StrategyState {
  std::map<std::string, std::vector<float>> vectors;
  std::map<std::string, double> scalars;
};

class Strategy {
 public:
  virtual ~Strategy() = default;
  Strategy(const Strategy&) = delete;
  Strategy& operator=(const Strategy&) = delete;

  virtual std::string Name() const = 0;
  virtual AggregationMode mode() const = 0;

  // Chooses this round's clients among `available` (sorted ascending) and their settings.
  // FailedPrecondition when too few clients are available.
  virtual StatusOr<RoundPlan> ConfigureFit(int round, const Parameters& global,
                                           std::span<const ClientId> available, Rng& rng) = 0;

  // kWeightedSum only: adds one result to the sums. The result's layouts and report are
  // validated; its values are checked as they are folded (the driver stages the fold and
  // drops it when a sum or scalar would become NaN/Inf), so Fold must not trust them to be
  // finite. The default is FedAvg's: "update" += num_examples * update, scalar "weight" +=
  // num_examples.
  virtual void Fold(const FitResult& result, UpdateAccumulator& acc) const;

  // kWeightedSum only: Fold() as data (fedra/fl/fold_spec.h), which secure rounds over gRPC
  // announce to clients. The default is FedAvg's. A strategy that overrides Fold overrides
  // this too, or returns nullopt (then it cannot run secure rounds over gRPC);
  // CheckedFoldSpec() compares the two before a server starts.
  virtual std::optional<FoldSpec> fold_spec() const { return FoldSpec::FedAvg(); }

  // The next global parameters. REQUIRES: input.num_results > 0.
  virtual StatusOr<Parameters> AggregateFit(int round, const Parameters& global,
                                            const AggregateInput& input) = 0;

  // Chooses the clients that evaluate the global model after `round` (may be empty).
  virtual StatusOr<std::vector<EvaluateTask>> ConfigureEvaluate(int round, const Parameters& global,
                                                                std::span<const ClientId> available,
                                                                Rng& rng) = 0;

  // Summarises a round's federated evaluation (every result has examples > 0 and a finite
  // loss). The default is WeightedEvaluation(): example-weighted means of loss, accuracy and
  // of every metric all results carry. The driver logs metric m as "eval_m".
  virtual EvaluateResult AggregateEvaluate(int round, std::span<const EvaluateResult> results) {
    (void)round;
    return WeightedEvaluation(results);
  }

  // Figures the strategy reports after each round (e.g. DP's "dp_epsilon"), added to
  // RoundMetrics::extras and the metrics file; checked like client metrics.
  virtual MetricMap RoundReport() const { return {}; }

  virtual StrategyState ExportState() const { return {}; }
  virtual Status ImportState(const StrategyState& state) {
    (void)state;
    return OkStatus();
  }

 protected:
  Strategy() = default;
};

// Settings shared by the built-in strategies: who takes part, and the local training config.
struct SamplingOptions {
  double fraction_fit = 1.0;       // fraction of available clients asked to train
  size_t min_fit_clients = 1;      // never fewer than this many
  double fraction_evaluate = 1.0;  // fraction asked to evaluate (0: no federated evaluation)
  size_t min_evaluate_clients = 0;
  size_t min_available_clients = 1;  // wait/refuse below this many available clients
};

// ceil(fraction * available) clients, at least `min_clients`, chosen uniformly at random
// without replacement from `available`, returned sorted. FailedPrecondition if fewer than
// max(min_clients, min_available) are available.
StatusOr<std::vector<ClientId>> SampleClients(std::span<const ClientId> available, double fraction,
                                              size_t min_clients, size_t min_available, Rng& rng);

// The usual fit plan: the clients SampleClients() picks per `sampling` (fraction_fit,
// min_fit_clients, min_available_clients), each given `fit`; no broadcast, round left 0.
// FailedPrecondition when too few clients are available.
StatusOr<RoundPlan> PlanFitRound(const SamplingOptions& sampling, const FitConfig& fit,
                                 std::span<const ClientId> available, Rng& rng);

// Evaluation tasks per SamplingOptions (no tasks when fraction_evaluate == 0).
StatusOr<std::vector<EvaluateTask>> SampleEvaluateTasks(std::span<const ClientId> available,
                                                        const SamplingOptions& options, Rng& rng);

}  // namespace fedra

#endif  // FEDRA_FL_STRATEGY_H_
