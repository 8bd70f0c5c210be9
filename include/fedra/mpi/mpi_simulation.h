// fedra::mpi (optional, built when MPI is found): the simulation spread over the processes
// (ranks) of an MPI job, `mpirun -n R fedra-sim ...`.
//
// Every rank builds the same Simulation and runs the same RoundDriver with the same seed, so
// all ranks plan the same rounds. In a round, rank r trains only the clients of its part of
// the fold tree (fl/fold_tree.h: clients [r*N/R, (r+1)*N/R)) and folds them locally; the
// ranks then combine their sums pairwise in rank order (log2 R steps of point-to-point
// messages, one partial sum per rank) and rank 0 broadcasts the total, so every rank
// aggregates the same bits as a one-process run with the same seed. What travels per round:
// one model-sized partial sum up the tree and the total back down (per sum of the strategy's
// fold: one for FedAvg, two for SCAFFOLD), plus the federated evaluation's few numbers.
//
// R must be a power of two <= 64; only plain rounds of sum-based strategies fold this way
// (no secure sum, no influence bound, no median/Krum: fedra-sim refuses the others at
// start-up).
// A rank that fails calls Abort(), which ends the whole job: never a silently wrong model.
//
// Thread-safety: not thread-safe; one driver on the main thread of each rank.
#ifndef FEDRA_MPI_MPI_SIMULATION_H_
#define FEDRA_MPI_MPI_SIMULATION_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "fedra/core/status.h"
#include "fedra/fl/simulation.h"

namespace fedra {

// The MPI job this process belongs to: MPI_Init on creation, MPI_Finalize on destruction.
class MpiWorld {
 public:
  // Whether this process was started by an MPI launcher (mpirun, srun): only then is MPI
  // initialised, so a plain run never touches MPI.
  static bool Launched();
  // REQUIRES: called once per process.
  static StatusOr<std::unique_ptr<MpiWorld>> Init(int* argc, char*** argv);
  ~MpiWorld();
  MpiWorld(const MpiWorld&) = delete;
  MpiWorld& operator=(const MpiWorld&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  // Ends every rank of the job with `code` (after printing `why` on this one).
  [[noreturn]] void Abort(const std::string& why, int code = 1) const;
  // A seed rank 0 draws from OpenSSL's RAND, the same on every rank (collective): for the
  // server's DP noise, which every rank must draw alike.
  uint64_t SharedRandomSeed() const;
  // Whether every rank passed the same `value`, the same bytes (collective).
  bool AllEqual(uint64_t value) const;
  bool AllEqual(std::span<const float> values) const;

 private:
  MpiWorld(int rank, int size) : rank_(rank), size_(size) {}
  int rank_ = 0, size_ = 1;
};

class MpiSimulation final : public ClientPool {
 public:
  // `local` holds every client; this rank trains its part. InvalidArgument when the world's
  // size is not a power of two <= 64, or the ranks disagree on the number of clients.
  static StatusOr<std::unique_ptr<MpiSimulation>> Create(Simulation& local, const MpiWorld& world);
  // The first check of Create, for a program to make before it loads data.
  static Status CheckWorldSize(const MpiWorld& world);

  std::vector<ClientId> AvailableClients() override { return local_.AvailableClients(); }
  // Ends the job (Abort): results stay on the rank that trained them, so only RunFoldedFit
  // rounds can run (a sum-based strategy without secure sum or influence bound).
  void RunFit(const Parameters& global, const RoundPlan& plan,
              const FitCallback& on_result) override;
  // Each rank evaluates the tasks of its clients; every rank gets every result, in task order.
  void RunEvaluate(const Parameters& global, std::span<const EvaluateTask> tasks,
                   const EvaluateCallback& on_result) override;
  bool folds_results() const override { return true; }
  StatusOr<FoldedFit> RunFoldedFit(const Parameters& global, const RoundPlan& plan,
                                   const ResultFolder& fold) override;
  bool deterministic_order() const override { return true; }

 private:
  MpiSimulation(Simulation& local, const MpiWorld& world) : local_(local), world_(world) {}
  Simulation& local_;
  const MpiWorld& world_;
};

}  // namespace fedra

#endif  // FEDRA_MPI_MPI_SIMULATION_H_
