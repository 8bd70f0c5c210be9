// Value types exchanged in a federated round, independent of the transport: what the server
// asks a client to do (FitTask, EvaluateTask) and what comes back (FitResult, EvaluateResult).
#ifndef FEDRA_FL_TYPES_H_
#define FEDRA_FL_TYPES_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "fedra/fl/round_config.h"
#include "fedra/fl/update_accumulator.h"
#include "fedra/ml/parameters.h"

namespace fedra {

using ClientId = uint64_t;

// The most local steps a round may ask of a client (FitConfig::local_steps).
inline constexpr int kMaxLocalSteps = 100'000;

// Local training settings sent to a client for one round.
struct FitConfig {
  int epochs = 1;
  // > 0: exactly this many local optimizer steps (mini-batches, passing over the data
  // reshuffled as often as needed) instead of `epochs` passes. Few steps per round keep
  // clients with skewed data close to the global model (FedSGD at 1 step).
  int local_steps = 0;
  int batch_size = 32;
  float learning_rate = 0.01f;
  float momentum = 0.0f;
  float weight_decay = 0.0f;
  // FedProx: adds mu/2 * ||w - w_global||^2 to the local objective (0 = off).
  float proximal_mu = 0.0f;
  // SCAFFOLD: corrects each local gradient by (c - c_i) and returns the control delta.
  bool scaffold = false;
  // Differential privacy on the client (privacy/dp): clip the update to this L2 norm
  // (0 = off), then add N(0, noise_stddev^2) to every coordinate (0 = off; local or
  // distributed DP noise, drawn from a cryptographic generator).
  float clip_norm = 0.0f;
  float noise_stddev = 0.0f;
  // The local optimizer: "sgd" (momentum; weight_decay as an L2 term), "adam" (weight_decay
  // as an L2 term) or "adamw" (decoupled weight_decay, not on biases and norms); for both Adams
  // momentum is unused and the moments restart every round. FedNova and SCAFFOLD refuse anything
  // but SGD.
  std::string optimizer = "sgd";
  // > 0: every local gradient is clipped to this global L2 norm before its step (after the
  // FedProx / SCAFFOLD terms are added).
  float max_grad_norm = 0.0f;
  // Open settings a strategy sends and a LocalTrainer reads (fedra/fl/round_config.h); the
  // built-in trainer ignores them.
  RoundConfig extra;
};

struct FitTask {
  ClientId client = 0;
  FitConfig config;
};

// What ConfigureFit decides for one round.
struct RoundPlan {
  int round = 0;  // set by the round driver
  std::vector<FitTask> tasks;
  // Payloads every selected client receives besides the global parameters, by name (e.g.
  // SCAFFOLD's server control variate under "control").
  std::map<std::string, Parameters> broadcast;
};

struct FitResult {
  ClientId client = 0;
  Parameters update;        // local parameters minus the global parameters sent
  size_t num_examples = 0;  // local training examples
  int64_t local_steps = 0;  // optimizer steps taken (tau, used by FedNova)
  double train_loss = 0.0;  // mean loss of the last local pass (partial with local_steps)
  // Extra vectors by name (e.g. SCAFFOLD's "control_delta"), same layout as `update`.
  std::map<std::string, Parameters> extras;
  // Scalar reports by name (e.g. DP's "update_norm", the L2 norm before clipping).
  MetricMap metrics;
  // An aggregator's result (an edge fedra-server, fedra/net/edge.h): the terms of the
  // strategy's fold over its own clients, sums and scalars rather than a mean, which the round
  // driver adds to its sums as they are. `update` and `extras` are then empty; num_examples
  // and train_loss cover the aggregator's clients.
  std::optional<UpdateAccumulator> folded;
};

struct EvaluateTask {
  ClientId client = 0;
  int batch_size = 256;
  RoundConfig extra;  // open settings for the trainer, as FitConfig::extra
};

struct EvaluateResult {
  ClientId client = 0;
  size_t num_examples = 0;
  double loss = 0.0;
  double accuracy = 0.0;
  MetricMap metrics;  // the trainer's own measures (e.g. "spam_f1"), by name
};

}  // namespace fedra

#endif  // FEDRA_FL_TYPES_H_
