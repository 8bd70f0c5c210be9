// ClientPool: the transport seen by the round driver. The in-process simulation implements
// it over a thread pool; the gRPC server implements it over the network. The driver never
// knows which.
//
// Thread-safety: the driver calls one method at a time. Implementations invoke the result
// callbacks from one thread at a time (never concurrently).
#ifndef FEDRA_FL_CLIENT_POOL_H_
#define FEDRA_FL_CLIENT_POOL_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "fedra/core/status.h"
#include "fedra/fl/secure_sum.h"
#include "fedra/fl/types.h"
#include "fedra/fl/update_accumulator.h"
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

  // The driver is done with a result's update (folded): a pool may keep its memory for the
  // next result it receives (the gRPC server does, for one upload). The default drops it.
  virtual void Recycle(Parameters&& done) { (void)done; }
  // The memory Recycle kept, for the driver's own use (then the pool no longer holds it);
  // empty if none.
  virtual Parameters TakeRecycled() { return {}; }

  using EvaluateCallback = std::function<void(size_t task, StatusOr<EvaluateResult> result)>;
  virtual void RunEvaluate(const Parameters& global, std::span<const EvaluateTask> tasks,
                           const EvaluateCallback& on_result) = 0;

  // Secure rounds. A pool whose clients form the round's sums through a protocol between
  // themselves and the pool (the gRPC server with secure aggregation or Paillier) names it
  // here; the round driver then calls RunSecureFit instead of RunFit and never sees an
  // individual update.
  virtual std::string secure_sum_name() const { return ""; }
  // Like RunFit, but every client folds its own result into the strategy's sums, and only the
  // protocol's total over the clients it kept comes back. on_result gets each client's report
  // (nothing of its update: see kSecureLossScalar) or its error. When more than `max_losses`
  // of the plan's clients have failed or dropped out, the protocol stops before the total is
  // revealed (a round that will be discarded must not leak its sum). Errors: the protocol's
  // abort (too few survivors, too many losses) or Unimplemented for pools without a protocol.
  virtual StatusOr<SecureSum::Total> RunSecureFit(const Parameters& global, const RoundPlan& plan,
                                                  size_t max_losses, const FitCallback& on_result) {
    (void)global, (void)plan, (void)max_losses, (void)on_result;
    return UnimplementedError("this client pool runs no secure-sum protocol");
  }

  // Pools that fold each result where it is trained (the simulation, on one process or across
  // MPI ranks) say so; the round driver then calls RunFoldedFit instead of RunFit in plain
  // rounds of sum-based strategies (no secure sum, no influence bound) and never holds an
  // individual update.
  virtual bool folds_results() const { return false; }
  // fold(task, result-or-error, sums) validates one result and folds it into `sums` as a unit
  // (UpdateAccumulator::BeginFold); false when it refused it (and logged why).
  using ResultFolder =
      std::function<bool(size_t task, StatusOr<FitResult> result, UpdateAccumulator& sums)>;
  struct FoldedFit {
    UpdateAccumulator sums;  // every accepted result's terms
    size_t failures = 0;     // tasks that failed or were refused
    uint64_t bytes_up = 0;   // of the accepted results' updates and extras, 4 bytes per float
  };
  // Like RunFit, but each task's result goes through `fold` once, in an order the pool fixes
  // (fl/fold_tree.h), and only the total comes back. Unimplemented for other pools.
  virtual StatusOr<FoldedFit> RunFoldedFit(const Parameters& global, const RoundPlan& plan,
                                           const ResultFolder& fold) {
    (void)global, (void)plan, (void)fold;
    return UnimplementedError("this client pool does not fold results");
  }

  // True if results arrive in task order, so aggregation (a floating-point sum) is
  // bit-reproducible.
  virtual bool deterministic_order() const = 0;
};

}  // namespace fedra

#endif  // FEDRA_FL_CLIENT_POOL_H_
