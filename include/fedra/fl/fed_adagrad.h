// FedAdagrad (Reddi et al., "Adaptive Federated Optimization", ICLR 2021): FedAvg whose server
// accumulates squared updates as Adagrad does (see server_optimizer.h).
#ifndef FEDRA_FL_FED_ADAGRAD_H_
#define FEDRA_FL_FED_ADAGRAD_H_

#include <memory>

#include "fedra/core/status.h"
#include "fedra/fl/fed_avg.h"
#include "fedra/fl/strategy.h"

namespace fedra {

StatusOr<std::unique_ptr<Strategy>> NewFedAdagrad(const FedOptOptions& options);

}  // namespace fedra

#endif  // FEDRA_FL_FED_ADAGRAD_H_
