#include "fedra/privacy/secagg/quantizer.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace fedra::secagg {

StatusOr<Quantizer> Quantizer::Create(const QuantizerOptions& o) {
  if (!std::isfinite(o.clip) || o.clip <= 0)
    return InvalidArgumentError("quantizer: clip must be a finite number > 0");
  if (o.num_clients < 1) return InvalidArgumentError("quantizer: num_clients must be >= 1");
  const uint64_t max_step_count = ((uint64_t{1} << 32) - 1) / o.num_clients;
  uint64_t levels = o.levels == 0 ? max_step_count + 1 : o.levels;
  if (levels < 2) return InvalidArgumentError("quantizer: levels must be >= 2");
  if (levels - 1 > max_step_count)
    return InvalidArgumentError("quantizer: " + std::to_string(o.num_clients) + " clients x " +
                                std::to_string(levels - 1) +
                                " steps would wrap around 2^32; use at most " +
                                std::to_string(max_step_count + 1) + " levels");
  return Quantizer(o, levels);
}

Quantizer::Quantizer(const QuantizerOptions& o, uint64_t levels)
    : clip_(o.clip),
      num_clients_(o.num_clients),
      levels_(levels),
      step_(2.0 * o.clip / static_cast<double>(levels - 1)) {}

Status Quantizer::Quantize(std::span<const float> x, Prg& rng, std::span<uint32_t> out) const {
  if (x.size() != out.size())
    return InvalidArgumentError("quantizer: input and output sizes differ");
  const double top = static_cast<double>(levels_ - 1);
  constexpr size_t kBlock = 1024;
  uint32_t u[kBlock];
  for (size_t start = 0; start < x.size(); start += kBlock) {
    const size_t n = std::min(kBlock, x.size() - start);
    rng.Fill(std::span<uint8_t>(reinterpret_cast<uint8_t*>(u), n * sizeof(uint32_t)));
    for (size_t i = 0; i < n; ++i) {
      const double xi = x[start + i];
      if (!std::isfinite(xi))
        return InvalidArgumentError("quantizer: an input coordinate is not finite");
      const double v = std::clamp((std::clamp(xi, -clip_, clip_) + clip_) / step_, 0.0, top);
      const double fl = std::floor(v);
      // u / 2^32 < frac rounds up with probability frac (to within 2^-32).
      const bool up = static_cast<double>(u[i]) * 0x1.0p-32 < v - fl;
      out[start + i] = static_cast<uint32_t>(fl) + (up ? 1u : 0u);
    }
  }
  return OkStatus();
}

Status Quantizer::Dequantize(std::span<const uint32_t> sum, uint32_t count,
                             std::span<float> out) const {
  if (sum.size() != out.size())
    return InvalidArgumentError("quantizer: sum and output sizes differ");
  if (count > num_clients_)
    return InvalidArgumentError("quantizer: " + std::to_string(count) +
                                " clients exceed the configured " + std::to_string(num_clients_));
  const double offset = count * clip_;
  const uint64_t most = uint64_t{count} * (levels_ - 1);
  for (size_t i = 0; i < sum.size(); ++i) {
    if (sum[i] > most)
      return OutOfRangeError("quantizer: coordinate " + std::to_string(i) + " of the sum of " +
                             std::to_string(count) +
                             " clients is above what their grid values can add up to: an input "
                             "was outside the quantizer's range; the sum is refused");
    out[i] = static_cast<float>(static_cast<double>(sum[i]) * step_ - offset);
  }
  return OkStatus();
}

}  // namespace fedra::secagg
