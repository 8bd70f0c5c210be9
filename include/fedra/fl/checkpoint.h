// Checkpoint: what a federated server needs to resume a run at the next round after a crash
// or `kill -9` — the global model, the round reached, the run's seed and id, the strategy's
// state (server optimizer moments, DP accountant, ...) and the metrics history.
//
// On disk it is one safetensors file, `<dir>/checkpoint.safetensors`, readable by any
// safetensors reader: tensors "global/<name>" (the model, in its order), "strategy/<name>"
// (StrategyState vectors as 1-D F32 tensors) and "clients/<name>" (state a simulation keeps
// per virtual client, e.g. SCAFFOLD's control variates), and "__metadata__" strings:
//   format        "fedra-checkpoint-1"
//   round, seed   decimal integers
//   run_id, fingerprint
//   strategy_scalars  a JSON object {"name": "<double>"}, each double in the shortest form
//                     that reads back bit-exactly ("inf", "-inf", "nan" for non-finite values)
//   history       the metrics history, one RoundMetricsToJson() record per line
//   influence_reference  (optional) the influence bound's reference, as strategy_scalars
//   sha256        hex SHA-256 over every tensor (name, shape, bytes) and the other metadata,
//                 so a flipped bit anywhere is detected, not loaded
// Each save replaces the file atomically (temporary file, fsync, rename, directory fsync):
// a crash at any moment leaves either the previous or the new checkpoint, never a mixture.
// Temporary files left by a writer that crashed are ignored by LoadCheckpoint and removed by
// the next SaveCheckpoint (only those of processes no longer running on this host).
//
// Memory: saving holds about two extra copies of the model (tensors renamed, then encoded);
// loading about two (file bytes, decoded tensors).
//
// Thread-safety: the functions are thread-safe; one directory should have one writer.
#ifndef FEDRA_FL_CHECKPOINT_H_
#define FEDRA_FL_CHECKPOINT_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "fedra/core/status.h"
#include "fedra/fl/round_driver.h"
#include "fedra/fl/strategy.h"
#include "fedra/ml/parameters.h"

namespace fedra {

struct Checkpoint {
  int round = 0;            // last finished round (0 = none yet)
  uint64_t seed = 0;        // the run's seed (client sampling per round derives from it)
  std::string run_id;       // random id of the run, kept across restarts
  std::string fingerprint;  // what must match to resume (see CheckpointFingerprint)
  Parameters global;        // global model after `round`
  StrategyState strategy;   // Strategy::ExportState()
  // Simulation::ExportClientState(): per-client state of simulated clients (empty for a server).
  std::map<std::string, std::vector<float>> clients;
  std::vector<RoundMetrics> history;  // one entry per finished round
  // The round driver's influence-bound reference (InfluenceBound::ExportReference); empty
  // when there is none (and in checkpoints written before it was kept).
  std::map<std::string, double> influence;
};

// The checkpoint file inside `dir`: dir + "/checkpoint.safetensors".
std::string CheckpointPath(const std::string& dir);

// Writes CheckpointPath(dir) atomically, creating `dir` (and its parents) if missing.
// InvalidArgument if round < 0 or `global` has no tensor (LoadCheckpoint would refuse it);
// otherwise I/O errors by errno, with the path in the message. On error the previous
// checkpoint, if any, is untouched.
Status SaveCheckpoint(const std::string& dir, const Checkpoint& checkpoint);

// std::nullopt if CheckpointPath(dir) does not exist (nor `dir`): a fresh run. DataLoss, saying
// what is wrong, if the file is corrupt or incomplete (not safetensors, checksum mismatch, a
// missing or malformed metadata key, no "global/" tensor, a tensor outside "global/",
// "strategy/" and "clients/", a strategy or client tensor that is not 1-D, a bad history record).
// Other read errors by errno. Every message starts with the file's path.
StatusOr<std::optional<Checkpoint>> LoadCheckpoint(const std::string& dir);

// "model <model_name>: <tensor>:[d0,d1,...],...; strategy <strategy_name>" — what a resumed
// run must share with the checkpoint it resumes (compare with Checkpoint::fingerprint).
std::string CheckpointFingerprint(const std::string& model_name, const Parameters& params,
                                  const std::string& strategy_name);

}  // namespace fedra

#endif  // FEDRA_FL_CHECKPOINT_H_
