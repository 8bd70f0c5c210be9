// FedAvg: Federated Averaging (McMahan et al., "Communication-Efficient Learning of Deep
// Networks from Decentralized Data", AISTATS 2017). The new global model is the global model
// plus the mean of client updates weighted by their number of examples, applied through a
// ServerOptimizer (plain addition by default; FedAvgM/FedAdam/FedYogi/FedAdagrad otherwise).
#ifndef FEDRA_FL_FED_AVG_H_
#define FEDRA_FL_FED_AVG_H_

#include <memory>
#include <string>

#include "fedra/core/status.h"
#include "fedra/fl/server_optimizer.h"
#include "fedra/fl/strategy.h"

namespace fedra {

// Options shared by FedAvg and the strategies built on it.
struct FedAvgOptions {
  SamplingOptions sampling;
  FitConfig fit;  // local training settings sent to every selected client
};

StatusOr<std::unique_ptr<Strategy>> NewFedAvg(const FedAvgOptions& options);

// FedAvg's sampling, configuration and weighted mean with any server optimizer; `name` is
// what Name() returns. This is how FedAvgM, FedAdam, FedYogi and FedAdagrad are made, and how
// a user plugs in their own ServerOptimizer.
StatusOr<std::unique_ptr<Strategy>> NewFedAvgWith(const FedAvgOptions& options,
                                                  std::unique_ptr<ServerOptimizer> server_optimizer,
                                                  std::string name);

// Options of the adaptive strategies FedAdam, FedYogi and FedAdagrad (Reddi et al. 2021).
struct FedOptOptions {
  FedAvgOptions base;
  AdaptiveServerOptions server;
};

// Checks options shared by every built-in strategy (fractions in [0, 1], positive epochs and
// batch size, finite non-negative learning rate, ...).
Status ValidateFedAvgOptions(const FedAvgOptions& options);

}  // namespace fedra

#endif  // FEDRA_FL_FED_AVG_H_
