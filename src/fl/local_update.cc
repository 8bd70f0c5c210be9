#include "fedra/fl/local_update.h"

#include <cmath>

#include "fedra/ml/fine_tuning.h"
#include "fedra/ml/optimizer.h"
#include "fedra/ml/trainer.h"

namespace fedra {
namespace {

// The SCAFFOLD correction c - c_i, or an error if the broadcast control does not fit.
StatusOr<Parameters> ScaffoldCorrection(const Parameters& global,
                                        const std::map<std::string, Parameters>& broadcast,
                                        ClientState* state) {
  auto it = broadcast.find("control");
  if (it == broadcast.end())
    return InvalidArgumentError("SCAFFOLD round without a server control variate");
  FEDRA_RETURN_IF_ERROR(global.CheckSameLayout(it->second).WithContext("server control variate"));
  if (state == nullptr) return InvalidArgumentError("SCAFFOLD needs client state");
  if (!state->control.SameLayout(global)) state->control = Parameters::ZerosLike(global);
  Parameters correction = it->second;
  correction.SubInPlace(state->control);
  return correction;
}

}  // namespace

double EffectiveLocalSteps(int64_t steps, double momentum) {
  const auto t = static_cast<double>(steps);
  if (momentum == 0) return t;
  return (t - momentum * (1 - std::pow(momentum, t)) / (1 - momentum)) / (1 - momentum);
}

StatusOr<FitResult> RunLocalFit(Model& model, const Loss& loss, const Dataset& data,
                                const Parameters& global, const FitConfig& config,
                                const std::map<std::string, Parameters>& broadcast,
                                ClientState* state, Rng& rng) {
  FEDRA_RETURN_IF_ERROR(model.SetParameters(global).WithContext("global parameters"));
  Parameters correction;
  if (config.scaffold) {
    FEDRA_ASSIGN_OR_RETURN(correction, ScaffoldCorrection(global, broadcast, state));
  }
  std::unique_ptr<Optimizer> optimizer;
  if (config.optimizer == "adam") {
    // Adam with weight_decay as an L2 term in the gradient (decoupled: "adamw").
    FEDRA_ASSIGN_OR_RETURN(optimizer, NewAdam({.learning_rate = config.learning_rate,
                                               .weight_decay = config.weight_decay}));
  } else if (config.optimizer == "adamw") {
    FEDRA_ASSIGN_OR_RETURN(optimizer,
                           NewAdamW({.learning_rate = config.learning_rate,
                                     .weight_decay = config.weight_decay,
                                     .decay_mask = WeightDecayMask(model.parameters())}));
  } else if (config.optimizer == "sgd") {
    FEDRA_ASSIGN_OR_RETURN(optimizer, NewSgd({.learning_rate = config.learning_rate,
                                              .momentum = config.momentum,
                                              .weight_decay = config.weight_decay}));
  } else {
    return InvalidArgumentError("unknown local optimizer '" + config.optimizer + "'");
  }
  TrainOptions options{.epochs = config.epochs,
                       .batch_size = config.batch_size,
                       .max_grad_norm = config.max_grad_norm,
                       .steps = config.local_steps};
  if (config.proximal_mu > 0 || config.scaffold) {
    options.gradient_hook = [&](const Parameters& params, Parameters& grads) {
      if (config.proximal_mu > 0) {
        grads.Axpy(config.proximal_mu, params);
        grads.Axpy(-config.proximal_mu, global);
      }
      if (config.scaffold) grads.AddInPlace(correction);
    };
  }
  model.ReseedRandomState(rng.NextU64());
  FEDRA_ASSIGN_OR_RETURN(TrainResult fit, Fit(model, loss, *optimizer, data, options, rng));
  FitResult result;
  result.num_examples = fit.num_examples;
  result.local_steps = fit.steps;
  result.train_loss = fit.loss();
  result.update = model.parameters();
  result.update.SubInPlace(global);
  if (config.scaffold && result.local_steps > 0) {
    // c_i+ - c_i = -c + (global - local) / (a lr) = -c - update / (a lr).
    const double a = EffectiveLocalSteps(result.local_steps, config.momentum);
    Parameters delta = broadcast.at("control");
    delta.Scale(-1.0f);
    delta.Axpy(static_cast<float>(-1.0 / (a * config.learning_rate)), result.update);
    state->control.AddInPlace(delta);
    result.extras["control_delta"] = std::move(delta);
  } else if (config.scaffold) {
    result.extras["control_delta"] = Parameters::ZerosLike(global);
  }
  return result;
}

StatusOr<EvaluateResult> RunLocalEvaluate(Model& model, const Loss& loss, const Dataset& data,
                                          const Parameters& global, int batch_size) {
  FEDRA_RETURN_IF_ERROR(model.SetParameters(global).WithContext("global parameters"));
  FEDRA_ASSIGN_OR_RETURN(EvalResult eval, Evaluate(model, loss, data, batch_size));
  return EvaluateResult{
      .num_examples = eval.num_examples, .loss = eval.loss, .accuracy = eval.accuracy};
}

}  // namespace fedra
