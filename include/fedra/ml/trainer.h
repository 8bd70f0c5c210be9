// Local training and evaluation: mini-batch epochs over a Dataset with a Model, a Loss and an
// Optimizer. This is what a federated client runs on its own data each round, and what the
// centralized baseline runs on everything.
//
// Thread-safety: the functions are reentrant; the objects passed in are not shared.
#ifndef FEDRA_ML_TRAINER_H_
#define FEDRA_ML_TRAINER_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "fedra/core/rng.h"
#include "fedra/core/status.h"
#include "fedra/ml/dataset.h"
#include "fedra/ml/fine_tuning.h"
#include "fedra/ml/loss.h"
#include "fedra/ml/model.h"
#include "fedra/ml/optimizer.h"

namespace fedra {

struct EpochStats {
  int epoch = 0;          // 1-based
  double loss = 0.0;      // mean training loss over the epoch's examples
  double accuracy = 0.0;  // training accuracy (classification only, else 0)
  double seconds = 0.0;
};

struct TrainOptions {
  int epochs = 1;
  int batch_size = 32;
  bool shuffle = true;  // reshuffle every epoch (from the Rng passed to Fit)
  // Optional: called after each backward pass, before the optimizer step, with the current
  // parameters and the gradients it may modify (e.g. FedProx's proximal term, SCAFFOLD's
  // control-variate correction).
  std::function<void(const Parameters& params, Parameters& grads)> gradient_hook;
  // Optional: called after every epoch (progress display, early stopping by the caller).
  std::function<void(const EpochStats&)> on_epoch_end;
  // Optional: the optimizer's learning rate before update number schedule_offset + s (s
  // counting this call's updates from 0), e.g. a warm-up and decay over all of a client's
  // rounds (see fine_tuning.h).
  std::optional<LrSchedule> schedule;
  int64_t schedule_offset = 0;
  // > 0: gradients (after gradient_hook) are clipped to this global L2 norm before each step.
  double max_grad_norm = 0;
  // > 0: exactly this many optimizer steps instead of `epochs` passes (the data is
  // reshuffled at every new pass; the last pass's EpochStats cover the examples it saw).
  int64_t steps = 0;
};

struct TrainResult {
  size_t num_examples = 0;  // examples in the dataset
  int64_t steps = 0;        // optimizer steps taken
  std::vector<EpochStats> epochs;
  double loss() const { return epochs.empty() ? 0.0 : epochs.back().loss; }
};

struct EvalResult {
  size_t num_examples = 0;
  double loss = 0.0;      // mean over examples
  double accuracy = 0.0;  // fraction correct (classification only)
};

// Trains `model` in place. InvalidArgument if the data does not fit the model or the loss
// (feature size, target shape, labels beyond the output size) or options are out of range
// (including an invalid schedule, a negative or non-finite max_grad_norm);
// FailedPrecondition if the loss or a gradient becomes NaN/Inf (no step is taken with a
// non-finite gradient; the model keeps the parameters it had before that step).
StatusOr<TrainResult> Fit(Model& model, const Loss& loss, Optimizer& optimizer, const Dataset& data,
                          const TrainOptions& options, Rng& rng);

// Evaluates in evaluation mode (no dropout) in batches of `batch_size`. `on_batch`, when set,
// sees each batch's model output and targets, so further metrics need no second pass.
StatusOr<EvalResult> Evaluate(
    Model& model, const Loss& loss, const Dataset& data, int batch_size = 256,
    const std::function<void(const Matrix& output, const Matrix& targets)>& on_batch = {});

}  // namespace fedra

#endif  // FEDRA_ML_TRAINER_H_
