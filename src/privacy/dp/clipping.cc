#include "fedra/privacy/dp/clipping.h"

#include "fedra/core/status.h"
#include "fedra/ml/tensor.h"

namespace fedra::dp {

double ClipL2(std::span<float> x, double clip_norm) {
  FEDRA_CHECK(clip_norm > 0);
  VectorMap v(x.data(), static_cast<Eigen::Index>(x.size()));
  const double norm = v.cast<double>().norm();  // accumulated in double, like L2Norm()
  if (norm > clip_norm) v *= static_cast<float>(clip_norm / norm);
  return norm;
}

double ClipL2(Parameters& x, double clip_norm) { return ClipL2(x.span(), clip_norm); }

}  // namespace fedra::dp
