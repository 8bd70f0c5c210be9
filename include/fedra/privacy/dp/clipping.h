// L2 clipping, the first stage of every Gaussian DP mechanism: scaling a vector so that its
// L2 norm is at most C bounds its contribution (the sensitivity of a sum) by C.
//
// Thread-safety: free functions on caller-owned data.
#ifndef FEDRA_PRIVACY_DP_CLIPPING_H_
#define FEDRA_PRIVACY_DP_CLIPPING_H_

#include <span>

#include "fedra/ml/parameters.h"

namespace fedra::dp {

// Scales `x` by min(1, clip_norm / ||x||_2) in place and returns ||x||_2 *before* clipping
// (accumulated in double). A zero vector is left unchanged. REQUIRES: clip_norm > 0.
double ClipL2(std::span<float> x, double clip_norm);
double ClipL2(Parameters& x, double clip_norm);

}  // namespace fedra::dp

#endif  // FEDRA_PRIVACY_DP_CLIPPING_H_
