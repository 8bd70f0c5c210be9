// FedAdam (Reddi et al., "Adaptive Federated Optimization", ICLR 2021, Algorithm 2): FedAvg's
// sampling and weighted mean, applied by the adaptive server optimizer of kind kAdam.
#include "fedra/fl/fed_adam.h"

#include <utility>

#include "fedra/fl/server_optimizer.h"

namespace fedra {

StatusOr<std::unique_ptr<Strategy>> NewFedAdam(const FedOptOptions& options) {
  FEDRA_ASSIGN_OR_RETURN(auto server,
                         NewAdaptiveServerOptimizer(AdaptiveKind::kAdam, options.server));
  return NewFedAvgWith(options.base, std::move(server), "fedadam");
}

}  // namespace fedra
