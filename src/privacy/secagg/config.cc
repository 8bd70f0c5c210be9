#include "fedra/privacy/secagg/config.h"

#include <bit>
#include <string>

namespace fedra::secagg {

uint32_t DefaultNeighbours(uint32_t num_clients) {
  if (num_clients <= 2) return 0;
  const uint32_t log2n = static_cast<uint32_t>(std::bit_width(num_clients - 1));  // ceil(log2 n)
  uint32_t k = 3 * log2n;
  k += k % 2;
  return k >= num_clients - 1 ? 0 : k;
}

StatusOr<SecAggConfig> ResolveConfig(const SecAggConfig& config, bool allow_low_threshold) {
  SecAggConfig c = config;
  if (c.num_clients < 2)
    return InvalidArgumentError("secagg: num_clients must be >= 2, got " +
                                std::to_string(c.num_clients));
  if (c.vector_length == 0) return InvalidArgumentError("secagg: vector_length must be >= 1");
  if (c.neighbours != 0) {
    if (c.neighbours % 2 != 0 || c.neighbours < 2)
      return InvalidArgumentError("secagg: neighbours (k) must be an even number >= 2, got " +
                                  std::to_string(c.neighbours));
    if (c.neighbours >= c.num_clients - 1) c.neighbours = 0;  // the complete graph
  }
  const uint32_t holders = IsComplete(c) ? c.num_clients : c.neighbours + 1;
  if (c.threshold == 0) c.threshold = holders / 2 + 1;
  if (c.threshold < 2 || c.threshold > holders)
    return InvalidArgumentError("secagg: threshold must be in [2, " + std::to_string(holders) +
                                "] (share holders per client), got " + std::to_string(c.threshold));
  if (!allow_low_threshold && 2 * c.threshold <= holders)
    return InvalidArgumentError(
        "secagg: threshold " + std::to_string(c.threshold) + " must exceed half of the " +
        std::to_string(holders) +
        " share holders, or a server colluding with the rest could learn one input");
  if (c.min_survivors == 0) c.min_survivors = c.threshold;
  if (c.min_survivors > c.num_clients)
    return InvalidArgumentError("secagg: min_survivors exceeds num_clients");
  return c;
}

}  // namespace fedra::secagg
