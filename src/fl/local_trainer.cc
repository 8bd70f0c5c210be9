#include "fedra/fl/local_trainer.h"

#include <cmath>

#include "fedra/privacy/dp/clipping.h"
#include "fedra/privacy/dp/gaussian_noise.h"

namespace fedra {
namespace {

Status CheckDpConfig(const FitConfig& c) {
  if (!(c.clip_norm >= 0) || !std::isfinite(c.clip_norm))
    return InvalidArgumentError("DP clip norm must be finite and >= 0 (0: off)");
  if (!(c.noise_stddev >= 0) || !std::isfinite(c.noise_stddev))
    return InvalidArgumentError("DP noise stddev must be finite and >= 0 (0: off)");
  return OkStatus();
}

Status CheckFinite(const Parameters& p, const std::string& what) {
  const Status finite = p.CheckFinite();
  if (finite.ok()) return finite;
  return FailedPreconditionError(what + " holds NaN or Inf: " + finite.message());
}

// A trainer is user code: its result is checked before any privacy stage or transport sees it.
Status CheckTrainerResult(const FitResult& r, const Parameters& global) {
  if (r.folded) {
    // An aggregator's trainer (net/edge.h): its clients clipped and noised their own updates.
    if (r.update.size() > 0 || !r.extras.empty())
      return FailedPreconditionError("the trainer returned folded sums and an update");
    for (const auto& [name, sum] : r.folded->sums()) {
      FEDRA_RETURN_IF_ERROR(
          global.CheckSameLayout(sum).WithContext("the trainer's folded sum '" + name + "'"));
      FEDRA_RETURN_IF_ERROR(CheckFinite(sum, "the trainer's folded sum '" + name + "'"));
    }
  } else {
    FEDRA_RETURN_IF_ERROR(global.CheckSameLayout(r.update).WithContext("the trainer's update"));
    FEDRA_RETURN_IF_ERROR(CheckFinite(r.update, "the trainer's update"));
    for (const auto& [name, extra] : r.extras) {
      FEDRA_RETURN_IF_ERROR(
          global.CheckSameLayout(extra).WithContext("the trainer's extra '" + name + "'"));
      FEDRA_RETURN_IF_ERROR(CheckFinite(extra, "the trainer's extra '" + name + "'"));
    }
  }
  if (r.num_examples == 0) return FailedPreconditionError("the trainer trained on no examples");
  if (!std::isfinite(r.train_loss))
    return FailedPreconditionError("the trainer reported a non-finite loss");
  return ValidateMetrics(r.metrics).WithContext("the trainer's metrics");
}

// The client's DP stage, last before the update leaves: report the raw norm, clip, noise.
// Noise comes from a generator keyed by OpenSSL RAND, never from the experiment's Rng.
Status ApplyClientDp(const FitConfig& c, FitResult& result) {
  result.metrics["update_norm"] = result.update.L2Norm();
  if (c.clip_norm > 0) dp::ClipL2(result.update, c.clip_norm);
  if (c.noise_stddev > 0) {
    FEDRA_ASSIGN_OR_RETURN(auto noise, dp::GaussianNoise::FromOsEntropy());
    noise.AddTo(result.update, c.noise_stddev);
  }
  return OkStatus();
}

}  // namespace

StatusOr<FitResult> ModelTrainer::Fit(const Parameters& global, const FitConfig& config,
                                      const std::map<std::string, Parameters>& broadcast,
                                      Rng& rng) {
  return RunLocalFit(model_, loss_, train_, global, config, broadcast, state_, rng);
}

StatusOr<EvaluateResult> ModelTrainer::Evaluate(const Parameters& global,
                                                const EvaluateTask& task) {
  if (test_.size() == 0) return FailedPreconditionError("this client has no local test data");
  return RunLocalEvaluate(model_, loss_, test_, global, std::max(1, task.batch_size));
}

namespace {

// A trainer that ignores local_steps (one written before it existed) would train whole epochs
// where the round asked for a few steps: refused rather than sent.
Status CheckLocalSteps(const FitConfig& config, const FitResult& result) {
  if (config.local_steps == 0 || result.folded || result.num_examples == 0) return OkStatus();
  if (result.local_steps == config.local_steps) return OkStatus();
  return FailedPreconditionError("the trainer took " + std::to_string(result.local_steps) +
                                 " local steps where the round asked for " +
                                 std::to_string(config.local_steps) +
                                 " (a LocalTrainer honours FitConfig::local_steps or refuses it)");
}

}  // namespace

StatusOr<FitResult> RunClientFit(LocalTrainer& trainer, const Parameters& global,
                                 const FitConfig& config,
                                 const std::map<std::string, Parameters>& broadcast, Rng& rng) {
  FEDRA_RETURN_IF_ERROR(CheckDpConfig(config));
  FEDRA_RETURN_IF_ERROR(ValidateRoundConfig(config.extra));
  FEDRA_ASSIGN_OR_RETURN(FitResult result, trainer.Fit(global, config, broadcast, rng));
  FEDRA_RETURN_IF_ERROR(CheckTrainerResult(result, global));
  FEDRA_RETURN_IF_ERROR(CheckLocalSteps(config, result));
  if (!result.folded) FEDRA_RETURN_IF_ERROR(ApplyClientDp(config, result));
  return result;
}

StatusOr<EvaluateResult> RunClientEvaluate(LocalTrainer& trainer, const Parameters& global,
                                           const EvaluateTask& task) {
  FEDRA_RETURN_IF_ERROR(ValidateRoundConfig(task.extra));
  FEDRA_ASSIGN_OR_RETURN(EvaluateResult r, trainer.Evaluate(global, task));
  if (r.num_examples == 0) return FailedPreconditionError("the trainer evaluated no examples");
  if (!std::isfinite(r.loss) || !(r.accuracy >= 0 && r.accuracy <= 1))
    return FailedPreconditionError(
        "the trainer's evaluation needs a finite loss and accuracy in [0, 1]");
  FEDRA_RETURN_IF_ERROR(ValidateMetrics(r.metrics).WithContext("the trainer's metrics"));
  return r;
}

}  // namespace fedra
