// RoundDriver: runs federated rounds — ConfigureFit, dispatch through a ClientPool, validate
// each result, fold it into the accumulator as it arrives (sum-based strategies) or collect it
// (individual strategies), AggregateFit, evaluate, report metrics. The same driver runs the
// simulation and the gRPC server.
//
// A result is rejected (counted as a failure, never aggregated) when the client reported an
// error, when its update or extras have another layout than the global model, hold NaN/Inf,
// or when it trained on zero examples. An accepted result of a plain round then has its weight
// and norms bounded (InfluenceBound, on by default). A round whose failures exceed
// max_failure_fraction, or whose aggregation fails or yields non-finite parameters, leaves the
// global model unchanged.
//
// Thread-safety: not thread-safe.
#ifndef FEDRA_FL_ROUND_DRIVER_H_
#define FEDRA_FL_ROUND_DRIVER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "fedra/core/rng.h"
#include "fedra/core/status.h"
#include "fedra/fl/client_pool.h"
#include "fedra/fl/influence_bound.h"
#include "fedra/fl/secure_sum.h"
#include "fedra/fl/strategy.h"
#include "fedra/ml/fine_tuning.h"

namespace fedra {

struct RoundMetrics {
  int round = 0;
  bool aggregated = false;  // false: the round failed and the model is unchanged
  std::string error;        // why it failed, if it did
  size_t fit_clients = 0;   // selected for training
  size_t fit_failures = 0;  // of those, failed or rejected
  double train_loss = 0.0;  // example-weighted mean of the clients' last-epoch loss
  size_t eval_clients = 0;  // federated evaluation (0 if none this round)
  double eval_loss = 0.0;
  double eval_accuracy = 0.0;
  std::optional<double> server_eval_loss, server_eval_accuracy;  // from server_evaluate
  double seconds = 0.0;
  // Bytes a network run would have moved: parameters (and broadcast) down to each selected
  // client, updates (and extras) up from each successful one, at 4 bytes per float.
  uint64_t bytes_down = 0, bytes_up = 0;
  // Further per-round figures by name (e.g. "dp_epsilon"), kept in the metrics file.
  std::map<std::string, double> extras;
  // The strategy ended the run instead of planning this round (its ConfigureFit returned
  // ResourceExhausted, e.g. a spent privacy budget): nothing was trained or evaluated.
  bool stop = false;
};

struct RoundDriverOptions {
  int num_rounds = 10;
  // A round fails (model unchanged) if more than this fraction of selected clients fail.
  double max_failure_fraction = 0.5;
  // Federated evaluation every this many rounds (and after the last); 0 = never.
  int evaluate_every = 1;
  uint64_t seed = 1;  // client sampling
  // Optional centralized evaluation of the global model after each round.
  std::function<StatusOr<EvaluateResult>(int round, const Parameters& global)> server_evaluate;
  // Called after every round (progress display, metrics file).
  std::function<void(const RoundMetrics&)> on_round_end;
  // Optional (not owned): form the sums through a SecureSum (Paillier, secure aggregation)
  // instead of adding the clients' terms in the clear. Needs a kWeightedSum strategy.
  SecureSum* secure_sum = nullptr;
  // Caps each result's example count and update norm relative to the round's median
  // (fl/influence_bound.h), so no single client owns the model. On by default; the
  // simulation, whose clients are the user's own code, turns it off unless asked.
  InfluenceBoundOptions influence;
  // Scales every task's learning rate in round r by the factor of update r - 1 of a schedule
  // from 1 towards 0 over num_rounds (linear or cosine, so the last round gets 1/num_rounds
  // or about (pi/num_rounds)^2/4; constant leaves it): a learning rate
  // that decays over the run, whatever the strategy. Resumed runs scale as uninterrupted ones.
  LrSchedule::Decay client_lr_decay = LrSchedule::Decay::kConstant;
};

class RoundDriver {
 public:
  // `strategy` and `pool` must outlive the driver.
  RoundDriver(Strategy& strategy, ClientPool& pool, RoundDriverOptions options);

  // Runs rounds first_round..options.num_rounds from `global` and returns the final model.
  // A failed round is reported in its metrics and the run continues; a strategy that ends
  // the run (RoundMetrics::stop) ends it with the model so far; only a problem that makes
  // progress impossible (e.g. too few available clients) ends it with an error.
  StatusOr<Parameters> Run(Parameters global, int first_round = 1);

  // One round; updates `global` in place only if the round succeeds. A stopping round
  // (RoundMetrics::stop) returns at once, without evaluation or on_round_end.
  RoundMetrics RunRound(int round, Parameters& global);

  // The first half of a round, for an aggregator that folds its clients for an upper server
  // (fedra/net/edge.h): runs `plan` (its tasks' configs as given; plan.round set) and returns
  // the sums its accepted results fold into, without AggregateFit. The same checks, influence
  // bound and secure-sum paths as RunRound; `m` gets the fit counts, loss and bytes.
  // FailedPrecondition for a strategy that needs every update; Unavailable when too many
  // clients failed (max_failure_fraction).
  struct FoldedRound {
    UpdateAccumulator sums;
    uint64_t examples = 0;  // of the accepted results
  };
  StatusOr<FoldedRound> FoldRound(const RoundPlan& plan, const Parameters& global, RoundMetrics& m);

  // The influence bound's state between rounds (its reference), for checkpoints.
  InfluenceBound& influence_bound() { return bound_; }

 private:
  // What a round's fit collects: the sums (or, for individual strategies, the results).
  struct Collected {
    UpdateAccumulator sums;
    std::vector<FitResult> kept;
    size_t num_results = 0;
    double examples = 0;       // of the accepted results
    double max_tier_rate = 0;  // AggregateInput::max_tier_rate (0: no result told)
  };
  Status FitRound(int round, Parameters& global, RoundMetrics& m);
  Status CheckComposition() const;
  Status CheckPlan(const RoundPlan& plan, const Parameters& global, RoundMetrics& m) const;
  Status Collect(int round, const Parameters& global, const RoundPlan& plan, RoundMetrics& m,
                 Collected& out);
  Status AcceptFolded(const FitResult& result, const Parameters* global) const;
  // Adds an aggregator's folded sums to `sums` as a unit (as FoldChecked).
  bool MergeChecked(int round, const FitResult& result, UpdateAccumulator& sums,
                    RoundMetrics& m) const;
  void EvaluateRound(int round, const Parameters& global, RoundMetrics& m);
  Status SecurePoolRound(int round, const Parameters& global, const RoundPlan& plan,
                         RoundMetrics& m, Collected& out);
  Status FoldedPoolRound(int round, const Parameters& global, const RoundPlan& plan,
                         RoundMetrics& m, Collected& out);
  Status CheckFailures(const RoundMetrics& m) const;
  bool Accept(int round, const RoundPlan& plan, size_t task, const StatusOr<FitResult>& result,
              const Parameters* global, bool check_values, RoundMetrics& m) const;
  // Folds one accepted result into `sums` as a unit (see UpdateAccumulator::BeginFold).
  bool FoldChecked(int round, ClientId client, const FitResult& result, UpdateAccumulator& sums,
                   RoundMetrics& m) const;
  Status Aggregate(int round, Parameters& global, const AggregateInput& input);
  // Applies the influence bound to an accepted result and counts what it did in `m`.
  void Bound(FitResult& result, const InfluenceBound::Reported& reported, RoundMetrics& m) const;

  Strategy& strategy_;
  ClientPool& pool_;
  RoundDriverOptions options_;
  Rng rng_;
  InfluenceBound bound_;
};

// OK iff `result` may be aggregated against `global` (layouts, finiteness, examples).
Status ValidateFitResult(const FitResult& result, const Parameters& global);
// The checks of ValidateFitResult that do not look at the update (examples, loss, metrics):
// all a secure round can check of one client.
Status ValidateFitReport(const FitResult& result);

}  // namespace fedra

#endif  // FEDRA_FL_ROUND_DRIVER_H_
