// Simulation: a ClientPool of virtual clients in this process. Each client owns a training
// Dataset (and optionally a test Dataset for federated evaluation); the selected clients of
// a round train in parallel on a thread pool, one model copy per worker thread.
//
// Reproducible: client c in round r draws its randomness from Rng(seed).Split(c).Split(r) and
// results are delivered to the driver in task order (or summed in the fixed order of
// fl/fold_tree.h), so the same seed gives a bit-identical global model whatever the number of
// threads, and of processes (fedra/mpi/mpi_simulation.h). At most 2 x threads results are held at
// once: memory does not grow with the number of clients (SCAFFOLD's per-client control variates
// aside, which the algorithm itself requires).
//
// A client whose training throws an exception or returns an error is reported as a failure.
// Thread-safety: not thread-safe (one round driver drives it).
#ifndef FEDRA_FL_SIMULATION_H_
#define FEDRA_FL_SIMULATION_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "fedra/core/status.h"
#include "fedra/fl/client_pool.h"
#include "fedra/fl/local_trainer.h"
#include "fedra/ml/dataset.h"
#include "fedra/ml/loss.h"
#include "fedra/ml/model.h"

namespace fedra {

struct SimulatedClient {
  Dataset train;
  Dataset test;  // may be empty: the client then skips federated evaluation
};

struct SimulationOptions {
  size_t threads = 1;
  uint64_t seed = 1;
  // Optional fault injection for tests and experiments: called before a client trains in a
  // round, from worker threads (so it must be thread-safe); a non-OK status, or an exception,
  // makes that client fail.
  std::function<Status(ClientId client, int round)> fault;
};

// Makes the trainer that runs a task of `client` (0 .. num_clients-1) on worker thread
// `worker` (0 .. threads-1). Called for every task from that worker, so keep it cheap: hold
// references to the client's data and a model per worker, not copies. Must be thread-safe
// across workers.
using TrainerFactory =
    std::function<StatusOr<std::unique_ptr<LocalTrainer>>(ClientId client, size_t worker)>;

class Simulation final : public ClientPool {
 public:
  // Clients that train with any LocalTrainer. InvalidArgument if there are no clients, no
  // threads or no factory.
  static StatusOr<std::unique_ptr<Simulation>> Create(size_t num_clients, TrainerFactory factory,
                                                      const SimulationOptions& options);
  // `prototype` is cloned once per worker thread. InvalidArgument if there are no clients,
  // no threads, or a client's data does not fit the model.
  static StatusOr<std::unique_ptr<Simulation>> Create(const Model& prototype,
                                                      std::unique_ptr<Loss> loss,
                                                      std::vector<SimulatedClient> clients,
                                                      const SimulationOptions& options);
  ~Simulation() override;

  std::vector<ClientId> AvailableClients() override;
  void RunFit(const Parameters& global, const RoundPlan& plan,
              const FitCallback& on_result) override;
  void RunEvaluate(const Parameters& global, std::span<const EvaluateTask> tasks,
                   const EvaluateCallback& on_result) override;
  bool deterministic_order() const override { return true; }

  // Sums in the order of fl/fold_tree.h, so one process and P processes agree bit for bit.
  bool folds_results() const override { return true; }
  StatusOr<FoldedFit> RunFoldedFit(const Parameters& global, const RoundPlan& plan,
                                   const ResultFolder& fold) override;
  // RunFoldedFit of part `part` of `parts` only (FoldTree::Create): the tasks of the clients
  // [part*N/parts, (part+1)*N/parts), for one process of a simulation spread over `parts`.
  StatusOr<FoldedFit> RunFoldedFitPart(const Parameters& global, const RoundPlan& plan,
                                       const ResultFolder& fold, size_t part, size_t parts);

  size_t num_clients() const;

  // State the built-in trainers keep between rounds (SCAFFOLD's control variates), as 1-D
  // vectors named "<client>/control", for a checkpoint (Checkpoint::clients).
  std::map<std::string, std::vector<float>> ExportClientState() const;
  // Restores ExportClientState(). InvalidArgument (state unchanged) for an unknown name or
  // client, or a vector whose size is not the model's.
  Status ImportClientState(const std::map<std::string, std::vector<float>>& state);

 private:
  struct Impl;
  explicit Simulation(std::unique_ptr<Impl> impl);
  StatusOr<FitResult> TrainTask(const Parameters& global, const RoundPlan& plan, size_t task,
                                size_t worker);
  std::unique_ptr<Impl> impl_;
};

}  // namespace fedra

#endif  // FEDRA_FL_SIMULATION_H_
