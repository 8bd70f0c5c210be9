#include "fedra/fl/round_driver.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <set>
#include <vector>

#include "core/log_safe.h"
#include "fedra/core/logging.h"
#include "fedra/fl/tiers.h"
#include "fl/held_results.h"

namespace fedra {
namespace {

uint64_t BytesOf(const Parameters& p) { return p.num_bytes(); }

// The vectors of a result, which a staged fold may read in place (the result outlives it).
std::vector<const Parameters*> VectorsOf(const FitResult& r) {
  std::vector<const Parameters*> v{&r.update};
  for (const auto& [name, x] : r.extras) v.push_back(&x);
  if (r.folded) {
    for (const auto& [name, x] : r.folded->sums()) v.push_back(&x);
  }
  return v;
}

// The round's clients across tiers, for the metrics: the clients each aggregator folded and
// those that failed there (FitResult::metrics of fedra/net/edge.h), summed over aggregators.
void CountTierClients(const FitResult& r, RoundMetrics& m) {
  for (const char* name : {"edge_clients", "edge_failures"}) {
    auto it = r.metrics.find(name);
    // An aggregator's count, bounded so that one cannot make the sum overflow.
    if (it != r.metrics.end() && it->second >= 0 && it->second <= 1e9) {
      m.extras[name] += it->second;
    }
  }
}

// An aggregator's planned / connected clients (1 when it did not say, or said nonsense).
double TierRate(const UpdateAccumulator& folded) {
  const double planned = folded.scalar(kTierPlannedScalar);
  const double available = folded.scalar(kTierAvailableScalar);
  return planned > 0 && available >= planned ? planned / available : 1.0;
}

uint64_t BytesOf(const std::map<std::string, Parameters>& named) {
  uint64_t total = 0;
  for (const auto& [name, p] : named) total += p.num_bytes();
  return total;
}

}  // namespace

Status ValidateFitReport(const FitResult& result) {
  const std::string who = "client " + std::to_string(result.client);
  if (result.num_examples == 0) return InvalidArgumentError(who + " trained on zero examples");
  if (!std::isfinite(result.train_loss))
    return InvalidArgumentError(who + " reported a non-finite loss");
  return ValidateMetrics(result.metrics).WithContext(who);
}

namespace {

// ValidateFitResult, with or without the pass over the values (a plain sum checks them while
// folding).
Status ValidateFit(const FitResult& result, const Parameters& global, bool check_values) {
  const std::string who = "client " + std::to_string(result.client);
  FEDRA_RETURN_IF_ERROR(global.CheckSameLayout(result.update).WithContext(who + " update"));
  if (check_values) {
    FEDRA_RETURN_IF_ERROR(result.update.CheckFinite().WithContext(who + " update"));
  }
  for (const auto& [name, extra] : result.extras) {
    FEDRA_RETURN_IF_ERROR(global.CheckSameLayout(extra).WithContext(who + " " + name));
    if (check_values) FEDRA_RETURN_IF_ERROR(extra.CheckFinite().WithContext(who + " " + name));
  }
  return ValidateFitReport(result);
}

}  // namespace

Status ValidateFoldedResult(const FitResult& result, const Parameters& global,
                            const FoldSpec& spec) {
  const std::string who = "client " + std::to_string(result.client);
  if (!result.folded) return InvalidArgumentError(who + " sent no folded sums");
  if (result.update.size() > 0 || !result.extras.empty()) {
    return InvalidArgumentError(who + " sent folded sums and an update");
  }
  std::set<std::string> sums, scalars;
  for (const FoldVectorTerm& t : spec.vectors) sums.insert(t.sum);
  for (const FoldScalarTerm& t : spec.scalars) scalars.insert(t.name);
  scalars.insert(kSecureLossScalar);  // an edge's secure round carries its loss this way
  scalars.insert(kSecureExamplesScalar);
  scalars.insert(kTierPlannedScalar);  // every edge counts its clients (fedra/fl/tiers.h)
  scalars.insert(kTierAvailableScalar);
  if (result.folded->sums().empty()) return InvalidArgumentError(who + " sent no folded sum");
  for (const std::string& name : sums) {
    if (!result.folded->has(name)) {
      return InvalidArgumentError(who + " sent no sum '" + name + "', which the strategy folds");
    }
  }
  for (const auto& [name, sum] : result.folded->sums()) {
    if (!sums.contains(name)) {
      return InvalidArgumentError(who + " sent a sum '" + LogSafe(name, 64) +
                                  "' that the strategy does not fold");
    }
    FEDRA_RETURN_IF_ERROR(global.CheckSameLayout(sum).WithContext(who + " sum " + name));
  }
  for (const auto& [name, value] : result.folded->scalars()) {
    if (!scalars.contains(name)) {
      return InvalidArgumentError(who + " sent a scalar '" + LogSafe(name, 64) +
                                  "' that the strategy does not fold");
    }
    // Every fold weight (1, n, n/a, n*a) is non-negative, so every scalar sum is too.
    if (!(value >= 0) || !std::isfinite(value)) {
      return InvalidArgumentError(who + " scalar " + name + " is not a finite sum of weights");
    }
  }
  return ValidateFitReport(result);
}

Status ValidateFitResult(const FitResult& result, const Parameters& global) {
  return ValidateFit(result, global, /*check_values=*/true);
}

RoundDriver::RoundDriver(Strategy& strategy, ClientPool& pool, RoundDriverOptions options)
    : strategy_(strategy),
      pool_(pool),
      options_(std::move(options)),
      rng_(options_.seed),
      bound_(options_.influence) {}

StatusOr<Parameters> RoundDriver::Run(Parameters global, int first_round) {
  FEDRA_RETURN_IF_ERROR(global.CheckFinite().WithContext("initial parameters"));
  for (int round = first_round; round <= options_.num_rounds; ++round) {
    RoundMetrics m = RunRound(round, global);
    if (m.stop) {
      Logger("fl")->info("the strategy ended the run before round {}: {}", round, m.error);
      break;
    }
    if (!m.aggregated && m.fit_clients == 0) {
      return FailedPreconditionError("round " + std::to_string(round) + ": " + m.error);
    }
  }
  return global;
}

RoundMetrics RoundDriver::RunRound(int round, Parameters& global) {
  const auto start = std::chrono::steady_clock::now();
  RoundMetrics m;
  m.round = round;
  const Status fit = FitRound(round, global, m);
  m.aggregated = fit.ok();
  if (m.stop) {
    m.error = fit.ToString();
    return m;
  }
  if (!fit.ok()) {
    m.error = fit.ToString();
    Logger("fl")->warn("round {} failed, global model unchanged: {}", round,
                       LogSafe(m.error, 1024));
  }
  const bool last = round == options_.num_rounds;
  if (options_.evaluate_every > 0 && (round % options_.evaluate_every == 0 || last)) {
    EvaluateRound(round, global, m);
  }
  // The strategy's own figures (DP's epsilon, ...), bounded like any metrics map.
  const MetricMap report = strategy_.RoundReport();
  const Status report_ok = ValidateMetrics(report);
  if (report_ok.ok()) {
    for (const auto& [name, value] : report) m.extras[name] = value;
  } else {
    Logger("fl")->warn("round {}: the strategy's report is dropped: {}", round,
                       report_ok.ToString());
  }
  m.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (options_.on_round_end) options_.on_round_end(m);
  return m;
}

Status RoundDriver::CheckComposition() const {
  FEDRA_RETURN_IF_ERROR(ValidateInfluenceBoundOptions(options_.influence));
  const bool individual = strategy_.mode() == AggregationMode::kIndividual;
  SecureSum* secure = options_.secure_sum;
  const std::string pool_secure = pool_.secure_sum_name();
  if (secure && !pool_secure.empty()) {
    return FailedPreconditionError("the client pool already runs " + pool_secure +
                                   "; do not also set RoundDriverOptions::secure_sum");
  }
  if ((secure || !pool_secure.empty()) && individual) {
    return FailedPreconditionError("strategy " + strategy_.Name() +
                                   " needs every client's update, but " +
                                   (secure ? secure->Name() : pool_secure) +
                                   " only reveals their sum; choose a sum-based strategy "
                                   "(fedavg, fedprox, fedavgm, fedadam, ...)");
  }
  return OkStatus();
}

Status RoundDriver::CheckPlan(const RoundPlan& plan, const Parameters& global,
                              RoundMetrics& m) const {
  for (const FitTask& t : plan.tasks) {
    // A strategy's bug must not reach the clients: the open config is bounded here.
    FEDRA_RETURN_IF_ERROR(ValidateRoundConfig(t.config.extra)
                              .WithContext("strategy " + strategy_.Name() + ", round config"));
  }
  m.fit_clients = plan.tasks.size();
  if (plan.tasks.empty()) return FailedPreconditionError("the strategy selected no clients");
  m.bytes_down = plan.tasks.size() * (BytesOf(global) + BytesOf(plan.broadcast));
  return OkStatus();
}

Status RoundDriver::FitRound(int round, Parameters& global, RoundMetrics& m) {
  FEDRA_RETURN_IF_ERROR(CheckComposition());
  // A per-round stream: sampling in round r does not depend on earlier rounds, so a resumed
  // run samples exactly as an uninterrupted one.
  Rng rng = rng_.Split(static_cast<uint64_t>(round));
  const std::vector<ClientId> available = pool_.AvailableClients();
  StatusOr<RoundPlan> planned = strategy_.ConfigureFit(round, global, available, rng);
  if (!planned.ok()) {
    m.stop = planned.status().code() == StatusCode::kResourceExhausted;
    return planned.status();
  }
  RoundPlan plan = std::move(planned).value();
  plan.round = round;
  if (options_.client_lr_decay != LrSchedule::Decay::kConstant) {
    const LrSchedule decay{.peak = 1,
                           .total_steps = std::max(options_.num_rounds, 1),
                           .decay = options_.client_lr_decay};
    const double factor = LearningRateAt(decay, round - 1);
    for (FitTask& t : plan.tasks)
      t.config.learning_rate = static_cast<float>(t.config.learning_rate * factor);
  }
  FEDRA_RETURN_IF_ERROR(CheckPlan(plan, global, m));
  Collected c;
  FEDRA_RETURN_IF_ERROR(Collect(round, global, plan, m, c));
  AggregateInput input{.sums = &c.sums,
                       .results = c.kept,
                       .num_results = c.num_results,
                       .num_failures = m.fit_failures,
                       .spent_sums = &c.sums,
                       .max_tier_rate = c.max_tier_rate > 0 ? c.max_tier_rate : 1.0};
  return Aggregate(round, global, input);
}

StatusOr<RoundDriver::FoldedRound> RoundDriver::FoldRound(const RoundPlan& plan,
                                                          const Parameters& global,
                                                          RoundMetrics& m) {
  m.round = plan.round;
  if (strategy_.mode() != AggregationMode::kWeightedSum) {
    return FailedPreconditionError("strategy " + strategy_.Name() +
                                   " needs every client's update: it cannot fold a round");
  }
  FEDRA_RETURN_IF_ERROR(CheckComposition());
  FEDRA_RETURN_IF_ERROR(CheckPlan(plan, global, m));
  Collected c;
  FEDRA_RETURN_IF_ERROR(Collect(plan.round, global, plan, m, c));
  return FoldedRound{.sums = std::move(c.sums), .examples = static_cast<uint64_t>(c.examples)};
}

Status RoundDriver::Collect(int round, const Parameters& global, const RoundPlan& plan,
                            RoundMetrics& m, Collected& out) {
  const bool individual = strategy_.mode() == AggregationMode::kIndividual;
  SecureSum* secure = options_.secure_sum;
  if (!pool_.secure_sum_name().empty()) return SecurePoolRound(round, global, plan, m, out);
  if (pool_.folds_results() && !secure && !individual && !bound_.enabled()) {
    return FoldedPoolRound(round, global, plan, m, out);
  }
  if (secure) FEDRA_RETURN_IF_ERROR(secure->Begin(round));
  UpdateAccumulator& sums = out.sums;
  double loss_sum = 0, examples = 0;
  // A plain (not secure) sum checks the values while folding them: one read of each update.
  const bool fold_checked = !secure && !individual;
  // Folds (or keeps) one accepted, bounded result.
  auto take = [&](FitResult&& result) {
    if (result.folded) {
      if (!MergeChecked(round, result, sums, m)) return;
      m.bytes_up += BytesOf(result.folded->sums());
      CountTierClients(result, m);
      out.max_tier_rate = std::max(out.max_tier_rate, TierRate(*result.folded));
    } else {
      out.max_tier_rate = 1;  // a client of this server itself
      if (fold_checked && !FoldChecked(round, result.client, result, sums, m)) return;
      if (secure) {
        UpdateAccumulator mine;  // the client's own terms, formed where the client is
        strategy_.Fold(result, mine);
        const Status s = secure->Contribute(result.client, mine);
        if (!s.ok()) {
          ++m.fit_failures;
          Logger("fl")->warn("round {}: client {} contribution refused: {}", round, result.client,
                             LogSafe(s.ToString(), 512));
          return;
        }
      }
      m.bytes_up += BytesOf(result.update) + BytesOf(result.extras);
    }
    loss_sum += result.train_loss * static_cast<double>(result.num_examples);
    examples += static_cast<double>(result.num_examples);
    if (individual) out.kept.push_back(std::move(result));
  };
  // Without a reference for the influence bound yet, the first accepted results are held
  // until they can form one.
  internal::HeldResults held(bound_.options().calibration_memory_bytes, "");
  std::vector<InfluenceBound::Reported> held_reports;  // Measure() of each held result
  // `in_fit`: called from a result of the pool's RunFit, whose next upload may reuse memory;
  // after RunFit the pool has dropped its spare and must not be given one for the aggregation.
  auto release_held = [&](bool in_fit) {
    bound_.SetReference(held_reports);
    // The memory each result is read back into: the pool's spare (so that it is not held
    // twice), then the last update folded.
    Parameters spare = pool_.TakeRecycled();
    for (size_t i = 0; i < held.size(); ++i) {
      StatusOr<FitResult> r = held.Take(i, std::move(spare));
      spare = Parameters();
      if (!r.ok()) {
        ++m.fit_failures;
        Logger("fl")->warn("round {}: a held result was lost: {}", round, r.status().ToString());
        continue;
      }
      Bound(*r, held_reports[i], m);
      take(std::move(*r));
      if (!individual) spare = std::move(r->update);  // folded: take() read it in place
    }
    if (in_fit) pool_.Recycle(std::move(spare));
    held.Clear();
    held_reports.clear();
  };
  pool_.RunFit(global, plan, [&](size_t task, StatusOr<FitResult> result) {
    if (!Accept(round, plan, task, result, &global, !fold_checked, m)) return;
    // An aggregator's sums carry its own clients' bounded terms (docs/federated.md).
    if (bound_.enabled() && !result->folded) {
      InfluenceBound::Reported reported = InfluenceBound::Measure(*result);
      bound_.Observe(reported);
      if (!bound_.has_reference()) {
        Parameters freed;  // a spilled update's memory, for the next upload
        const Status spilled = held.Hold(std::move(result).value(), &freed);
        pool_.Recycle(std::move(freed));
        if (!spilled.ok()) {
          Logger("fl")->warn("round {}: holding a calibration result in memory: {}", round,
                             spilled.ToString());
        }
        held_reports.push_back(std::move(reported));
        if (held.size() >= bound_.calibration_results()) release_held(/*in_fit=*/true);
        return;
      }
      Bound(*result, reported, m);
    }
    take(std::move(result).value());
    if (!individual) pool_.Recycle(std::move(result->update));  // folded: read in place
  });
  if (held.size() > 0) release_held(/*in_fit=*/false);
  if (bound_.enabled()) bound_.EndRound();
  const size_t ok = m.fit_clients - m.fit_failures;
  if (examples > 0) m.train_loss = loss_sum / examples;
  FEDRA_RETURN_IF_ERROR(CheckFailures(m));
  out.num_results = ok;
  out.examples = examples;
  if (secure) {
    FEDRA_ASSIGN_OR_RETURN(SecureSum::Total total, secure->Finish());
    sums = std::move(total.sums);
    m.fit_failures += total.dropped;  // they trained, but the protocol lost them
    out.num_results = ok - std::min(ok, total.dropped);
  }
  return OkStatus();
}

// Validates one client's result (its update too when `global` is given, else only its report)
// and counts a failure with the reason in the log.
bool RoundDriver::Accept(int round, const RoundPlan& plan, size_t task,
                         const StatusOr<FitResult>& result, const Parameters* global,
                         bool check_values, RoundMetrics& m) const {
  Status s = !result.ok()     ? result.status()
             : result->folded ? AcceptFolded(*result, global)
             : global         ? ValidateFit(*result, *global, check_values)
                              : ValidateFitReport(*result);
  if (s.ok() && result->client != plan.tasks[task].client) {
    s = InvalidArgumentError("result for task " + std::to_string(task) + " names another client");
  }
  // A client that predates local steps trains whole epochs and says how many steps that was.
  const int asked = plan.tasks[task].config.local_steps;
  if (s.ok() && asked > 0 && !result->folded && result->local_steps > 0 &&
      result->local_steps != asked) {
    s = InvalidArgumentError("took " + std::to_string(result->local_steps) +
                             " local steps where the round asked for " + std::to_string(asked) +
                             " (a client that does not know local steps?)");
  }
  if (s.ok()) return true;
  ++m.fit_failures;
  Logger("fl")->warn("round {}: client {} failed: {}", round, plan.tasks[task].client,
                     LogSafe(s.ToString(), 512));
  return false;
}

bool RoundDriver::FoldChecked(int round, ClientId client, const FitResult& result,
                              UpdateAccumulator& sums, RoundMetrics& m) const {
  sums.BeginFold(VectorsOf(result));
  strategy_.Fold(result, sums);
  const Status s = sums.CommitFold();
  if (s.ok()) return true;
  ++m.fit_failures;
  Logger("fl")->warn("round {}: client {} failed: client {} update: {}", round, client, client,
                     LogSafe(s.ToString(), 512));
  return false;
}

Status RoundDriver::AcceptFolded(const FitResult& result, const Parameters* global) const {
  const std::string who = "client " + std::to_string(result.client);
  if (global == nullptr || options_.secure_sum != nullptr ||
      strategy_.mode() != AggregationMode::kWeightedSum) {
    return FailedPreconditionError(who +
                                   " sent folded sums (an aggregator's), which only a plain "
                                   "round of a sum-based strategy takes");
  }
  const std::optional<FoldSpec> spec = strategy_.fold_spec();
  if (!spec) {
    return FailedPreconditionError(who + " sent folded sums, but strategy " + strategy_.Name() +
                                   " has no fold spec to check them against");
  }
  return ValidateFoldedResult(result, *global, *spec);
}

bool RoundDriver::MergeChecked(int round, const FitResult& result, UpdateAccumulator& sums,
                               RoundMetrics& m) const {
  sums.BeginFold(VectorsOf(result));
  for (const auto& [name, sum] : result.folded->sums()) sums.Add(name, 1.0f, sum);
  for (const auto& [name, value] : result.folded->scalars()) sums.AddScalar(name, value);
  const Status s = sums.CommitFold();
  if (s.ok()) return true;
  ++m.fit_failures;
  Logger("fl")->warn("round {}: client {} failed: its folded sums: {}", round, result.client,
                     LogSafe(s.ToString(), 512));
  return false;
}

void RoundDriver::Bound(FitResult& result, const InfluenceBound::Reported& reported,
                        RoundMetrics& m) const {
  const BoundReport r = bound_.Apply(result, reported);
  if (r.weight_capped) m.extras["influence_weight_capped"] += 1;
  if (r.norm_clipped) m.extras["influence_norm_clipped"] += 1;
}

Status RoundDriver::CheckFailures(const RoundMetrics& m) const {
  if (m.fit_failures >= m.fit_clients) return UnavailableError("every selected client failed");
  if (static_cast<double>(m.fit_failures) >
      options_.max_failure_fraction * static_cast<double>(m.fit_clients)) {
    return UnavailableError(std::to_string(m.fit_failures) + " of " +
                            std::to_string(m.fit_clients) +
                            " clients failed, more than the tolerated fraction " +
                            std::to_string(options_.max_failure_fraction));
  }
  return OkStatus();
}

Status RoundDriver::Aggregate(int round, Parameters& global, const AggregateInput& input) {
  FEDRA_ASSIGN_OR_RETURN(Parameters next, strategy_.AggregateFit(round, global, input));
  FEDRA_RETURN_IF_ERROR(global.CheckSameLayout(next).WithContext("aggregated model"));
  FEDRA_RETURN_IF_ERROR(next.CheckFinite().WithContext("aggregated model"));
  global = std::move(next);
  return OkStatus();
}

// The pool runs the protocol with its clients; only reports and the protocol's total come here.
Status RoundDriver::SecurePoolRound(int round, const Parameters& global, const RoundPlan& plan,
                                    RoundMetrics& m, Collected& out) {
  const auto max_losses = static_cast<size_t>(
      std::floor(options_.max_failure_fraction * static_cast<double>(m.fit_clients)));
  auto total = pool_.RunSecureFit(global, plan, std::min(max_losses, m.fit_clients - 1),
                                  [&](size_t task, StatusOr<FitResult> result) {
                                    Accept(round, plan, task, result, nullptr, true, m);
                                  });
  if (!total.ok()) return total.status();
  m.fit_failures += total->dropped;  // they trained, but the protocol lost them
  m.bytes_up = total->bytes_up;
  const double examples = total->sums.scalar(kSecureExamplesScalar);
  if (examples > 0) m.train_loss = total->sums.scalar(kSecureLossScalar) / examples;
  FEDRA_RETURN_IF_ERROR(CheckFailures(m));
  out.examples = examples;
  out.sums = std::move(total->sums);
  out.num_results = m.fit_clients - m.fit_failures;
  return OkStatus();
}

// The pool folds where the clients train (fl/fold_tree.h); the driver gives it the fold.
Status RoundDriver::FoldedPoolRound(int round, const Parameters& global, const RoundPlan& plan,
                                    RoundMetrics& m, Collected& out) {
  RoundMetrics scratch;  // failures are counted by the pool, which may span processes
  auto fold = [&](size_t task, StatusOr<FitResult> result, UpdateAccumulator& sums) {
    if (!Accept(round, plan, task, result, &global, /*check_values=*/false, scratch)) return false;
    if (result->folded) {  // the simulation's clients are not aggregators
      Logger("fl")->warn("round {}: client {} failed: a simulated client sent folded sums", round,
                         result->client);
      return false;
    }
    const double n = static_cast<double>(result->num_examples);
    sums.BeginFold(VectorsOf(*result));
    strategy_.Fold(*result, sums);
    sums.AddScalar(kSecureLossScalar, result->train_loss * n);
    sums.AddScalar(kSecureExamplesScalar, n);
    const Status s = sums.CommitFold();
    if (s.ok()) return true;
    Logger("fl")->warn("round {}: client {} failed: client {} update: {}", round, result->client,
                       result->client, LogSafe(s.ToString(), 512));
    return false;
  };
  FEDRA_ASSIGN_OR_RETURN(ClientPool::FoldedFit total, pool_.RunFoldedFit(global, plan, fold));
  m.fit_failures += total.failures;
  m.bytes_up = total.bytes_up;
  const double examples = total.sums.scalar(kSecureExamplesScalar);
  if (examples > 0) m.train_loss = total.sums.scalar(kSecureLossScalar) / examples;
  FEDRA_RETURN_IF_ERROR(CheckFailures(m));
  out.examples = examples;
  out.sums = std::move(total.sums);
  out.num_results = m.fit_clients - m.fit_failures;
  return OkStatus();
}

void RoundDriver::EvaluateRound(int round, const Parameters& global, RoundMetrics& m) {
  Rng rng = rng_.Split(static_cast<uint64_t>(round)).Split(0xe7a1);
  auto tasks = strategy_.ConfigureEvaluate(round, global, pool_.AvailableClients(), rng);
  if (tasks.ok()) {
    for (const EvaluateTask& t : *tasks) {
      Status valid = ValidateRoundConfig(t.extra);
      if (!valid.ok()) {
        tasks = valid.WithContext("strategy " + strategy_.Name() + ", evaluation config");
        Logger("fl")->warn("round {}: no federated evaluation: {}", round,
                           tasks.status().ToString());
        break;
      }
    }
  }
  if (tasks.ok() && !tasks->empty()) {
    std::vector<EvaluateResult> results;
    pool_.RunEvaluate(global, *tasks, [&](size_t, StatusOr<EvaluateResult> r) {
      if (r.ok() && std::isfinite(r->loss) && r->num_examples > 0) results.push_back(*r);
    });
    if (!results.empty()) {
      const EvaluateResult summary = strategy_.AggregateEvaluate(round, results);
      m.eval_clients = results.size();
      m.eval_loss = summary.loss;
      m.eval_accuracy = summary.accuracy;
      for (const auto& [name, value] : summary.metrics) {
        if (std::isfinite(value)) m.extras["eval_" + name] = value;
      }
    }
  }
  if (options_.server_evaluate) {
    auto eval = options_.server_evaluate(round, global);
    if (eval.ok()) {
      m.server_eval_loss = eval->loss;
      m.server_eval_accuracy = eval->accuracy;
    } else {
      Logger("fl")->warn("round {}: server-side evaluation failed: {}", round,
                         eval.status().ToString());
    }
  }
}

}  // namespace fedra
