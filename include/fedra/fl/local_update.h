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

// How many plain-SGD steps `steps` steps of heavy-ball SGD with momentum rho in [0, 1) are
// worth: sum over k = 1..steps of (1 - rho^k) / (1 - rho), i.e.
// (steps - rho (1 - rho^steps) / (1 - rho)) / (1 - rho); `steps` itself without momentum.
// FedNova's normaliser a_i (Wang et al. 2020), also used for SCAFFOLD's control update.
double EffectiveLocalSteps(int64_t steps, double momentum);

// Sets the model to `global`, trains `config.epochs` epochs (or `config.local_steps` steps) of
// SGD (momentum and weight decay per config) and returns update = local - global.
// With proximal_mu > 0 adds the FedProx term mu * (w - global) to every gradient.
// With scaffold, needs broadcast["control"] (c), adds c - c_i to every gradient and returns
// extras["control_delta"] = c_i+ - c_i with option II of Karimireddy et al.:
// c_i+ = c_i - c + (global - local) / (a * lr), where a is EffectiveLocalSteps(steps, momentum)
// (= steps for plain SGD, as in the paper; with momentum the local model moved a / steps times
// further per gradient); updates state->control.
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
