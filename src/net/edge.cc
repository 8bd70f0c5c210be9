#include "fedra/net/edge.h"

#include <cmath>
#include <vector>

namespace fedra {

EdgeTrainer::EdgeTrainer(Strategy& strategy, ClientPool& pool, EdgeOptions options)
    : strategy_(strategy),
      pool_(pool),
      o_(std::move(options)),
      driver_(strategy, pool, o_.driver) {}

StatusOr<FitResult> EdgeTrainer::Fit(const Parameters& global, const FitConfig& config,
                                     const std::map<std::string, Parameters>& broadcast, Rng& rng) {
  if (o_.before_round) FEDRA_RETURN_IF_ERROR(o_.before_round());
  const int round = ++round_;
  FEDRA_ASSIGN_OR_RETURN(RoundPlan plan,
                         strategy_.ConfigureFit(round, global, pool_.AvailableClients(), rng));
  // The edge chooses who trains; the upper server says how (learning rate, proximal term,
  // SCAFFOLD's control, DP clipping and noise on each client).
  for (FitTask& t : plan.tasks) t.config = config;
  plan.broadcast = broadcast;
  plan.round = round;
  RoundMetrics m;
  auto folded = driver_.FoldRound(plan, global, m);
  m.aggregated = folded.ok();
  if (!folded.ok()) m.error = folded.status().ToString();
  if (o_.on_round) o_.on_round(m);
  if (!folded.ok()) return folded.status().WithContext("edge round " + std::to_string(round));
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
