// FedYogi (Reddi et al., "Adaptive Federated Optimization", ICLR 2021, Algorithm 2): FedAvg's
// sampling and weighted mean, applied by the adaptive server optimizer of kind kYogi.
#include "fedra/fl/fed_yogi.h"

#include <utility>

#include "fedra/fl/server_optimizer.h"

namespace fedra {

StatusOr<std::unique_ptr<Strategy>> NewFedYogi(const FedOptOptions& options) {
  FEDRA_ASSIGN_OR_RETURN(auto server,
                         NewAdaptiveServerOptimizer(AdaptiveKind::kYogi, options.server));
  return NewFedAvgWith(options.base, std::move(server), "fedyogi");
}

}  // namespace fedra
