// LocalTrainer: what a federated client trains with, behind one interface, so any ML stack
// can take part. Fit() starts from the round's global parameters and returns the update
// (local - global, in the global layout), the number of examples it trained on and metrics;
// Evaluate() scores the global parameters on local test data. Simulation, net::Client and the
// stock programs accept any LocalTrainer; the privacy stages (update clipping and noise,
// secure aggregation, Paillier) run around it, so a custom trainer gets them unchanged.
//
//   class MyTrainer : public fedra::LocalTrainer { ... };   // see docs/own-model.md
//   fedra::Client client(my_trainer, options);              // over gRPC
//
// The built-in ModelTrainer trains a fedra Model (RunLocalFit): SGD or AdamW, FedProx,
// SCAFFOLD, per FitConfig. A trainer reads its own settings from FitConfig::extra.
//
// Thread-safety: a trainer is used by one thread at a time.
#ifndef FEDRA_FL_LOCAL_TRAINER_H_
#define FEDRA_FL_LOCAL_TRAINER_H_

#include <map>
#include <string>

#include "fedra/core/rng.h"
#include "fedra/core/status.h"
#include "fedra/fl/local_update.h"
#include "fedra/fl/types.h"
#include "fedra/ml/dataset.h"
#include "fedra/ml/loss.h"
#include "fedra/ml/model.h"

namespace fedra {

class LocalTrainer {
 public:
  virtual ~LocalTrainer() = default;

  // Trains from `global` as `config` says. `broadcast` holds the strategy's per-round
  // vectors (e.g. SCAFFOLD's "control"); `rng` is the round's reproducible stream. The
  // result's client field is filled in by the caller. A trainer that cannot honour a
  // setting it is given (config.scaffold, a proximal term, an optimizer) returns an error.
  virtual StatusOr<FitResult> Fit(const Parameters& global, const FitConfig& config,
                                  const std::map<std::string, Parameters>& broadcast, Rng& rng) = 0;

  // Scores `global` on local test data. FailedPrecondition when there is none.
  virtual StatusOr<EvaluateResult> Evaluate(const Parameters& global, const EvaluateTask& task) = 0;
};

// The built-in trainer. Everything it is given must outlive it; `state` may be null (then
// SCAFFOLD rounds fail) and `test` may be empty.
class ModelTrainer final : public LocalTrainer {
 public:
  ModelTrainer(Model& model, const Loss& loss, const Dataset& train, const Dataset& test,
               ClientState* state)
      : model_(model), loss_(loss), train_(train), test_(test), state_(state) {}

  StatusOr<FitResult> Fit(const Parameters& global, const FitConfig& config,
                          const std::map<std::string, Parameters>& broadcast, Rng& rng) override;
  StatusOr<EvaluateResult> Evaluate(const Parameters& global, const EvaluateTask& task) override;

 private:
  Model& model_;
  const Loss& loss_;
  const Dataset& train_;
  const Dataset& test_;
  ClientState* state_;
};

// One client's fit with the stages every client runs around its trainer: the config's DP
// settings are checked, the trainer runs, its result is checked (update and extras in the
// global layout, finite values, examples > 0, bounded finite metrics), then the DP stage
// reports the raw norm as metric "update_norm", clips to config.clip_norm and adds
// N(0, noise_stddev^2) noise from a cryptographic generator. Errors name what was wrong.
StatusOr<FitResult> RunClientFit(LocalTrainer& trainer, const Parameters& global,
                                 const FitConfig& config,
                                 const std::map<std::string, Parameters>& broadcast, Rng& rng);

// Evaluate() with its result checked (examples > 0, finite loss, accuracy in [0, 1],
// bounded finite metrics).
StatusOr<EvaluateResult> RunClientEvaluate(LocalTrainer& trainer, const Parameters& global,
                                           const EvaluateTask& task);

}  // namespace fedra

#endif  // FEDRA_FL_LOCAL_TRAINER_H_
