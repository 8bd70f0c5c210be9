// Command-line flags for the strategy and local training settings, shared by fedra-sim and
// fedra-server so both accept the same names.
#ifndef FEDRA_APPS_STRATEGY_FLAGS_H_
#define FEDRA_APPS_STRATEGY_FLAGS_H_

#include "fedra/fl/influence_bound.h"
#include "fedra/fl/strategy_config.h"
#include "fedra/ml/fine_tuning.h"

// Only the name: CLI11 is expensive to compile, so only the files that add flags include it.
namespace CLI {
class App;
}  // namespace CLI

namespace fedra::apps {

// Registers --strategy, --fraction-fit, --epochs, --lr, ... and the --dp-* flags, writing
// into `config`.
void AddStrategyFlags(CLI::App& app, StrategyConfig& config);

// The differential-privacy flags alone: --dp-mode, --dp-clip, --dp-noise-multiplier,
// --dp-clip-on-client, --dp-adaptive-*, --dp-target-epsilon, --dp-delta,
// --dp-budget-action, --dp-seed.
void AddDpFlags(CLI::App& app, DpOptions& dp);

// The influence bound (fl/influence_bound.h): --influence-bound on|off (default from
// `bound.enabled`), --influence-weight-factor, --influence-norm-factor,
// --influence-calibration.
void AddInfluenceFlags(CLI::App& app, InfluenceBoundOptions& bound);

// With --dp-noise-multiplier 0: sets the smallest noise multiplier whose epsilon after
// `rounds` rounds stays within --dp-target-epsilon, at the sampling rate the strategy will use
// with `clients` clients (q = 1 in local mode). Nothing to do otherwise.
Status CalibrateDpNoise(StrategyConfig& config, size_t clients, int rounds);

// --lr-decay as the round driver's decay (the flag's values are checked by CLI11).
LrSchedule::Decay ClientLrDecay(const StrategyConfig& config);

// InvalidArgument, at start-up, when a Byzantine-robust strategy's precondition cannot hold in
// any round with `clients` clients (Krum needs more than 2f + 2 results and at least m), or
// when --byzantine is given to a strategy that ignores it.
Status CheckRobustnessPreconditions(const StrategyConfig& config, size_t clients);

}  // namespace fedra::apps

#endif  // FEDRA_APPS_STRATEGY_FLAGS_H_
