// FedAvgM (Hsu, Qi and Brown, "Measuring the Effects of Non-Identical Data Distribution for
// Federated Visual Classification", 2019): FedAvg with server momentum,
// v = momentum * v + delta; x = x + server_lr * v.
#ifndef FEDRA_FL_FED_AVG_M_H_
#define FEDRA_FL_FED_AVG_M_H_

#include <memory>

#include "fedra/core/status.h"
#include "fedra/fl/fed_avg.h"
#include "fedra/fl/strategy.h"

namespace fedra {

struct FedAvgMOptions {
  FedAvgOptions base;
  float server_learning_rate = 1.0f;
  float server_momentum = 0.9f;
};
StatusOr<std::unique_ptr<Strategy>> NewFedAvgM(const FedAvgMOptions& options);

}  // namespace fedra

#endif  // FEDRA_FL_FED_AVG_M_H_
