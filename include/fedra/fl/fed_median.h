// FedMedian (coordinate-wise median; Yin et al., "Byzantine-Robust Distributed Learning:
// Towards Optimal Statistical Rates", ICML 2018): the new global model is the global model
// plus the coordinate-wise median of the client updates (unweighted; even counts average the
// two middle values). Needs every individual update (AggregationMode::kIndividual).
#ifndef FEDRA_FL_FED_MEDIAN_H_
#define FEDRA_FL_FED_MEDIAN_H_

#include <memory>

#include "fedra/core/status.h"
#include "fedra/fl/fed_avg.h"
#include "fedra/fl/strategy.h"

namespace fedra {

// InvalidArgument if the options are invalid. Name() is "fedmedian".
StatusOr<std::unique_ptr<Strategy>> NewFedMedian(const FedAvgOptions& options);

}  // namespace fedra

#endif  // FEDRA_FL_FED_MEDIAN_H_
