// Krum and Multi-Krum (Blanchard et al., "Machine Learning with Adversaries: Byzantine
// Tolerant Gradient Descent", NeurIPS 2017). Each update is scored by the sum of squared
// distances to its n - f - 2 nearest other updates; Krum applies the best-scored update,
// Multi-Krum the unweighted mean of the m best. Needs every individual update.
#ifndef FEDRA_FL_KRUM_H_
#define FEDRA_FL_KRUM_H_

#include <memory>

#include "fedra/core/status.h"
#include "fedra/fl/fed_avg.h"
#include "fedra/fl/strategy.h"

namespace fedra {

struct KrumOptions {
  FedAvgOptions base;
  size_t num_byzantine = 0;  // f: tolerated Byzantine clients; needs n > 2f + 2 results
  size_t num_selected = 1;   // m: 1 is Krum, > 1 is Multi-Krum
};
// InvalidArgument unless the base options are valid and m >= 1. Name() is "krum" (m = 1) or
// "multikrum". AggregateFit: FailedPrecondition when it gets n <= 2f + 2 results or fewer
// than m (set base.sampling.min_fit_clients >= max(2f + 3, m) so that every round the driver
// closes can be aggregated); ties between equal scores go to the earlier result.
StatusOr<std::unique_ptr<Strategy>> NewKrum(const KrumOptions& options);

}  // namespace fedra

#endif  // FEDRA_FL_KRUM_H_
