// SCAFFOLD (Karimireddy et al., ICML 2020), server side of Algorithm 1:
//   x <- x + eta_g * (1/|S|) sum_i dy_i,   c <- c + (|S| / N) * (1/|S|) sum_i dc_i.
// The second line simplifies to c += sum_i dc_i / N, which is what is computed.
#include "fedra/fl/scaffold.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

namespace fedra {
namespace {

constexpr char kControl[] = "control";
constexpr char kControlDelta[] = "control_delta";

class Scaffold final : public Strategy {
 public:
  explicit Scaffold(const ScaffoldOptions& options) : options_(options) {}

  std::string Name() const override { return "scaffold"; }
  AggregationMode mode() const override { return AggregationMode::kWeightedSum; }

  StatusOr<RoundPlan> ConfigureFit(int, const Parameters& global,
                                   std::span<const ClientId> available, Rng& rng) override {
    const size_t total = options_.num_total_clients;
    if (total > 0 && available.size() > total) {
      return FailedPreconditionError(
          std::to_string(available.size()) +
          " clients available, more than num_total_clients = " + std::to_string(total));
    }
    FEDRA_ASSIGN_OR_RETURN(Parameters control, ControlLike(global));
    FEDRA_ASSIGN_OR_RETURN(RoundPlan plan,
                           PlanFitRound(options_.base.sampling, options_.base.fit, available, rng));
    for (FitTask& task : plan.tasks) task.config.scaffold = true;
    plan.broadcast.emplace(kControl, std::move(control));
    num_available_ = available.size();
    return plan;
  }

  // Folds only results that carry a control delta of the update's layout; any other result is
  // counted under scalar "rejected" and left out of both means (values were validated by the
  // driver).
  void Fold(const FitResult& result, UpdateAccumulator& acc) const override {
    auto it = result.extras.find(kControlDelta);
    if (it == result.extras.end() || !it->second.SameLayout(result.update)) {
      acc.AddScalar("rejected", 1);
      return;
    }
    acc.Add("update", 1.0f, result.update);
    acc.Add(kControlDelta, 1.0f, it->second);
    acc.AddScalar("count", 1);
  }

  std::optional<FoldSpec> fold_spec() const override {
    return FoldSpec{.vectors = {{"update", "update", FoldWeight::kOne},
                                {kControlDelta, kControlDelta, FoldWeight::kOne}},
                    .scalars = {{"count", FoldWeight::kOne}}};
  }

  StatusOr<Parameters> AggregateFit(int, const Parameters& global,
                                    const AggregateInput& in) override {
    if (in.sums == nullptr) return FailedPreconditionError("SCAFFOLD aggregates sums, got none");
    const UpdateAccumulator& sums = *in.sums;
    const double count = sums.scalar("count");
    if (!(count > 0) || !sums.has("update") || !sums.has(kControlDelta)) {
      return FailedPreconditionError(
          "no SCAFFOLD result carried extras[\"control_delta\"] with the layout of its update (" +
          std::to_string(static_cast<size_t>(sums.scalar("rejected"))) + " rejected)");
    }
    FEDRA_RETURN_IF_ERROR(global.CheckSameLayout(sums.sum("update")).WithContext("update sum"));
    FEDRA_RETURN_IF_ERROR(
        global.CheckSameLayout(sums.sum(kControlDelta)).WithContext("control delta sum"));
    FEDRA_ASSIGN_OR_RETURN(const double n_total, NumClients(count));
    FEDRA_ASSIGN_OR_RETURN(Parameters control, ControlLike(global));

    Parameters next = global;
    next.Axpy(static_cast<float>(options_.server_learning_rate / count), sums.sum("update"));
    control.Axpy(static_cast<float>(1.0 / n_total), sums.sum(kControlDelta));
    control_.assign(control.span().begin(), control.span().end());
    return next;
  }

  StatusOr<std::vector<EvaluateTask>> ConfigureEvaluate(int, const Parameters&,
                                                        std::span<const ClientId> available,
                                                        Rng& rng) override {
    return SampleEvaluateTasks(available, options_.base.sampling, rng);
  }

  StrategyState ExportState() const override {
    StrategyState state;
    state.vectors[kControl] = control_;
    state.scalars["num_clients"] = static_cast<double>(num_available_);
    return state;
  }

  Status ImportState(const StrategyState& state) override;

 private:
  // N of the paper: the configured total, else the clients available in the last ConfigureFit.
  StatusOr<double> NumClients(double count) const {
    const size_t n = options_.num_total_clients > 0 ? options_.num_total_clients : num_available_;
    if (n == 0) {
      return FailedPreconditionError(
          "SCAFFOLD needs the number of clients N: set num_total_clients or call ConfigureFit");
    }
    if (count > static_cast<double>(n)) {
      return FailedPreconditionError(std::to_string(static_cast<size_t>(count)) +
                                     " SCAFFOLD results exceed N = " + std::to_string(n));
    }
    return static_cast<double>(n);
  }

  // The control variate c with the layout of `global` (zeros before the first aggregation).
  StatusOr<Parameters> ControlLike(const Parameters& global) const {
    Parameters c = Parameters::ZerosLike(global);
    if (control_.empty()) return c;
    if (control_.size() != c.size()) {
      return FailedPreconditionError("SCAFFOLD control variate has " +
                                     std::to_string(control_.size()) + " values, the model " +
                                     std::to_string(c.size()));
    }
    std::copy(control_.begin(), control_.end(), c.data());
    return c;
  }

  ScaffoldOptions options_;
  std::vector<float> control_;  // c, flat; empty means zeros
  size_t num_available_ = 0;    // available clients seen by the last ConfigureFit
};

Status Scaffold::ImportState(const StrategyState& state) {
  auto it = state.vectors.find(kControl);
  if (it == state.vectors.end() || state.vectors.size() != 1) {
    return InvalidArgumentError("SCAFFOLD state must hold exactly the vector 'control'");
  }
  for (float v : it->second) {
    if (!std::isfinite(v)) return InvalidArgumentError("SCAFFOLD control variate is not finite");
  }
  auto n = state.scalars.find("num_clients");
  if (n == state.scalars.end() || !(n->second >= 0) || n->second != std::floor(n->second) ||
      n->second > 1e15) {
    return InvalidArgumentError("SCAFFOLD state needs a whole, non-negative 'num_clients'");
  }
  control_ = it->second;
  num_available_ = static_cast<size_t>(n->second);
  return OkStatus();
}

}  // namespace

StatusOr<std::unique_ptr<Strategy>> NewScaffold(const ScaffoldOptions& options) {
  FEDRA_RETURN_IF_ERROR(ValidateFedAvgOptions(options.base));
  if (options.base.fit.optimizer != "sgd")
    return InvalidArgumentError(
        "SCAFFOLD's control variates assume SGD steps: it needs "
        "--local-optimizer sgd");
  const float lr = options.server_learning_rate;
  if (!std::isfinite(lr) || !(lr > 0)) {
    return InvalidArgumentError("SCAFFOLD server learning rate must be finite and > 0, got " +
                                std::to_string(lr));
  }
  return std::unique_ptr<Strategy>(std::make_unique<Scaffold>(options));
}

}  // namespace fedra
