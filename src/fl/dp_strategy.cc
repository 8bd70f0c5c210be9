#include "fedra/fl/dp_strategy.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <string>
#include <utility>

#include "fedra/fl/tiers.h"
#include "fedra/privacy/dp/adaptive_clip.h"
#include "fedra/privacy/dp/clipping.h"
#include "fedra/privacy/dp/gaussian_noise.h"
#include "fedra/privacy/dp/rdp_accountant.h"

namespace fedra {
namespace {

constexpr char kPrefix[] = "dp.";

bool PositiveFinite(double x) { return x > 0 && std::isfinite(x); }

std::string ModeName(DpMode m) {
  switch (m) {
    case DpMode::kCentral:
      return "central";
    case DpMode::kLocal:
      return "local";
    case DpMode::kDistributed:
      return "distributed";
    case DpMode::kNone:
      break;
  }
  return "none";
}

class DpWrapper final : public DpStrategy {
 public:
  DpWrapper(std::unique_ptr<Strategy> inner, const DpOptions& o,
            std::optional<dp::AdaptiveClip> adaptive, std::optional<dp::GaussianNoise> noise)
      : inner_(std::move(inner)),
        o_(o),
        adaptive_(std::move(adaptive)),
        noise_(std::move(noise)),
        clip_(o.clip_norm),
        round_clip_(o.clip_norm) {}

  std::string Name() const override { return inner_->Name() + "+dp-" + ModeName(o_.mode); }
  AggregationMode mode() const override { return AggregationMode::kWeightedSum; }

  StatusOr<RoundPlan> ConfigureFit(int round, const Parameters& global,
                                   std::span<const ClientId> available, Rng& rng) override;
  void Fold(const FitResult& result, UpdateAccumulator& acc) const override;
  // The clients' side of the fold (secure rounds, where clients clip): every update once.
  // Adaptive clipping also counts clipped updates, which a secure sum cannot: no spec.
  std::optional<FoldSpec> fold_spec() const override {
    if (adaptive_) return std::nullopt;
    FoldSpec spec = DpFoldSpec();
    if (o_.across_tiers) {  // a client of the root itself is an edge of one
      spec.scalars.push_back({kTierPlannedScalar, FoldWeight::kOne});
      spec.scalars.push_back({kTierAvailableScalar, FoldWeight::kOne});
    }
    return spec;
  }
  StatusOr<Parameters> AggregateFit(int round, const Parameters& global,
                                    const AggregateInput& input) override;
  StatusOr<std::vector<EvaluateTask>> ConfigureEvaluate(int round, const Parameters& global,
                                                        std::span<const ClientId> available,
                                                        Rng& rng) override {
    return inner_->ConfigureEvaluate(round, global, available, rng);
  }
  EvaluateResult AggregateEvaluate(int round, std::span<const EvaluateResult> results) override {
    return inner_->AggregateEvaluate(round, results);
  }
  MetricMap RoundReport() const override {
    MetricMap report = inner_->RoundReport();
    report["dp_epsilon"] = epsilon_spent();
    report["dp_clip_norm"] = clip_norm();
    return report;
  }
  StrategyState ExportState() const override;
  Status ImportState(const StrategyState& state) override;

  double epsilon_spent() const override { return epsilon_; }
  double delta() const override { return o_.delta; }
  bool budget_exhausted() const override { return exhausted_; }
  int64_t rounds_accounted() const override { return rounds_; }
  double clip_norm() const override { return adaptive_ ? adaptive_->clip_norm() : clip_; }

 private:
  bool ClientsClip() const { return o_.mode != DpMode::kCentral || o_.clip_on_client; }
  // The accountant's q for this round: sampling amplification only when the server does not
  // see single reports.
  double AccountingRate() const { return o_.mode == DpMode::kLocal ? 1.0 : round_rate_; }
  double CountStddev() const {
    return o_.adaptive_count_stddev > 0 ? o_.adaptive_count_stddev : round_clients_ / 20.0;
  }
  StatusOr<double> UpdateNoiseMultiplier() const {
    if (!adaptive_) return o_.noise_multiplier;
    return dp::AdaptiveUpdateNoiseMultiplier(o_.noise_multiplier, CountStddev());
  }
  Status CheckBudget();
  StatusOr<dp::GaussianNoise*> Noise(int round);

  std::unique_ptr<Strategy> inner_;
  DpOptions o_;
  std::optional<dp::AdaptiveClip> adaptive_;
  std::optional<dp::GaussianNoise> noise_;  // set unless seeded per round
  std::optional<dp::GaussianNoise> round_noise_;
  dp::RdpAccountant accountant_;
  double clip_;
  double round_clip_;         // C the current round's clients clip to
  double round_clients_ = 0;  // K = m, the clients selected this round
  double round_rate_ = 1;     // q = K / available (across tiers: edges sampled / available)
  double epsilon_ = 0;
  int64_t rounds_ = 0;
  bool exhausted_ = false;
};

Status DpWrapper::CheckBudget() {
  if (o_.target_epsilon <= 0) return OkStatus();
  dp::RdpAccountant next = accountant_;
  FEDRA_RETURN_IF_ERROR(next.Compose(AccountingRate(), o_.noise_multiplier));
  FEDRA_ASSIGN_OR_RETURN(double eps, next.Epsilon(o_.delta));
  if (eps <= o_.target_epsilon) return OkStatus();
  if (o_.budget_action == DpBudgetAction::kWarn) return OkStatus();
  exhausted_ = true;
  return ResourceExhaustedError("privacy budget spent: epsilon " + std::to_string(epsilon_) +
                                " after " + std::to_string(rounds_) +
                                " rounds; one more round would reach " + std::to_string(eps) +
                                " > target " + std::to_string(o_.target_epsilon) + " (delta " +
                                std::to_string(o_.delta) + ")");
}

StatusOr<RoundPlan> DpWrapper::ConfigureFit(int round, const Parameters& global,
                                            std::span<const ClientId> available, Rng& rng) {
  FEDRA_ASSIGN_OR_RETURN(RoundPlan plan, inner_->ConfigureFit(round, global, available, rng));
  if (plan.tasks.empty() || available.empty()) return plan;
  round_clients_ = static_cast<double>(plan.tasks.size());
  // Across tiers a client is sampled when its edge is and then by its edge; without each
  // edge's own rate (summed counts cannot carry their largest) the edge rate bounds it.
  round_rate_ = round_clients_ / static_cast<double>(available.size());
  round_clip_ = clip_norm();
  FEDRA_RETURN_IF_ERROR(CheckBudget());
  FEDRA_ASSIGN_OR_RETURN(double z, UpdateNoiseMultiplier());
  double client_stddev = 0;
  if (o_.mode == DpMode::kLocal) client_stddev = z * round_clip_;
  // Across tiers: the share of one edge, which splits it over its clients.
  if (o_.mode == DpMode::kDistributed) client_stddev = z * round_clip_ / std::sqrt(round_clients_);
  for (FitTask& task : plan.tasks) {
    if (ClientsClip() || o_.across_tiers) task.config.clip_norm = static_cast<float>(round_clip_);
    task.config.noise_stddev = static_cast<float>(client_stddev);
    if (o_.across_tiers) task.config.extra[kDpTierModeKey] = ModeName(o_.mode);
  }
  return plan;
}

void DpWrapper::Fold(const FitResult& result, UpdateAccumulator& acc) const {
  // Re-clipping what honest clients clipped is a no-op; it bounds a dishonest one. Local and
  // distributed updates arrive noised: clipping them again would only add bias.
  const bool central = o_.mode == DpMode::kCentral;
  double norm = DpFold(result, central ? round_clip_ : 0.0, acc);
  auto it = result.metrics.find("update_norm");
  if (central && o_.clip_on_client && it != result.metrics.end()) norm = it->second;
  if (o_.across_tiers) {
    acc.AddScalar(kTierPlannedScalar, 1.0);
    acc.AddScalar(kTierAvailableScalar, 1.0);
  }
  if (adaptive_) acc.AddScalar("dp.below", norm <= round_clip_ ? 1.0 : 0.0);
}

StatusOr<dp::GaussianNoise*> DpWrapper::Noise(int round) {
  if (noise_) return &*noise_;
  FEDRA_ASSIGN_OR_RETURN(round_noise_,
                         dp::GaussianNoise::FromSeed(*o_.seed, static_cast<uint64_t>(round)));
  return &*round_noise_;
}

StatusOr<Parameters> DpWrapper::AggregateFit(int round, const Parameters& global,
                                             const AggregateInput& in) {
  if (!in.sums->has("update")) return FailedPreconditionError("no update was folded this round");
  double denominator = round_clients_;  // m
  if (o_.across_tiers) {
    // The clients across tiers, as the edges counted them (an edge is trusted with its count).
    const double planned = in.sums->scalar(kTierPlannedScalar);
    const double available = in.sums->scalar(kTierAvailableScalar);
    const double folded = in.sums->scalar("weight");
    if (!(planned >= 1 && planned >= folded && available >= planned)) {
      return FailedPreconditionError("DP across tiers: the aggregators report " +
                                     std::to_string(planned) + " clients planned of " +
                                     std::to_string(available) + " connected for " +
                                     std::to_string(folded) + " folded updates");
    }
    denominator = planned;
    // Every edge asked and answered: each client's rate is its edge's planned / connected,
    // at most the largest. Otherwise a client of an edge not heard from may have had any rate
    // up to the edge rate.
    if (round_rate_ >= 1 && in.num_failures == 0) {
      round_rate_ = std::clamp(in.max_tier_rate, 0.0, 1.0);
    }
  }
  FEDRA_ASSIGN_OR_RETURN(double z, UpdateNoiseMultiplier());
  FEDRA_ASSIGN_OR_RETURN(dp::GaussianNoise * noise, Noise(round));
  Parameters sum = in.TakeSum("update");
  double variance = 0;  // of the noise the server adds per coordinate
  const double full = z * round_clip_ * z * round_clip_;
  if (o_.mode == DpMode::kCentral) variance = full;
  if (o_.mode == DpMode::kDistributed && round_clients_ > static_cast<double>(in.num_results)) {
    // Dropped clients' (across tiers: failed edges') shares, so the sum still carries
    // N(0, (z C)^2).
    variance = full * (round_clients_ - static_cast<double>(in.num_results)) / round_clients_;
  }
  noise->AddTo(sum, std::sqrt(variance));
  FEDRA_RETURN_IF_ERROR(accountant_.Compose(AccountingRate(), o_.noise_multiplier));
  ++rounds_;
  FEDRA_ASSIGN_OR_RETURN(epsilon_, accountant_.Epsilon(o_.delta));
  if (o_.target_epsilon > 0 && epsilon_ > o_.target_epsilon) exhausted_ = true;
  if (adaptive_) {
    const double count = in.sums->scalar("dp.below") + CountStddev() * noise->Normal();
    adaptive_->Update(count, round_clients_);
  }
  UpdateAccumulator fixed;  // the fixed-denominator mean, as the inner strategy expects it
  fixed.Put("update", std::move(sum));
  fixed.AddScalar("weight", denominator);
  AggregateInput inner_in = in;
  inner_in.sums = &fixed;
  inner_in.spent_sums = &fixed;
  return inner_->AggregateFit(round, global, inner_in);
}

StrategyState DpWrapper::ExportState() const {
  StrategyState s = inner_->ExportState();
  s.scalars["dp.rounds"] = static_cast<double>(rounds_);
  s.scalars["dp.clip_norm"] = clip_norm();
  for (size_t i = 0; i < accountant_.rdp().size(); ++i) {
    s.scalars["dp.rdp." + std::to_string(i)] = accountant_.rdp()[i];
    s.scalars["dp.order." + std::to_string(i)] = accountant_.orders()[i];
  }
  return s;
}

// Parses "<prefix><index>" into index. False for any other key.
bool IndexedKey(const std::string& key, std::string_view prefix, size_t& index) {
  if (!key.starts_with(prefix)) return false;
  const char* begin = key.data() + prefix.size();
  const auto [end, ec] = std::from_chars(begin, key.data() + key.size(), index);
  return ec == std::errc() && end == key.data() + key.size() && begin != end;
}

Status DpWrapper::ImportState(const StrategyState& state) {
  StrategyState inner = state;
  // A run resumes with the orders it started with: the accumulated RDP is only valid at them.
  constexpr size_t kMaxOrders = 4096;
  std::map<size_t, double> rdp_at, order_at;
  double rounds = -1, clip = -1;
  for (auto it = inner.scalars.begin(); it != inner.scalars.end();) {
    const std::string& key = it->first;
    if (!key.starts_with(kPrefix)) {
      ++it;
      continue;
    }
    size_t i = 0;
    if (key == "dp.rounds") {
      rounds = it->second;
    } else if (key == "dp.clip_norm") {
      clip = it->second;
    } else if (IndexedKey(key, "dp.rdp.", i) && i < kMaxOrders) {
      rdp_at[i] = it->second;
    } else if (IndexedKey(key, "dp.order.", i) && i < kMaxOrders) {
      order_at[i] = it->second;
    } else if (key.starts_with("dp.rdp.") || key.starts_with("dp.order.")) {
      return InvalidArgumentError("DP state: unknown accountant entry '" + key + "'");
    }
    it = inner.scalars.erase(it);
  }
  if (rounds < 0 || !(clip > 0))
    return InvalidArgumentError("DP state needs dp.rounds >= 0 and dp.clip_norm > 0");
  std::vector<double> rdp, orders;
  for (const auto& [i, r] : rdp_at) {
    if (i != rdp.size())
      return InvalidArgumentError("DP state: RDP entry " + std::to_string(rdp.size()) +
                                  " is missing");
    rdp.push_back(r);
  }
  if (order_at.empty() && rdp.size() == dp::LegacyRdpOrders().size()) {
    orders = dp::LegacyRdpOrders();  // written before the orders were stored
  } else {
    for (const auto& [i, a] : order_at) {
      if (i != orders.size())
        return InvalidArgumentError("DP state: RDP order " + std::to_string(orders.size()) +
                                    " is missing");
      orders.push_back(a);
    }
  }
  if (orders.size() != rdp.size()) {
    return InvalidArgumentError("DP state holds " + std::to_string(rdp.size()) +
                                " RDP values for " + std::to_string(orders.size()) + " orders");
  }
  FEDRA_RETURN_IF_ERROR(dp::SampledGaussianRdp(1.0, 1.0, orders).status().WithContext("DP state"));
  dp::RdpAccountant restored(std::move(orders));
  FEDRA_RETURN_IF_ERROR(restored.SetRdp(std::move(rdp)).WithContext("DP state"));
  accountant_ = std::move(restored);
  FEDRA_RETURN_IF_ERROR(inner_->ImportState(inner));
  rounds_ = static_cast<int64_t>(rounds);
  if (adaptive_) FEDRA_RETURN_IF_ERROR(adaptive_->set_clip_norm(clip));
  clip_ = adaptive_ ? clip_ : clip;
  FEDRA_ASSIGN_OR_RETURN(epsilon_, accountant_.Epsilon(o_.delta));
  exhausted_ = o_.target_epsilon > 0 && epsilon_ > o_.target_epsilon;
  return OkStatus();
}

}  // namespace

double DpFold(const FitResult& result, double clip_norm, UpdateAccumulator& acc) {
  Parameters update = result.update;
  const double norm = clip_norm > 0 ? dp::ClipL2(update, clip_norm) : 0.0;
  acc.Add("update", 1.0f, std::move(update));
  acc.AddScalar("weight", 1.0);
  return norm;
}

FoldSpec DpFoldSpec() {
  return FoldSpec{.vectors = {{"update", "update", FoldWeight::kOne}},
                  .scalars = {{"weight", FoldWeight::kOne}}};
}

StatusOr<DpMode> ParseDpMode(const std::string& name) {
  if (name == "none") return DpMode::kNone;
  if (name == "central") return DpMode::kCentral;
  if (name == "local") return DpMode::kLocal;
  if (name == "distributed") return DpMode::kDistributed;
  return InvalidArgumentError("unknown DP mode '" + name +
                              "' (expected none, central, local or distributed)");
}

StatusOr<DpBudgetAction> ParseDpBudgetAction(const std::string& name) {
  if (name == "stop") return DpBudgetAction::kStop;
  if (name == "warn") return DpBudgetAction::kWarn;
  return InvalidArgumentError("unknown DP budget action '" + name + "' (expected stop or warn)");
}

Status ValidateDpOptions(const DpOptions& o) {
  if (!PositiveFinite(o.clip_norm))
    return InvalidArgumentError("DP clip norm must be > 0, got " + std::to_string(o.clip_norm));
  if (!PositiveFinite(o.noise_multiplier)) {
    return InvalidArgumentError("DP noise multiplier must be > 0, got " +
                                std::to_string(o.noise_multiplier));
  }
  FEDRA_RETURN_IF_ERROR(dp::ValidateDelta(o.delta).WithContext("DP"));
  if (!(o.target_epsilon >= 0) || !std::isfinite(o.target_epsilon))
    return InvalidArgumentError("DP target epsilon must be >= 0 (0: no budget)");
  if (o.adaptive_quantile != 0) {
    if (o.across_tiers) return InvalidArgumentError("adaptive clipping does not work across tiers");
    if (o.mode != DpMode::kCentral)
      return InvalidArgumentError("adaptive clipping needs --dp-mode central");
    FEDRA_RETURN_IF_ERROR(dp::AdaptiveClip::Create({.initial_clip_norm = o.clip_norm,
                                                    .target_quantile = o.adaptive_quantile,
                                                    .learning_rate = o.adaptive_learning_rate})
                              .status());
    if (!(o.adaptive_count_stddev >= 0))
      return InvalidArgumentError("adaptive clipping: count stddev must be >= 0");
    if (o.adaptive_count_stddev > 0) {
      FEDRA_RETURN_IF_ERROR(
          dp::AdaptiveUpdateNoiseMultiplier(o.noise_multiplier, o.adaptive_count_stddev).status());
    }
  }
  return OkStatus();
}

StatusOr<std::unique_ptr<DpStrategy>> NewDpStrategy(std::unique_ptr<Strategy> inner,
                                                    const DpOptions& o) {
  if (o.mode == DpMode::kNone) return InvalidArgumentError("DP mode is none: nothing to wrap");
  if (inner == nullptr) return InvalidArgumentError("DP: the wrapped strategy is null");
  if (inner->mode() != AggregationMode::kWeightedSum) {
    return InvalidArgumentError(
        "DP cannot wrap " + inner->Name() +
        ": it aggregates individual updates (median, trimmed mean, Krum), while DP noise "
        "protects a sum; use a sum-based strategy (fedavg, fedprox, fedavgm, fedadam, ...)");
  }
  FEDRA_RETURN_IF_ERROR(ValidateDpOptions(o));
  std::optional<dp::AdaptiveClip> adaptive;
  if (o.adaptive_quantile != 0) {
    FEDRA_ASSIGN_OR_RETURN(adaptive,
                           dp::AdaptiveClip::Create({.initial_clip_norm = o.clip_norm,
                                                     .target_quantile = o.adaptive_quantile,
                                                     .learning_rate = o.adaptive_learning_rate}));
  }
  std::optional<dp::GaussianNoise> noise;
  if (!o.seed) {
    FEDRA_ASSIGN_OR_RETURN(noise, dp::GaussianNoise::FromOsEntropy());
  }
  return std::unique_ptr<DpStrategy>(
      std::make_unique<DpWrapper>(std::move(inner), o, std::move(adaptive), std::move(noise)));
}

}  // namespace fedra
