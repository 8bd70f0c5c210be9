// Building a built-in strategy from a flat configuration (what command-line programs and
// config files provide). Library users can equally call the factories (NewFedAvg, ...).
#ifndef FEDRA_FL_STRATEGY_CONFIG_H_
#define FEDRA_FL_STRATEGY_CONFIG_H_

#include <memory>
#include <string>
#include <vector>

#include "fedra/core/status.h"
#include "fedra/fl/dp_strategy.h"
#include "fedra/fl/fed_avg.h"
#include "fedra/fl/strategy.h"

namespace fedra {

struct StrategyConfig {
  std::string name = "fedavg";  // see StrategyNames()
  FedAvgOptions base;
  float proximal_mu = 0.01f;          // fedprox
  float server_learning_rate = 1.0f;  // fedavgm, scaffold
  float server_momentum = 0.9f;       // fedavgm
  AdaptiveServerOptions adaptive;     // fedadam, fedyogi, fedadagrad
  double trim_beta = 0.2;             // fedtrimmedavg
  size_t num_byzantine = 0;           // krum, multikrum
  size_t krum_selected = 0;           // multikrum: updates averaged (0: 2)
  size_t num_total_clients = 0;       // scaffold
  // The round driver's RoundDriverOptions::client_lr_decay: "constant", "linear" or "cosine".
  std::string client_lr_decay = "constant";
  // Differential privacy (mode kNone: off). When on, NewStrategy wraps the chosen strategy
  // in a DpStrategy; only the FedAvg family (fedavg, fedprox, fedavgm, fedadam, fedyogi,
  // fedadagrad) can be wrapped.
  DpOptions dp;
};

// fedavg, fedprox, fedavgm, fedadam, fedyogi, fedadagrad, fedmedian, fedtrimmedavg, krum,
// multikrum, scaffold, fednova.
const std::vector<std::string>& StrategyNames();

// InvalidArgument naming the valid choices if the name is unknown, or the factory's error;
// with DP on, InvalidArgument for a strategy DP cannot wrap or bad DP options.
StatusOr<std::unique_ptr<Strategy>> NewStrategy(const StrategyConfig& config);

}  // namespace fedra

#endif  // FEDRA_FL_STRATEGY_CONFIG_H_
