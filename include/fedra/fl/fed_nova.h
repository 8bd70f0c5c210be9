// FedNova (Wang et al., "Tackling the Objective Inconsistency Problem in Heterogeneous
// Federated Optimization", NeurIPS 2020). Clients that take different numbers of local steps
// tau_i are normalised: with local SGD momentum rho, a_i = (tau_i - rho (1 - rho^tau_i) /
// (1 - rho)) / (1 - rho) (a_i = tau_i without momentum); d_i = delta_i / a_i;
// x += tau_eff * sum_i p_i d_i with p_i = n_i / sum n and tau_eff = sum_i p_i a_i.
// Sum-based: folds "nova" += (n_i / a_i) delta_i, scalars "weight" += n_i and
// "tau_eff" += n_i a_i, and steps x += (tau_eff / W) (nova / W), W = sum n_i. rho is the
// local momentum of the options' fit config. A result with local_steps <= 0 is left out
// (counted under scalar "skipped"); AggregateFit is FailedPrecondition when nothing usable was
// folded. Name() is "fednova".
#ifndef FEDRA_FL_FED_NOVA_H_
#define FEDRA_FL_FED_NOVA_H_

#include <memory>

#include "fedra/core/status.h"
#include "fedra/fl/fed_avg.h"
#include "fedra/fl/strategy.h"

namespace fedra {

StatusOr<std::unique_ptr<Strategy>> NewFedNova(const FedAvgOptions& options);

}  // namespace fedra

#endif  // FEDRA_FL_FED_NOVA_H_
