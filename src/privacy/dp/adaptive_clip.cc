#include "fedra/privacy/dp/adaptive_clip.h"

#include <cmath>
#include <string>

namespace fedra::dp {

StatusOr<AdaptiveClip> AdaptiveClip::Create(const AdaptiveClipOptions& o) {
  if (!(o.initial_clip_norm > 0) || !std::isfinite(o.initial_clip_norm))
    return InvalidArgumentError("adaptive clipping: initial clip norm must be > 0");
  if (!(o.target_quantile > 0 && o.target_quantile < 1)) {
    return InvalidArgumentError("adaptive clipping: target quantile must be in (0, 1), got " +
                                std::to_string(o.target_quantile));
  }
  if (!(o.learning_rate > 0) || !std::isfinite(o.learning_rate))
    return InvalidArgumentError("adaptive clipping: learning rate must be > 0");
  return AdaptiveClip(o);
}

void AdaptiveClip::Update(double noisy_count, double expected_clients) {
  FEDRA_CHECK(expected_clients > 0);
  const double fraction_below = noisy_count / expected_clients;
  clip_norm_ *= std::exp(-options_.learning_rate * (fraction_below - options_.target_quantile));
}

Status AdaptiveClip::set_clip_norm(double c) {
  if (!(c > 0) || !std::isfinite(c))
    return InvalidArgumentError("adaptive clipping: clip norm must be finite and > 0");
  clip_norm_ = c;
  return OkStatus();
}

StatusOr<double> AdaptiveUpdateNoiseMultiplier(double z, double count_stddev) {
  if (!(z > 0) || !std::isfinite(z))
    return InvalidArgumentError("noise multiplier must be a finite number > 0");
  if (!(2 * count_stddev > z)) {
    return InvalidArgumentError(
        "adaptive clipping: the count noise stddev (" + std::to_string(count_stddev) +
        ") must exceed half the noise multiplier (" + std::to_string(z / 2) +
        "); sample more clients per round or use a fixed clip norm");
  }
  return 1 / std::sqrt(1 / (z * z) - 1 / (4 * count_stddev * count_stddev));
}

}  // namespace fedra::dp
