#include "fedra/net/edge.h"

#include <cmath>
#include <vector>

#include "core/log_safe.h"
#include "fedra/fl/dp_strategy.h"
#include "fedra/fl/round_config.h"
#include "fedra/fl/tiers.h"

namespace fedra {
namespace internal {

// The fold of a DP round across tiers, as DpStrategy folds at a flat server: every update
// with weight 1, clipped to C in central mode (local and distributed updates arrive noised,
// where clipping again would only add bias). Sampling and evaluation stay the edge
// strategy's; its AggregateFit never runs at an edge.
class TierDpFold final : public Strategy {
 public:
  explicit TierDpFold(Strategy& inner) : inner_(inner) {}
  void SetRound(bool clip, double clip_norm) {
    clip_ = clip;
    clip_norm_ = clip_norm;
  }

  std::string Name() const override { return inner_.Name() + " (DP fold)"; }
  AggregationMode mode() const override { return AggregationMode::kWeightedSum; }
  StatusOr<RoundPlan> ConfigureFit(int round, const Parameters& global,
                                   std::span<const ClientId> available, Rng& rng) override {
    return inner_.ConfigureFit(round, global, available, rng);
  }
  void Fold(const FitResult& result, UpdateAccumulator& acc) const override {
    DpFold(result, clip_ ? clip_norm_ : 0.0, acc);
  }
  std::optional<FoldSpec> fold_spec() const override { return DpFoldSpec(); }
  StatusOr<Parameters> AggregateFit(int, const Parameters&, const AggregateInput&) override {
    return UnimplementedError("an edge does not aggregate");
  }
  StatusOr<std::vector<EvaluateTask>> ConfigureEvaluate(int round, const Parameters& global,
                                                        std::span<const ClientId> available,
                                                        Rng& rng) override {
    return inner_.ConfigureEvaluate(round, global, available, rng);
  }

 private:
  Strategy& inner_;
  bool clip_ = true;
  double clip_norm_ = 1;
};

}  // namespace internal

EdgeTrainer::EdgeTrainer(Strategy& strategy, ClientPool& pool, EdgeOptions options)
    : strategy_(strategy),
      pool_(pool),
      o_(std::move(options)),
      driver_(strategy, pool, o_.driver) {}

EdgeTrainer::~EdgeTrainer() = default;

StatusOr<FitResult> EdgeTrainer::Fit(const Parameters& global, const FitConfig& config,
                                     const std::map<std::string, Parameters>& broadcast, Rng& rng) {
  FEDRA_ASSIGN_OR_RETURN(const std::string dp_mode, ConfigString(config.extra, kDpTierModeKey, ""));
  const bool dp = !dp_mode.empty();
  DpMode mode = DpMode::kNone;
  if (dp) {
    const StatusOr<DpMode> parsed = ParseDpMode(dp_mode);
    if (!parsed.ok() || *parsed == DpMode::kNone) {
      return InvalidArgumentError("unknown DP mode across tiers '" + LogSafe(dp_mode, 32) + "'");
    }
    mode = *parsed;
    if (o_.has_aggregators) {
      return FailedPreconditionError(
          "DP across tiers works over two tiers: this edge has aggregators of its own");
    }
    if (!pool_.secure_sum_name().empty()) {
      return FailedPreconditionError(
          "DP across tiers needs edges without --secure-sum: this edge's clients fold with its "
          "strategy's weights, not DP's");
    }
    if (!(config.clip_norm > 0) || !std::isfinite(config.clip_norm) ||
        !(config.noise_stddev >= 0) || !std::isfinite(config.noise_stddev)) {
      return InvalidArgumentError("a DP task across tiers needs a clip norm > 0 and noise >= 0");
    }
    if (!dp_fold_) {
      dp_fold_ = std::make_unique<internal::TierDpFold>(strategy_);
      dp_driver_ = std::make_unique<RoundDriver>(*dp_fold_, pool_, o_.driver);
    }
    dp_fold_->SetRound(mode == DpMode::kCentral, config.clip_norm);
  }
  if (o_.before_round) FEDRA_RETURN_IF_ERROR(o_.before_round());
  const int round = ++round_;
  const std::vector<ClientId> available = pool_.AvailableClients();
  FEDRA_ASSIGN_OR_RETURN(RoundPlan plan, strategy_.ConfigureFit(round, global, available, rng));
  const double planned = static_cast<double>(plan.tasks.size());
  // Distributed DP: the upper server's noise_stddev is this edge's share of the variance.
  const double share = mode == DpMode::kDistributed ? config.noise_stddev : 0.0;
  // The edge chooses who trains; the upper server says how (learning rate, proximal term,
  // SCAFFOLD's control, DP clipping and noise on each client).
  for (FitTask& t : plan.tasks) {
    t.config = config;
    if (share > 0) t.config.noise_stddev = static_cast<float>(share / std::sqrt(planned));
  }
  plan.broadcast = broadcast;
  plan.round = round;
  RoundMetrics m;
  auto folded = (dp ? *dp_driver_ : driver_).FoldRound(plan, global, m);
  m.aggregated = folded.ok();
  if (!folded.ok()) m.error = folded.status().ToString();
  if (o_.on_round) o_.on_round(m);
  if (!folded.ok()) return folded.status().WithContext("edge round " + std::to_string(round));
  const double kept = static_cast<double>(m.fit_clients - m.fit_failures);
  if (share > 0 && kept < planned && folded->sums.has("update")) {
    // The failed clients' shares, so that the edge's sum carries its whole share.
    if (!dp_noise_) {
      FEDRA_ASSIGN_OR_RETURN(dp_noise_, dp::GaussianNoise::FromOsEntropy());
    }
    Parameters sum = folded->sums.Take("update");
    dp_noise_->AddTo(sum, share * std::sqrt((planned - kept) / planned));
    folded->sums.Put("update", std::move(sum));
  }
  folded->sums.AddScalar(kTierPlannedScalar, planned);
  folded->sums.AddScalar(kTierAvailableScalar, static_cast<double>(available.size()));
  FitResult r;
  r.folded = std::move(folded->sums);
  r.num_examples = folded->examples;
  r.train_loss = m.train_loss;
  r.metrics["edge_clients"] = static_cast<double>(m.fit_clients - m.fit_failures);
  r.metrics["edge_failures"] = static_cast<double>(m.fit_failures);
  return r;
}

StatusOr<EvaluateResult> EdgeTrainer::Evaluate(const Parameters& global, const EvaluateTask& task) {
  // The edge's strategy picks the clients (--fraction-evaluate); the upper server says how.
  Rng rng(0x5eed0000u + static_cast<uint64_t>(round_));
  FEDRA_ASSIGN_OR_RETURN(
      std::vector<EvaluateTask> tasks,
      strategy_.ConfigureEvaluate(round_, global, pool_.AvailableClients(), rng));
  if (tasks.empty()) return FailedPreconditionError("this edge evaluates no client this round");
  for (EvaluateTask& t : tasks) {
    t.batch_size = task.batch_size;
    t.extra = task.extra;
  }
  std::vector<EvaluateResult> results;
  pool_.RunEvaluate(global, tasks, [&](size_t, StatusOr<EvaluateResult> r) {
    if (r.ok() && std::isfinite(r->loss) && r->num_examples > 0) results.push_back(*r);
  });
  if (results.empty()) return FailedPreconditionError("no client of this edge could evaluate");
  return WeightedEvaluation(results);
}

}  // namespace fedra
