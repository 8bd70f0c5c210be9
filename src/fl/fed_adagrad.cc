// FedAdagrad (Reddi et al., "Adaptive Federated Optimization", ICLR 2021, Algorithm 2): FedAvg's
// sampling and weighted mean, applied by the adaptive server optimizer of kind kAdagrad.
#include "fedra/fl/fed_adagrad.h"

#include <utility>

#include "fedra/fl/server_optimizer.h"

namespace fedra {

StatusOr<std::unique_ptr<Strategy>> NewFedAdagrad(const FedOptOptions& options) {
  FEDRA_ASSIGN_OR_RETURN(auto server,
                         NewAdaptiveServerOptimizer(AdaptiveKind::kAdagrad, options.server));
  return NewFedAvgWith(options.base, std::move(server), "fedadagrad");
}

}  // namespace fedra
