// ClientPool: the transport seen by the round driver. The in-process simulation implements
// it over a thread pool; the gRPC server implements it over the network. The driver never
// knows which.
//
// Thread-safety: the driver calls one method at a time. Implementations invoke the result
// callbacks from one thread at a time (never concurrently).
#ifndef FEDRA_FL_CLIENT_POOL_H_
#define FEDRA_FL_CLIENT_POOL_H_

#include <cstddef>
#include <functional>
#include <span>
#include <vector>

#include "fedra/core/status.h"
#include "fedra/fl/types.h"
#include "fedra/ml/parameters.h"

namespace fedra {

class ClientPool {
 public:
  virtual ~ClientPool() = default;

  // Clients that can be selected now, sorted ascending.
  virtual std::vector<ClientId> AvailableClients() = 0;

  // Runs plan.tasks[i] for every i with the global parameters and the plan's broadcast, and
  // calls on_result(i, result-or-error) exactly once per task. A pool that promises
  // deterministic_order() calls it in task order.
  using FitCallback = std::function<void(size_t task, StatusOr<FitResult> result)>;
  virtual void RunFit(const Parameters& global, const RoundPlan& plan,
                      const FitCallback& on_result) = 0;

  using EvaluateCallback = std::function<void(size_t task, StatusOr<EvaluateResult> result)>;
  virtual void RunEvaluate(const Parameters& global, std::span<const EvaluateTask> tasks,
                           const EvaluateCallback& on_result) = 0;

  // True if results arrive in task order, so aggregation (a floating-point sum) is
  // bit-reproducible.
  virtual bool deterministic_order() const = 0;
};

}  // namespace fedra

#endif  // FEDRA_FL_CLIENT_POOL_H_
