#include "apps/strategy_flags.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>

#include "fedra/core/logging.h"
#include "fedra/privacy/dp/calibration.h"

namespace fedra::apps {

// --dp-noise-multiplier 0: the smallest z whose epsilon after all rounds stays within
// --dp-target-epsilon, at the sampling rate the strategy will use (1 in local mode).
Status CalibrateDpNoise(StrategyConfig& config, size_t clients, int rounds) {
  DpOptions& dp = config.dp;
  if (dp.mode == DpMode::kNone || dp.noise_multiplier != 0) return OkStatus();
  if (!(dp.target_epsilon > 0))
    return InvalidArgumentError("--dp-noise-multiplier 0 needs --dp-target-epsilon > 0");
  const double n = static_cast<double>(clients);
  double q = std::max(std::ceil(config.base.sampling.fraction_fit * n),
                      static_cast<double>(config.base.sampling.min_fit_clients)) /
             n;
  if (dp.mode == DpMode::kLocal) q = 1;
  FEDRA_ASSIGN_OR_RETURN(dp.noise_multiplier,
                         dp::CalibrateNoiseMultiplier(dp::AccountantKind::kRdp, dp.target_epsilon,
                                                      dp.delta, std::min(q, 1.0), rounds));
  Logger("dp")->info(
      "DP: noise multiplier {:.4f} keeps epsilon <= {} (delta {}) over {} "
      "rounds at q = {:.4f}",
      dp.noise_multiplier, dp.target_epsilon, dp.delta, rounds, q);
  return OkStatus();
}

Status CheckRobustnessPreconditions(const StrategyConfig& config, size_t clients) {
  const bool krum = config.name == "krum" || config.name == "multikrum";
  if (config.num_byzantine > 0 && !krum) {
    return InvalidArgumentError("--byzantine only applies to krum and multikrum (strategy " +
                                config.name + ")");
  }
  if (!krum) return OkStatus();
  // Clients trained every round at the least: what the sampling guarantees with `clients`.
  const auto& s = config.base.sampling;
  const size_t per_round = std::min(
      clients,
      std::max(s.min_fit_clients,
               static_cast<size_t>(std::ceil(s.fraction_fit * static_cast<double>(clients)))));
  const size_t f = config.num_byzantine;
  const size_t selected =
      config.name == "krum" ? 1 : (config.krum_selected > 0 ? config.krum_selected : 2);
  const size_t needed = std::max(2 * f + 3, selected);
  if (per_round < needed) {
    return InvalidArgumentError(
        config.name + " with --byzantine " + std::to_string(f) + " needs at least " +
        std::to_string(needed) + " results per round (more than 2f + 2" +
        (selected > 1 ? std::string(", and --krum-selected ") + std::to_string(selected) : "") +
        "), but this configuration trains only " + std::to_string(per_round) + " of " +
        std::to_string(clients) +
        " clients per round: no round could aggregate (raise the client count, --fraction-fit "
        "or --min-fit-clients, or lower --byzantine)");
  }
  return OkStatus();
}

void AddStrategyFlags(CLI::App& app, StrategyConfig& s) {
  app.add_option("--strategy", s.name,
                 "fedavg, fedprox, fedavgm, fedadam, fedyogi, fedadagrad, fedmedian, "
                 "fedtrimmedavg, krum, multikrum, scaffold or fednova")
      ->capture_default_str();
  app.add_option("--fraction-fit", s.base.sampling.fraction_fit,
                 "fraction of clients training each round")
      ->capture_default_str();
  app.add_option("--min-fit-clients", s.base.sampling.min_fit_clients, "at least this many train")
      ->capture_default_str();
  app.add_option("--fraction-evaluate", s.base.sampling.fraction_evaluate,
                 "fraction of clients evaluating each round (needs --local-test-fraction)")
      ->capture_default_str();
  app.add_option("--epochs", s.base.fit.epochs, "local epochs per round")->capture_default_str();
  app.add_option("--local-steps", s.base.fit.local_steps,
                 "> 0: local optimizer steps per round instead of --epochs passes")
      ->capture_default_str();
  app.add_option("--batch-size", s.base.fit.batch_size, "local batch size")->capture_default_str();
  app.add_option("--lr", s.base.fit.learning_rate, "local SGD learning rate")
      ->capture_default_str();
  app.add_option("--momentum", s.base.fit.momentum, "local SGD momentum")->capture_default_str();
  app.add_option("--weight-decay", s.base.fit.weight_decay,
                 "local weight decay (L2 for sgd, decoupled for adamw)")
      ->capture_default_str();
  app.add_option("--local-optimizer", s.base.fit.optimizer, "local optimizer: sgd, adam or adamw")
      ->check(CLI::IsMember({"sgd", "adam", "adamw"}))
      ->capture_default_str();
  app.add_option("--lr-decay", s.client_lr_decay,
                 "decay the local learning rate over the rounds: constant, linear or cosine")
      ->check(CLI::IsMember({"constant", "linear", "cosine"}))
      ->capture_default_str();
  app.add_option("--max-grad-norm", s.base.fit.max_grad_norm,
                 "clip each local gradient to this L2 norm (0: off)")
      ->capture_default_str();
  app.add_option("--mu", s.proximal_mu, "FedProx proximal coefficient")->capture_default_str();
  app.add_option("--server-lr", s.server_learning_rate, "server learning rate (fedavgm, scaffold)")
      ->capture_default_str();
  app.add_option("--server-momentum", s.server_momentum, "server momentum (fedavgm)")
      ->capture_default_str();
  app.add_option("--eta", s.adaptive.eta, "server learning rate (fedadam, fedyogi, fedadagrad)")
      ->capture_default_str();
  app.add_option("--beta1", s.adaptive.beta1, "server first-moment decay")->capture_default_str();
  app.add_option("--beta2", s.adaptive.beta2, "server second-moment decay")->capture_default_str();
  app.add_option("--tau", s.adaptive.tau, "server adaptivity (fedadam, fedyogi, fedadagrad)")
      ->capture_default_str();
  app.add_option("--trim-beta", s.trim_beta, "fraction trimmed from each end (fedtrimmedavg)")
      ->capture_default_str();
  app.add_option("--byzantine", s.num_byzantine, "tolerated Byzantine clients f (krum, multikrum)")
      ->capture_default_str();
  app.add_option("--krum-selected", s.krum_selected, "updates averaged by multikrum")
      ->capture_default_str();
  AddDpFlags(app, s.dp);
}

void AddInfluenceFlags(CLI::App& app, InfluenceBoundOptions& bound) {
  const std::map<std::string, bool> on_off = {{"on", true}, {"off", false}};
  app.add_option("--influence-bound", bound.enabled,
                 "cap each result's example count and update norm at a factor of the round's "
                 "median (plain rounds), so no single client owns the model: on or off")
      ->transform(CLI::CheckedTransformer(on_off))
      ->default_str(bound.enabled ? "on" : "off");
  app.add_option("--influence-weight-factor", bound.weight_factor,
                 "influence bound: largest example count (and local steps) as a multiple of "
                 "the median")
      ->capture_default_str();
  app.add_option("--influence-norm-factor", bound.norm_factor,
                 "influence bound: largest update L2 norm as a multiple of the median")
      ->capture_default_str();
  app.add_option("--influence-calibration", bound.calibration_results,
                 "influence bound: results held in the first round to find the medians")
      ->capture_default_str();
  app.add_option_function<size_t>(
         "--influence-calibration-memory-mb",
         [&bound](size_t mb) { bound.calibration_memory_bytes = mb << 20; },
         "influence bound: memory for the held results; the rest wait in a temporary file in "
         "$TMPDIR (else /tmp)")
      ->check(CLI::Range(size_t{0}, size_t{1} << 30))
      ->default_str(std::to_string(bound.calibration_memory_bytes >> 20));
}

void AddDpFlags(CLI::App& app, DpOptions& dp) {
  const std::map<std::string, DpMode> modes = {{"none", DpMode::kNone},
                                               {"central", DpMode::kCentral},
                                               {"local", DpMode::kLocal},
                                               {"distributed", DpMode::kDistributed}};
  app.add_option("--dp-mode", dp.mode,
                 "differential privacy: none, central (server noise), local (each client "
                 "noises its update) or distributed (clients add shares of the central noise)")
      ->transform(CLI::CheckedTransformer(modes))
      ->default_str("none");
  app.add_option("--dp-clip", dp.clip_norm, "DP L2 clip norm C (initial C if adaptive)")
      ->capture_default_str();
  app.add_option("--dp-noise-multiplier", dp.noise_multiplier,
                 "DP noise multiplier z (noise stddev = z C); 0: calibrate from "
                 "--dp-target-epsilon over all rounds")
      ->capture_default_str();
  app.add_flag("--dp-clip-on-client", dp.clip_on_client,
               "central DP: clients clip (as secure aggregation needs) instead of the server");
  app.add_option("--dp-adaptive-quantile", dp.adaptive_quantile,
                 "adaptive clipping: target quantile of update norms in (0, 1) (0: fixed C)")
      ->capture_default_str();
  app.add_option("--dp-adaptive-lr", dp.adaptive_learning_rate,
                 "adaptive clipping: geometric learning rate of the clip norm")
      ->capture_default_str();
  app.add_option("--dp-adaptive-count-stddev", dp.adaptive_count_stddev,
                 "adaptive clipping: noise stddev on the clipped count (0: clients / 20)")
      ->capture_default_str();
  app.add_option("--dp-target-epsilon", dp.target_epsilon,
                 "DP budget: stop or warn when epsilon would exceed it (0: no budget)")
      ->capture_default_str();
  app.add_option("--dp-delta", dp.delta, "DP delta for the reported epsilon")
      ->capture_default_str();
  const std::map<std::string, DpBudgetAction> actions = {{"stop", DpBudgetAction::kStop},
                                                         {"warn", DpBudgetAction::kWarn}};
  app.add_option("--dp-budget-action", dp.budget_action,
                 "when the DP budget is spent: stop the run or warn and go on")
      ->transform(CLI::CheckedTransformer(actions))
      ->default_str("stop");
  app.add_option_function<uint64_t>(
      "--dp-seed", [&dp](const uint64_t& seed) { dp.seed = seed; },
      "seed the server's DP noise (reproducible experiments only; default: OpenSSL RAND)");
}

LrSchedule::Decay ClientLrDecay(const StrategyConfig& config) {
  if (config.client_lr_decay == "linear") return LrSchedule::Decay::kLinear;
  if (config.client_lr_decay == "cosine") return LrSchedule::Decay::kCosine;
  return LrSchedule::Decay::kConstant;
}

}  // namespace fedra::apps
