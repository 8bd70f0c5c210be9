// SCAFFOLD (Karimireddy et al., "SCAFFOLD: Stochastic Controlled Averaging for Federated
// Learning", ICML 2020), Algorithm 1 with option II control updates. The server keeps a
// control variate c (broadcast as "control"); each client corrects its gradients by
// c - c_i and returns its control delta (extras["control_delta"]). Server step:
// x += server_lr * mean(delta x);  c += (|S| / N) * mean(delta c), N = total clients.
// Sum-based: the means are folded as unweighted sums.
#ifndef FEDRA_FL_SCAFFOLD_H_
#define FEDRA_FL_SCAFFOLD_H_

#include <memory>

#include "fedra/core/status.h"
#include "fedra/fl/fed_avg.h"
#include "fedra/fl/strategy.h"

namespace fedra {

struct ScaffoldOptions {
  FedAvgOptions base;
  float server_learning_rate = 1.0f;
  size_t num_total_clients = 0;  // N; 0 means the number of available clients in each round
};
// InvalidArgument unless the base options are valid and server_learning_rate is finite, > 0.
// Name() is "scaffold".
// - ConfigureFit sends base.fit with scaffold = true and broadcasts c under "control" (zeros
//   of the global layout before the first aggregation). FailedPrecondition when more clients
//   are available than a non-zero num_total_clients, or c does not fit the global layout.
// - Fold adds unweighted sums "update" and "control_delta" and scalar "count"; a result without
//   a control delta of its update's layout is left out and counted under scalar "rejected".
// - AggregateFit: FailedPrecondition when no result was folded, N is unknown or smaller than
//   the number of results.
// - State: vector "control" (c, flat) and scalar "num_clients" (available clients seen by the
//   last ConfigureFit, the N used when num_total_clients is 0).
StatusOr<std::unique_ptr<Strategy>> NewScaffold(const ScaffoldOptions& options);

}  // namespace fedra

#endif  // FEDRA_FL_SCAFFOLD_H_
