// Private to the optimizer implementations (optimizer.cc, sgd.cc, adam.cc): constructors for
// already-validated options and the state checks every optimizer shares.
#ifndef FEDRA_SRC_ML_OPTIMIZER_INTERNAL_H_
#define FEDRA_SRC_ML_OPTIMIZER_INTERNAL_H_

#include <cstddef>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string_view>

#include "fedra/core/status.h"
#include "fedra/ml/optimizer.h"

namespace fedra::internal {

// REQUIRES: options validated by NewSgd / NewAdam.
std::unique_ptr<Optimizer> MakeSgd(const SgdOptions& options);
std::unique_ptr<Optimizer> MakeAdam(const AdamOptions& options);

// Checks `state` for import into an optimizer named `kind` that keeps exactly the buffers
// `names`, each with one value per parameter, and whose parameter count is `size` (nullopt
// if no Step has fixed it yet). Buffers are empty at step 0 and hold `size` values after.
// Returns the buffers' common length (0 without buffers), or InvalidArgument.
StatusOr<size_t> ValidateState(const OptimizerState& state, std::string_view kind,
                               std::initializer_list<std::string_view> names,
                               std::optional<size_t> size);

// FEDRA_CHECKs the spans given to Step: equal lengths, and the same length as on the first
// call, which fixes `*size`.
void CheckStepSizes(size_t params, size_t grads, std::optional<size_t>* size);

// FEDRA_CHECKs a learning rate given to set_learning_rate: finite and non-negative.
void CheckLearningRate(float lr);

}  // namespace fedra::internal

#endif  // FEDRA_SRC_ML_OPTIMIZER_INTERNAL_H_
