// The one-line progress report per round that fedra-sim and fedra-server print.
#ifndef FEDRA_APPS_ROUND_LINE_H_
#define FEDRA_APPS_ROUND_LINE_H_

#include <optional>
#include <string>

#include "fedra/fl/round_driver.h"

namespace fedra::apps {

// "round   3/20  clients 10 (0 failed)  train loss 0.4210  test loss ... acc ...  fed-eval acc
// ...  eps ... clip ...  late ...  4.2 s  ETA 71 s", each part only when it applies (privacy
// from extras "dp_epsilon"/"dp_clip_norm", dropped late results from "late_results").
std::string FormatRoundLine(const RoundMetrics& m, int rounds, std::optional<double> eta_seconds);

}  // namespace fedra::apps

#endif  // FEDRA_APPS_ROUND_LINE_H_
