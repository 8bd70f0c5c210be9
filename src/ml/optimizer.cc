#include "fedra/ml/optimizer.h"

#include <cmath>
#include <set>
#include <sstream>
#include <string>
#include <utility>

#include "optimizer_internal.h"

namespace fedra {
namespace {

std::string Str(float value) {
  std::ostringstream os;
  os << value;
  return os.str();
}

Status CheckNonNegative(std::string_view name, float value) {
  if (std::isfinite(value) && value >= 0.0f) return OkStatus();
  return InvalidArgumentError(std::string(name) + " must be finite and >= 0, got " + Str(value));
}

Status CheckUnitInterval(std::string_view name, float value) {
  if (value >= 0.0f && value < 1.0f) return OkStatus();
  return InvalidArgumentError(std::string(name) + " must be in [0, 1), got " + Str(value));
}

Status CheckBufferNames(const OptimizerState& state,
                        std::initializer_list<std::string_view> names) {
  for (std::string_view name : names) {
    if (!state.buffers.contains(std::string(name))) {
      return InvalidArgumentError("missing buffer '" + std::string(name) + "'");
    }
  }
  const std::set<std::string_view> expected(names);
  for (const auto& [name, values] : state.buffers) {
    if (!expected.contains(name)) return InvalidArgumentError("unexpected buffer '" + name + "'");
  }
  return OkStatus();
}

}  // namespace

namespace internal {

StatusOr<size_t> ValidateState(const OptimizerState& state, std::string_view kind,
                               std::initializer_list<std::string_view> names,
                               std::optional<size_t> size) {
  if (state.kind != kind) {
    return InvalidArgumentError("expected state of a '" + std::string(kind) + "' optimizer, got '" +
                                state.kind + "'");
  }
  if (state.step < 0) return InvalidArgumentError("negative step " + std::to_string(state.step));
  FEDRA_RETURN_IF_ERROR(CheckBufferNames(state, names));
  if (state.buffers.empty()) return size_t{0};
  const auto& [first_name, first_values] = *state.buffers.begin();
  const size_t n = first_values.size();
  for (const auto& [name, values] : state.buffers) {
    if (values.size() != n) {
      return InvalidArgumentError("buffers '" + first_name + "' and '" + name +
                                  "' differ in length (" + std::to_string(n) + " vs " +
                                  std::to_string(values.size()) + ")");
    }
  }
  if (state.step == 0 && n != 0) {
    return InvalidArgumentError("buffers must be empty at step 0, got " + std::to_string(n) +
                                " values");
  }
  if (state.step > 0 && size.has_value() && n != *size) {
    return InvalidArgumentError("buffers have " + std::to_string(n) + " values, expected " +
                                std::to_string(*size));
  }
  return n;
}

void CheckStepSizes(size_t params, size_t grads, std::optional<size_t>* size) {
  FEDRA_CHECK_MSG(params == grads, "params and grads differ in length: " + std::to_string(params) +
                                       " vs " + std::to_string(grads));
  if (!size->has_value()) *size = params;
  FEDRA_CHECK_MSG(params == **size, "optimizer sized for " + std::to_string(**size) +
                                        " parameters, got " + std::to_string(params));
}

void CheckLearningRate(float lr) {
  FEDRA_CHECK_MSG(std::isfinite(lr) && lr >= 0.0f, "bad learning rate " + Str(lr));
}

}  // namespace internal

StatusOr<std::unique_ptr<Optimizer>> NewSgd(const SgdOptions& options) {
  FEDRA_RETURN_IF_ERROR(CheckNonNegative("learning_rate", options.learning_rate));
  FEDRA_RETURN_IF_ERROR(CheckUnitInterval("momentum", options.momentum));
  if (options.nesterov && options.momentum == 0.0f) {
    return InvalidArgumentError("nesterov requires momentum > 0");
  }
  FEDRA_RETURN_IF_ERROR(CheckNonNegative("weight_decay", options.weight_decay));
  return internal::MakeSgd(options);
}

StatusOr<std::unique_ptr<Optimizer>> NewAdam(const AdamOptions& options) {
  FEDRA_RETURN_IF_ERROR(CheckNonNegative("learning_rate", options.learning_rate));
  FEDRA_RETURN_IF_ERROR(CheckUnitInterval("beta1", options.beta1));
  FEDRA_RETURN_IF_ERROR(CheckUnitInterval("beta2", options.beta2));
  if (!(std::isfinite(options.epsilon) && options.epsilon > 0.0f)) {
    return InvalidArgumentError("epsilon must be finite and > 0, got " + Str(options.epsilon));
  }
  FEDRA_RETURN_IF_ERROR(CheckNonNegative("weight_decay", options.weight_decay));
  for (float m : options.decay_mask) {
    if (m != 0.0f && m != 1.0f) {
      return InvalidArgumentError("decay_mask values must be 0 or 1, got " + Str(m));
    }
  }
  return internal::MakeAdam(options);
}

StatusOr<std::unique_ptr<Optimizer>> NewAdamW(AdamOptions options) {
  options.decoupled_weight_decay = true;
  return NewAdam(options);
}

}  // namespace fedra
