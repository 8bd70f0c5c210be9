// FederatedRun: the loop of rounds that fedra-server and fedra-sim share (and any program that
// embeds fedra): resume from a run directory's checkpoint, run the rounds with a RoundDriver,
// append each round to the metrics log, checkpoint after each round, stop on a flag (a
// signal) or when the strategy ends the run. The programs only parse flags and print.
//
//   FEDRA_ASSIGN_OR_RETURN(auto run, FederatedRun::Open(options, model->parameters()));
//   // ... start the pool with run.run_id() and run.seed() ...
//   FEDRA_RETURN_IF_ERROR(run.Run(*strategy, pool, driver_options));
//   SaveSafetensors(path, run.global(), {});
//
// A run killed at any moment and opened again on the same run directory continues after its
// last finished round with the same global model, strategy state, client state (a
// simulation's SCAFFOLD variates), sampling and metrics history, so its result equals an
// uninterrupted run's (bit-identical for the deterministic Simulation, influence bound
// included: its reference is in the checkpoint).
//
// Thread-safety: one run, one thread.
#ifndef FEDRA_FL_FEDERATED_RUN_H_
#define FEDRA_FL_FEDERATED_RUN_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "fedra/core/status.h"
#include "fedra/fl/checkpoint.h"
#include "fedra/fl/client_pool.h"
#include "fedra/fl/metrics_log.h"
#include "fedra/fl/round_driver.h"
#include "fedra/fl/strategy.h"

namespace fedra {

struct FederatedRunOptions {
  int num_rounds = 10;
  std::string run_dir;       // checkpoint after every round, resumed on Open; "": neither
  std::string metrics_path;  // JSON lines, one per round (rewritten from the history on resume)
  // What a checkpoint must match to be resumed (CheckpointFingerprint + the program's own
  // settings); a checkpoint of another run is refused with both strings.
  std::string fingerprint;
  std::string run_id;  // for a fresh run; a resumed run keeps its checkpoint's
  uint64_t seed = 1;   // likewise
  // State the pool's clients keep between rounds (Simulation::Export/ImportClientState).
  std::function<std::map<std::string, std::vector<float>>()> export_clients;
  std::function<Status(const std::map<std::string, std::vector<float>>&)> import_clients;
  // Before each round; an error ends the run with it (e.g. too few clients connected).
  std::function<Status(int round)> before_round;
  // With each round's metrics before they are logged (program figures, e.g. server counters).
  std::function<void(RoundMetrics&)> annotate;
  // After each round is logged and checkpointed (a progress line).
  std::function<void(const RoundMetrics&)> on_round;
  const std::atomic<bool>* stop = nullptr;  // set (e.g. by a signal handler): stop after a round
  // A round in which no client could be asked (too few available, none selected) ends the run
  // with its error; off: it is logged like any failed round and the next one is tried (a
  // server, whose clients come and go).
  bool stop_on_empty_round = true;
};

class FederatedRun {
 public:
  // Loads options.run_dir's checkpoint when there is one. FailedPrecondition if it belongs to
  // another run (fingerprint); DataLoss / I/O errors from LoadCheckpoint.
  static StatusOr<FederatedRun> Open(FederatedRunOptions options, Parameters initial);

  bool resumed() const { return checkpoint_.has_value(); }
  int next_round() const { return next_round_; }
  const std::string& run_id() const { return run_id_; }
  uint64_t seed() const { return seed_; }

  // Restores the checkpoint's strategy and client state (on resume), then runs rounds
  // next_round() .. num_rounds. `driver.num_rounds` and `driver.seed` are taken from the run.
  // Errors: a failed before_round, a round in which no client could be asked (the pool is
  // empty), metrics or checkpoint I/O.
  Status Run(Strategy& strategy, ClientPool& pool, RoundDriverOptions driver);

  const Parameters& global() const { return global_; }
  const std::vector<RoundMetrics>& history() const { return history_; }
  bool stopped_by_flag() const { return stopped_by_flag_; }
  // Why the strategy ended the run early (its ConfigureFit said so), if it did.
  const std::optional<std::string>& strategy_stop() const { return strategy_stop_; }

 private:
  FederatedRun() = default;
  FederatedRunOptions o_;
  std::optional<Checkpoint> checkpoint_;
  Parameters global_;
  std::vector<RoundMetrics> history_;
  int next_round_ = 1;
  std::string run_id_;
  uint64_t seed_ = 0;
  bool stopped_by_flag_ = false;
  std::optional<std::string> strategy_stop_;
};

}  // namespace fedra

#endif  // FEDRA_FL_FEDERATED_RUN_H_
