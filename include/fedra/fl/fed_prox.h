// FedProx (Li et al., "Federated Optimization in Heterogeneous Networks", MLSys 2020):
// FedAvg whose clients minimise their loss plus mu/2 * ||w - w_global||^2, which keeps local
// models near the global one under heterogeneous data. Server side identical to FedAvg.
#ifndef FEDRA_FL_FED_PROX_H_
#define FEDRA_FL_FED_PROX_H_

#include <memory>

#include "fedra/core/status.h"
#include "fedra/fl/fed_avg.h"
#include "fedra/fl/strategy.h"

namespace fedra {

struct FedProxOptions {
  FedAvgOptions base;
  float mu = 0.01f;  // proximal coefficient, > 0
};
StatusOr<std::unique_ptr<Strategy>> NewFedProx(const FedProxOptions& options);

}  // namespace fedra

#endif  // FEDRA_FL_FED_PROX_H_
