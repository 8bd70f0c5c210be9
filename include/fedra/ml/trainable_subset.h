// A model that trains only some tensors of another: parameters() and gradients() hold the
// tensors whose names `trainable` accepts, in the inner model's order; the other tensors keep
// the values they had when wrapped (e.g. a frozen pre-trained encoder under LoRA adapters and a
// new head). Trainers, strategies and the wire see only the trainable tensors, so only those
// are trained, sent and aggregated.
//
// Thread-safety: not thread-safe (see Model).
#ifndef FEDRA_ML_TRAINABLE_SUBSET_H_
#define FEDRA_ML_TRAINABLE_SUBSET_H_

#include <functional>
#include <memory>
#include <string_view>

#include "fedra/core/status.h"
#include "fedra/ml/model.h"

namespace fedra {

// InvalidArgument if `trainable` accepts no tensor of `inner`.
StatusOr<std::unique_ptr<Model>> NewTrainableSubset(
    std::unique_ptr<Model> inner, const std::function<bool(std::string_view name)>& trainable);

}  // namespace fedra

#endif  // FEDRA_ML_TRAINABLE_SUBSET_H_
