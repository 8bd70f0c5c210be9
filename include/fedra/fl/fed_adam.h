// FedAdam (Reddi et al., "Adaptive Federated Optimization", ICLR 2021): FedAvg whose server
// applies the mean client update with Adam-style moments (see server_optimizer.h).
#ifndef FEDRA_FL_FED_ADAM_H_
#define FEDRA_FL_FED_ADAM_H_

#include <memory>

#include "fedra/core/status.h"
#include "fedra/fl/fed_avg.h"
#include "fedra/fl/strategy.h"

namespace fedra {

StatusOr<std::unique_ptr<Strategy>> NewFedAdam(const FedOptOptions& options);

}  // namespace fedra

#endif  // FEDRA_FL_FED_ADAM_H_
