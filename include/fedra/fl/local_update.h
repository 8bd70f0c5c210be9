// The client's side of a round, independent of the transport: train the global model on local
// data as the FitConfig says and report the update; evaluate the global model on local data.
// The simulation calls these for every virtual client; fedra-client calls them too.
//
// Thread-safety: reentrant; the model, state and rng passed in belong to the caller.
#ifndef FEDRA_FL_LOCAL_UPDATE_H_
#define FEDRA_FL_LOCAL_UPDATE_H_

#include <map>
#include <string>

#include "fedra/core/rng.h"
#include "fedra/core/status.h"
#include "fedra/fl/types.h"
#include "fedra/ml/dataset.h"
#include "fedra/ml/loss.h"
#include "fedra/ml/model.h"

namespace fedra {

// State a client keeps between rounds (SCAFFOLD's client control variate c_i, zero until the
// first SCAFFOLD round).
struct ClientState {
  Parameters control;
};

// Sets the model to `global`, trains `config.epochs` epochs of SGD (momentum and weight decay
// per config) and returns update = local - global. With proximal_mu > 0 adds the FedProx term
// mu * (w - global) to every gradient. With scaffold, needs broadcast["control"] (c), adds
// c - c_i to every gradient and returns extras["control_delta"] = c_i+ - c_i with option II of
// Karimireddy et al.: c_i+ = c_i - c + (global - local) / (steps * lr); updates state->control.
// Errors: InvalidArgument if global does not fit the model or the data, or the SCAFFOLD
// control is missing or mis-shaped; FailedPrecondition if training diverges.
StatusOr<FitResult> RunLocalFit(Model& model, const Loss& loss, const Dataset& data,
                                const Parameters& global, const FitConfig& config,
                                const std::map<std::string, Parameters>& broadcast,
                                ClientState* state, Rng& rng);

StatusOr<EvaluateResult> RunLocalEvaluate(Model& model, const Loss& loss, const Dataset& data,
                                          const Parameters& global, int batch_size);

}  // namespace fedra

#endif  // FEDRA_FL_LOCAL_UPDATE_H_
