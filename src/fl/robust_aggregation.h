// Private to src/fl: the maths and plumbing shared by the Byzantine-robust strategies
// (FedMedian, FedTrimmedAvg, Krum), which need every individual client update
// (AggregationMode::kIndividual). Free functions, as Flower keeps its aggregate_median() and
// friends, so each strategy file only holds its own class.
//
// The coordinate-wise functions and the shared plumbing are defined in fed_median.cc, the
// Krum scores in krum.cc.
#ifndef FEDRA_SRC_FL_ROBUST_AGGREGATION_H_
#define FEDRA_SRC_FL_ROBUST_AGGREGATION_H_

#include <cstddef>
#include <span>
#include <vector>

#include "fedra/core/status.h"
#include "fedra/fl/types.h"
#include "fedra/ml/parameters.h"

namespace fedra::robust {

// OK iff there is at least one result and every update has the layout of `global` and is
// finite. The round driver already validates updates; this keeps a robust strategy safe when
// called directly. FailedPrecondition if `results` is empty; InvalidArgument naming the client
// otherwise.
Status CheckResults(const Parameters& global, std::span<const FitResult> results);

// Coordinate-wise median of the updates (unweighted); an even count averages the two middle
// values. REQUIRES: CheckResults() is OK.
Parameters CoordinateMedian(std::span<const FitResult> results);

// Coordinate-wise trimmed mean: per coordinate, drops the floor(beta * n) smallest and largest
// values and averages the rest (unweighted). REQUIRES: CheckResults() is OK, 0 <= beta < 0.5.
Parameters TrimmedMean(std::span<const FitResult> results, double beta);

// Krum scores of Blanchard et al. (2017): score_i is the sum of the squared Euclidean
// distances from update i to its n - f - 2 nearest other updates. Lower is better.
// REQUIRES: CheckResults() is OK and n > 2f + 2.
std::vector<double> KrumScores(std::span<const FitResult> results, size_t f);

}  // namespace fedra::robust

#endif  // FEDRA_SRC_FL_ROBUST_AGGREGATION_H_
