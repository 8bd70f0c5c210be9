// Names that an edge aggregator (fedra/net/edge.h) and its upper server share besides a
// strategy's own sums: what travels up with an edge's folded sums, and down in the FIT config
// of a DP run across tiers (fedra/fl/dp_strategy.h, DpOptions::across_tiers).
#ifndef FEDRA_FL_TIERS_H_
#define FEDRA_FL_TIERS_H_

namespace fedra {

// Scalars of every edge's folded sums: the clients its strategy chose for the round and the
// clients it had connected. Summed over the edges at the upper server, they are the round's
// client count and population across tiers (DP divides and accounts by them).
inline constexpr char kTierPlannedScalar[] = "fedra.tier_planned";
inline constexpr char kTierAvailableScalar[] = "fedra.tier_available";

// FIT config key of a DP run across tiers: "central", "local" or "distributed". An edge that
// reads it folds its clients as DP does (each update clipped to the task's clip_norm, weight
// 1) whatever its own strategy; in "distributed" the task's noise_stddev is the edge's share,
// which it splits over its clients (and tops up for those that drop out).
inline constexpr char kDpTierModeKey[] = "fedra.dp_tier_mode";

}  // namespace fedra

#endif  // FEDRA_FL_TIERS_H_
