#include "fedra/ml/trainer.h"

#include <chrono>
#include <cmath>
#include <numeric>
#include <span>

namespace fedra {
namespace {

Status CheckCompatible(const Model& model, const Loss& loss, const Dataset& data) {
  FEDRA_RETURN_IF_ERROR(data.Validate());
  const int64_t in = NumElements(model.InputShape());
  if (data.features.rows() != in) {
    return InvalidArgumentError("examples have " + std::to_string(data.features.rows()) +
                                " features but model '" + model.Name() + "' takes " +
                                ShapeToString(model.InputShape()) + " = " + std::to_string(in));
  }
  const int64_t out = NumElements(model.OutputShape());
  if (loss.is_classification()) {
    if (!data.is_classification()) {
      return InvalidArgumentError("loss '" + loss.Name() +
                                  "' needs class labels, data has regression targets");
    }
    if (data.num_classes > out) {
      return InvalidArgumentError("data has " + std::to_string(data.num_classes) +
                                  " classes but model '" + model.Name() + "' outputs " +
                                  std::to_string(out) + " scores");
    }
  } else if (data.targets.rows() != out) {
    return InvalidArgumentError("targets have " + std::to_string(data.targets.rows()) +
                                " rows but model '" + model.Name() + "' outputs " +
                                std::to_string(out));
  }
  return OkStatus();
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

StatusOr<TrainResult> Fit(Model& model, const Loss& loss, Optimizer& optimizer, const Dataset& data,
                          const TrainOptions& options, Rng& rng) {
  if (options.epochs < 0 || options.batch_size <= 0 || options.steps < 0) {
    return InvalidArgumentError("need epochs >= 0, steps >= 0 and batch_size > 0");
  }
  if (!std::isfinite(options.max_grad_norm) || options.max_grad_norm < 0) {
    return InvalidArgumentError("max_grad_norm must be finite and >= 0 (0: no clipping)");
  }
  if (options.schedule) {
    FEDRA_RETURN_IF_ERROR(ValidateLrSchedule(*options.schedule));
    if (options.schedule_offset < 0) return InvalidArgumentError("schedule_offset must be >= 0");
  }
  FEDRA_RETURN_IF_ERROR(CheckCompatible(model, loss, data));
  TrainResult result;
  result.num_examples = data.size();
  if (data.size() == 0) return result;
  std::vector<size_t> order(data.size());
  std::iota(order.begin(), order.end(), size_t{0});
  Matrix x, y, grad;
  model.SetTraining(true);
  int epoch = 1;
  auto Diverged = [&](const std::string& what) {
    return FailedPreconditionError(
        "training diverged: " + what + " at epoch " + std::to_string(epoch) + ", step " +
        std::to_string(result.steps + 1) + " (try a smaller learning rate)");
  };
  const bool by_steps = options.steps > 0;
  for (; by_steps ? result.steps < options.steps : epoch <= options.epochs; ++epoch) {
    const auto start = std::chrono::steady_clock::now();
    if (options.shuffle) rng.Shuffle(order);
    double loss_sum = 0.0;
    size_t correct = 0;
    size_t seen = 0;
    for (size_t begin = 0; begin < order.size(); begin += static_cast<size_t>(options.batch_size)) {
      if (by_steps && result.steps == options.steps) break;
      const size_t n = std::min(static_cast<size_t>(options.batch_size), order.size() - begin);
      seen += n;
      data.Gather(std::span<const size_t>(order).subspan(begin, n), &x, &y);
      const Matrix& out = model.Forward(x);
      const double batch_loss = loss.Compute(out, y, &grad);
      if (!std::isfinite(batch_loss)) return Diverged("loss is " + std::to_string(batch_loss));
      if (loss.is_classification()) correct += CountCorrect(out, y);
      loss_sum += batch_loss * static_cast<double>(n);
      model.Backward(grad);
      Parameters& params = model.mutable_parameters();
      if (options.gradient_hook) options.gradient_hook(params, model.mutable_gradients());
      // The guard checks what the step would apply, so no full parameter copy is needed.
      if (!model.gradients().CheckFinite().ok()) return Diverged("a gradient is NaN or Inf");
      if (options.max_grad_norm > 0) {
        ClipByGlobalNorm(model.mutable_gradients().span(), options.max_grad_norm);
      }
      if (options.schedule) {
        optimizer.set_learning_rate(static_cast<float>(
            LearningRateAt(*options.schedule, options.schedule_offset + result.steps)));
      }
      optimizer.Step(params.span(), model.gradients().span());
      ++result.steps;
    }
    const double count = static_cast<double>(seen);
    EpochStats stats{epoch, loss_sum / count, static_cast<double>(correct) / count,
                     SecondsSince(start)};
    result.epochs.push_back(stats);
    if (options.on_epoch_end) options.on_epoch_end(stats);
  }
  return result;
}

StatusOr<EvalResult> Evaluate(Model& model, const Loss& loss, const Dataset& data, int batch_size,
                              const std::function<void(const Matrix&, const Matrix&)>& on_batch) {
  if (batch_size <= 0) return InvalidArgumentError("batch_size must be > 0");
  FEDRA_RETURN_IF_ERROR(CheckCompatible(model, loss, data));
  EvalResult result;
  result.num_examples = data.size();
  if (data.size() == 0) return result;
  model.SetTraining(false);
  std::vector<size_t> idx(data.size());
  std::iota(idx.begin(), idx.end(), size_t{0});
  Matrix x, y;
  double loss_sum = 0.0;
  size_t correct = 0;
  for (size_t begin = 0; begin < idx.size(); begin += static_cast<size_t>(batch_size)) {
    const size_t n = std::min(static_cast<size_t>(batch_size), idx.size() - begin);
    data.Gather(std::span<const size_t>(idx).subspan(begin, n), &x, &y);
    const Matrix& out = model.Forward(x);
    loss_sum += loss.Compute(out, y, nullptr) * static_cast<double>(n);
    if (loss.is_classification()) correct += CountCorrect(out, y);
    if (on_batch) on_batch(out, y);
  }
  model.SetTraining(true);
  result.loss = loss_sum / static_cast<double>(data.size());
  result.accuracy = static_cast<double>(correct) / static_cast<double>(data.size());
  return result;
}

}  // namespace fedra
