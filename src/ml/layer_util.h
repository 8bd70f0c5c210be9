// Helpers shared by the built-in layers (private to src/ml).
#ifndef FEDRA_SRC_ML_LAYER_UTIL_H_
#define FEDRA_SRC_ML_LAYER_UTIL_H_

#include <cmath>
#include <span>

#include "fedra/core/rng.h"
#include "fedra/core/status.h"
#include "fedra/ml/tensor.h"

namespace fedra::internal {

// PyTorch's default initialisation for Linear and Conv2d: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
// for weights and biases.
inline void FillUniformFanIn(std::span<float> values, int64_t fan_in, Rng& rng) {
  const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
  for (float& v : values) v = static_cast<float>((2.0 * rng.Uniform() - 1.0) * bound);
}

// "layer 'conv2d' needs ..." style error text.
Status ShapeError(const char* layer, const Shape& input, const char* expected);

}  // namespace fedra::internal

#endif  // FEDRA_SRC_ML_LAYER_UTIL_H_
