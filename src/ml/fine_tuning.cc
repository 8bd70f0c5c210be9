#include "fedra/ml/fine_tuning.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>

namespace fedra {

Status ValidateLrSchedule(const LrSchedule& s) {
  if (!std::isfinite(s.peak) || s.peak < 0)
    return InvalidArgumentError("learning-rate schedule: peak must be finite and >= 0");
  if (s.total_steps < 1 || s.warmup_steps < 0 || s.warmup_steps > s.total_steps)
    return InvalidArgumentError("learning-rate schedule: need 0 <= warm-up steps (" +
                                std::to_string(s.warmup_steps) + ") <= total steps (" +
                                std::to_string(s.total_steps) + ") and total steps >= 1");
  if (!(s.floor_fraction >= 0 && s.floor_fraction <= 1))
    return InvalidArgumentError("learning-rate schedule: floor fraction must be in [0, 1]");
  return OkStatus();
}

double LearningRateAt(const LrSchedule& s, int64_t step) {
  if (step < s.warmup_steps)
    return s.peak * static_cast<double>(step + 1) / static_cast<double>(s.warmup_steps);
  const double floor = s.peak * s.floor_fraction;
  const int64_t span = s.total_steps - s.warmup_steps;
  if (s.decay == LrSchedule::Decay::kConstant || span == 0) return s.peak;
  const double t = std::min(1.0, static_cast<double>(step - s.warmup_steps) / span);
  const double shape = s.decay == LrSchedule::Decay::kLinear
                           ? 1.0 - t
                           : 0.5 * (1.0 + std::cos(std::numbers::pi * t));
  return floor + (s.peak - floor) * shape;
}

double ClipByGlobalNorm(std::span<float> grads, double max_norm) {
  double sum = 0;
  for (float g : grads) sum += static_cast<double>(g) * g;
  const double norm = std::sqrt(sum);
  if (max_norm > 0 && norm > max_norm) {
    const auto scale = static_cast<float>(max_norm / norm);
    for (float& g : grads) g *= scale;
  }
  return norm;
}

std::vector<float> WeightDecayMask(const Parameters& params) {
  std::vector<float> mask(params.size(), 0.0f);
  for (const TensorInfo& t : params.tensors())
    if (t.shape.size() >= 2)
      std::fill_n(mask.begin() + static_cast<ptrdiff_t>(t.offset), t.size, 1.0f);
  return mask;
}

}  // namespace fedra
