// DpStrategy: differential privacy for any sum-based strategy, by wrapping it (the wrapped
// strategy still samples clients, configures training and applies its server optimizer).
// Across a hierarchy of aggregators with DpOptions::across_tiers.
// DP-FedAvg (McMahan, Ramage, Talwar, Zhang, "Learning Differentially Private Recurrent
// Language Models", ICLR 2018): every update is clipped to L2 norm C and weighted uniformly
// (weight 1, not num_examples, so one client's influence is bounded by C); the server divides
// the sum by the *expected* number of clients m — the paper's fixed-denominator estimator,
// whose sensitivity is C / m whatever the number that answered — after Gaussian noise of
// stddev z C is added to the sum, in one of three places:
// - kCentral: the server adds N(0, (z C)^2) to the sum (clipping in Fold, or on the clients
//   with clip_on_client, as secure aggregation needs).
// - kLocal: each client clips and adds N(0, (z C)^2) to its own update; accounted as the
//   Gaussian mechanism without sampling amplification (the server sees each report).
// - kDistributed: each of the K selected clients adds N(0, (z C)^2 / K) so the sum carries
//   the central noise without the server adding it; the server tops up the share of clients
//   that dropped out. This is the mode for secure aggregation.
// Optional adaptive clipping (privacy/dp/adaptive_clip.h, central mode) and an RDP accountant
// (sampling rate q = selected / available per round, composed over rounds, improved
// conversion at `delta`) whose state travels in ExportState/ImportState. With a budget,
// ConfigureFit refuses a round that would take epsilon past it (ResourceExhausted, action
// kStop) or the run goes on and budget_exhausted() turns true (kWarn).
//
// The wrapper supplies its own Fold; the wrapped strategy's AggregateFit sees sums
// "update" (noised, = m * the DP mean update) and "weight" (= m) only, so strategies that
// fold other sums (SCAFFOLD, FedNova) cannot be wrapped meaningfully; NewStrategy refuses them.
// Thread-safety: not thread-safe, like every Strategy.
#ifndef FEDRA_FL_DP_STRATEGY_H_
#define FEDRA_FL_DP_STRATEGY_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "fedra/core/status.h"
#include "fedra/fl/strategy.h"

namespace fedra {

enum class DpMode { kNone, kCentral, kLocal, kDistributed };
enum class DpBudgetAction { kStop, kWarn };

struct DpOptions {
  DpMode mode = DpMode::kNone;
  double clip_norm = 1.0;         // C; the initial C with adaptive clipping
  double noise_multiplier = 1.0;  // z (total, before the adaptive-clipping split)
  bool clip_on_client = false;    // central mode; local and distributed always clip there
  // Adaptive clipping: target quantile gamma in (0, 1), or 0 for a fixed C.
  double adaptive_quantile = 0;
  double adaptive_learning_rate = 0.2;
  double adaptive_count_stddev = 0;  // sigma_b; 0: expected clients / 20, as in the paper
  double target_epsilon = 0;         // privacy budget; 0: none (epsilon is still reported)
  double delta = 1e-5;
  DpBudgetAction budget_action = DpBudgetAction::kStop;
  // The clients are edge aggregators (fedra/net/edge.h) that fold their own clients: each
  // edge is sent the mode and C (fedra/fl/tiers.h) and clips and weights every client as
  // Fold() does; the denominator m is the clients the edges planned (their counts, summed).
  // The accountant's q: when every available edge was asked and answered, the largest share
  // of its clients an edge asked (AggregateInput::max_tier_rate); otherwise the edges sampled
  // / available, an upper bound of every client's rate (the budget check before a round uses
  // it too). In distributed mode each edge gets a 1/E share of the noise variance. No
  // adaptive clipping.
  bool across_tiers = false;
  // Server-side noise from this seed (stream = round) for reproducible experiments; unset:
  // keyed from OpenSSL RAND. Client-side noise always comes from RAND.
  std::optional<uint64_t> seed;
};

// "none", "central", "local", "distributed" / "stop", "warn"; InvalidArgument otherwise.
StatusOr<DpMode> ParseDpMode(const std::string& name);
StatusOr<DpBudgetAction> ParseDpBudgetAction(const std::string& name);
// InvalidArgument naming the bad option (C, z, delta, quantile, budget...).
Status ValidateDpOptions(const DpOptions& options);

class DpStrategy : public Strategy {
 public:
  // Epsilon spent so far at options.delta (0 before the first aggregated round).
  virtual double epsilon_spent() const = 0;
  virtual double delta() const = 0;
  // True once the budget is spent (stop: no further round is configured).
  virtual bool budget_exhausted() const = 0;
  virtual int64_t rounds_accounted() const = 0;
  // The clip norm the next round uses.
  virtual double clip_norm() const = 0;

 protected:
  DpStrategy() = default;
};

// DP's fold of one result, shared by DpStrategy and an edge across tiers (fedra/net/edge.h):
// the update with weight 1, clipped to L2 norm `clip_norm` when that is > 0, and scalar
// "weight" += 1. Returns the update's norm before clipping (0 when not clipped).
double DpFold(const FitResult& result, double clip_norm, UpdateAccumulator& acc);
// DpFold() as data (secure rounds announce it).
FoldSpec DpFoldSpec();

// Wraps `inner`. InvalidArgument for bad options, mode kNone, a null or kIndividual inner
// strategy (median, trimmed mean and Krum need every update, which DP noise on a sum cannot
// protect).
StatusOr<std::unique_ptr<DpStrategy>> NewDpStrategy(std::unique_ptr<Strategy> inner,
                                                    const DpOptions& options);

}  // namespace fedra

#endif  // FEDRA_FL_DP_STRATEGY_H_
