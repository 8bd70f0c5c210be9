// FedAvgM (Hsu, Qi and Brown, 2019): FedAvg with a heavy-ball server optimizer.
#include "fedra/fl/fed_avg_m.h"

#include <utility>

#include "fedra/fl/server_optimizer.h"

namespace fedra {

StatusOr<std::unique_ptr<Strategy>> NewFedAvgM(const FedAvgMOptions& options) {
  FEDRA_ASSIGN_OR_RETURN(auto server,
                         NewServerSgd(options.server_learning_rate, options.server_momentum));
  return NewFedAvgWith(options.base, std::move(server), "fedavgm");
}

}  // namespace fedra
