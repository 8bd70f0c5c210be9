// FedTrimmedAvg (coordinate-wise trimmed mean; Yin et al., ICML 2018): per coordinate, drop
// the floor(beta * n) smallest and largest client values and average the rest (unweighted).
// Needs every individual update (AggregationMode::kIndividual).
#ifndef FEDRA_FL_FED_TRIMMED_AVG_H_
#define FEDRA_FL_FED_TRIMMED_AVG_H_

#include <memory>

#include "fedra/core/status.h"
#include "fedra/fl/fed_avg.h"
#include "fedra/fl/strategy.h"

namespace fedra {

struct FedTrimmedAvgOptions {
  FedAvgOptions base;
  double beta = 0.2;  // fraction cut from each end, in [0, 0.5)
};
// InvalidArgument if the base options are invalid or beta is outside [0, 0.5).
// Name() is "fedtrimmedavg".
StatusOr<std::unique_ptr<Strategy>> NewFedTrimmedAvg(const FedTrimmedAvgOptions& options);

}  // namespace fedra

#endif  // FEDRA_FL_FED_TRIMMED_AVG_H_
