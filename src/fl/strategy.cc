#include "fedra/fl/strategy.h"

#include <algorithm>
#include <cmath>

namespace fedra {

Parameters AggregateInput::TakeSum(const std::string& name) const {
  if (spent_sums && spent_sums == sums) return spent_sums->Take(name);
  return sums->sum(name);
}

void Strategy::Fold(const FitResult& result, UpdateAccumulator& acc) const {
  const auto n = static_cast<float>(result.num_examples);
  acc.Add("update", n, result.update);
  acc.AddScalar("weight", static_cast<double>(result.num_examples));
}

StatusOr<std::vector<ClientId>> SampleClients(std::span<const ClientId> available, double fraction,
                                              size_t min_clients, size_t min_available, Rng& rng) {
  const size_t needed = std::max(min_clients, min_available);
  if (available.size() < needed) {
    return FailedPreconditionError(std::to_string(available.size()) +
                                   " clients available, need at least " + std::to_string(needed));
  }
  auto n = static_cast<size_t>(std::ceil(fraction * static_cast<double>(available.size())));
  n = std::min(available.size(), std::max(n, min_clients));
  std::vector<ClientId> chosen;
  chosen.reserve(n);
  for (size_t i : rng.SampleWithoutReplacement(available.size(), n)) chosen.push_back(available[i]);
  std::sort(chosen.begin(), chosen.end());
  return chosen;
}

StatusOr<RoundPlan> PlanFitRound(const SamplingOptions& sampling, const FitConfig& fit,
                                 std::span<const ClientId> available, Rng& rng) {
  FEDRA_ASSIGN_OR_RETURN(auto clients,
                         SampleClients(available, sampling.fraction_fit, sampling.min_fit_clients,
                                       sampling.min_available_clients, rng));
  RoundPlan plan;
  plan.tasks.reserve(clients.size());
  for (ClientId c : clients) plan.tasks.push_back({c, fit});
  return plan;
}

StatusOr<std::vector<EvaluateTask>> SampleEvaluateTasks(std::span<const ClientId> available,
                                                        const SamplingOptions& options, Rng& rng) {
  std::vector<EvaluateTask> tasks;
  if (options.fraction_evaluate <= 0.0) return tasks;
  FEDRA_ASSIGN_OR_RETURN(auto clients, SampleClients(available, options.fraction_evaluate,
                                                     options.min_evaluate_clients,
                                                     options.min_available_clients, rng));
  for (ClientId c : clients) tasks.push_back({.client = c});
  return tasks;
}

EvaluateResult WeightedEvaluation(std::span<const EvaluateResult> results) {
  EvaluateResult out;
  double loss = 0, acc = 0;
  for (const EvaluateResult& r : results) {
    out.num_examples += r.num_examples;
    loss += r.loss * static_cast<double>(r.num_examples);
    acc += r.accuracy * static_cast<double>(r.num_examples);
  }
  if (out.num_examples > 0) {
    const auto n = static_cast<double>(out.num_examples);
    out.loss = loss / n;
    out.accuracy = acc / n;
    // A metric only some clients report would be a biased mean: only common ones are kept.
    if (!results.empty()) {
      for (const auto& [name, unused] : results.front().metrics) {
        double sum = 0;
        bool everywhere = true;
        for (const EvaluateResult& r : results) {
          auto it = r.metrics.find(name);
          if (it == r.metrics.end()) {
            everywhere = false;
            break;
          }
          sum += it->second * static_cast<double>(r.num_examples);
        }
        if (everywhere) out.metrics[name] = sum / n;
      }
    }
  }
  return out;
}

}  // namespace fedra
