#include "fedra/fl/strategy_config.h"

#include "fedra/fl/fed_adagrad.h"
#include "fedra/fl/fed_adam.h"
#include "fedra/fl/fed_avg_m.h"
#include "fedra/fl/fed_median.h"
#include "fedra/fl/fed_nova.h"
#include "fedra/fl/fed_prox.h"
#include "fedra/fl/fed_trimmed_avg.h"
#include "fedra/fl/fed_yogi.h"
#include "fedra/fl/krum.h"
#include "fedra/fl/scaffold.h"

namespace fedra {

const std::vector<std::string>& StrategyNames() {
  static const std::vector<std::string> names = {
      "fedavg",    "fedprox",       "fedavgm", "fedadam",   "fedyogi",  "fedadagrad",
      "fedmedian", "fedtrimmedavg", "krum",    "multikrum", "scaffold", "fednova"};
  return names;
}

namespace {

StatusOr<std::unique_ptr<Strategy>> NewBaseStrategy(const StrategyConfig& c) {
  const std::string& n = c.name;
  if (n == "fedavg") return NewFedAvg(c.base);
  if (n == "fedprox") return NewFedProx({.base = c.base, .mu = c.proximal_mu});
  if (n == "fedavgm") {
    return NewFedAvgM({.base = c.base,
                       .server_learning_rate = c.server_learning_rate,
                       .server_momentum = c.server_momentum});
  }
  if (n == "fedadam") return NewFedAdam({.base = c.base, .server = c.adaptive});
  if (n == "fedyogi") return NewFedYogi({.base = c.base, .server = c.adaptive});
  if (n == "fedadagrad") return NewFedAdagrad({.base = c.base, .server = c.adaptive});
  if (n == "fedmedian") return NewFedMedian(c.base);
  if (n == "fedtrimmedavg") return NewFedTrimmedAvg({.base = c.base, .beta = c.trim_beta});
  if (n == "krum")
    return NewKrum({.base = c.base, .num_byzantine = c.num_byzantine, .num_selected = 1});
  if (n == "multikrum") {
    return NewKrum({.base = c.base,
                    .num_byzantine = c.num_byzantine,
                    .num_selected = c.krum_selected > 0 ? c.krum_selected : 2});
  }
  if (n == "scaffold") {
    return NewScaffold({.base = c.base,
                        .server_learning_rate = c.server_learning_rate,
                        .num_total_clients = c.num_total_clients});
  }
  if (n == "fednova") return NewFedNova(c.base);
  std::string valid;
  for (const auto& name : StrategyNames()) valid += (valid.empty() ? "" : ", ") + name;
  return InvalidArgumentError("unknown strategy '" + n + "' (expected one of " + valid + ")");
}

// Strategies whose aggregation uses only the "update" and "weight" sums, which is all the
// DP wrapper provides.
bool DpCanWrap(const std::string& name) {
  for (const char* n : {"fedavg", "fedprox", "fedavgm", "fedadam", "fedyogi", "fedadagrad"})
    if (name == n) return true;
  return false;
}

}  // namespace

StatusOr<std::unique_ptr<Strategy>> NewStrategy(const StrategyConfig& c) {
  FEDRA_ASSIGN_OR_RETURN(auto strategy, NewBaseStrategy(c));
  if (c.dp.mode == DpMode::kNone) return strategy;
  if (!DpCanWrap(c.name)) {
    return InvalidArgumentError("differential privacy cannot wrap strategy '" + c.name +
                                "' (expected fedavg, fedprox, fedavgm, fedadam, fedyogi or "
                                "fedadagrad: DP noises one weighted sum of clipped updates)");
  }
  FEDRA_ASSIGN_OR_RETURN(auto dp, NewDpStrategy(std::move(strategy), c.dp));
  return std::unique_ptr<Strategy>(std::move(dp));
}

}  // namespace fedra
