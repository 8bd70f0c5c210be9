// FedProx (Li et al., MLSys 2020): FedAvg on the server; the proximal term is applied by the
// clients, told through FitConfig::proximal_mu.
#include "fedra/fl/fed_prox.h"

#include <cmath>
#include <string>
#include <utility>

#include "fedra/fl/server_optimizer.h"

namespace fedra {

StatusOr<std::unique_ptr<Strategy>> NewFedProx(const FedProxOptions& options) {
  if (!std::isfinite(options.mu) || !(options.mu > 0)) {
    return InvalidArgumentError("FedProx mu must be finite and > 0, got " +
                                std::to_string(options.mu));
  }
  FedAvgOptions base = options.base;
  base.fit.proximal_mu = options.mu;  // overrides whatever base.fit held
  FEDRA_ASSIGN_OR_RETURN(auto server, NewServerSgd(1.0f, 0.0f));
  return NewFedAvgWith(base, std::move(server), "fedprox");
}

}  // namespace fedra
