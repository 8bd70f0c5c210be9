// RoundConfig: the open part of a round's instructions. A strategy puts any named setting in
// FitConfig::extra or EvaluateTask::extra (a learning-rate schedule, a flag of its own, ...);
// the gRPC server sends it to the client unchanged and the client's LocalTrainer reads it.
// Values are int64, double, string or bool. Metrics flow back the other way as named doubles
// (FitResult::metrics, EvaluateResult::metrics).
//
// Limits keep one strategy or one peer from sending unbounded maps: at most kMaxEntries
// entries, keys of 1..kMaxKeyBytes characters from [A-Za-z0-9_.-/], strings of at most
// kMaxStringBytes bytes, finite doubles. The round driver refuses a plan that breaks them
// before any client sees it, and clients refuse such maps too.
#ifndef FEDRA_FL_ROUND_CONFIG_H_
#define FEDRA_FL_ROUND_CONFIG_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <variant>

#include "fedra/core/status.h"

namespace fedra {

using ConfigValue = std::variant<int64_t, double, std::string, bool>;
using RoundConfig = std::map<std::string, ConfigValue>;
using MetricMap = std::map<std::string, double>;

struct RoundConfigLimits {
  static constexpr size_t kMaxEntries = 64;
  static constexpr size_t kMaxKeyBytes = 64;
  static constexpr size_t kMaxStringBytes = 4096;
};

// 1..kMaxKeyBytes characters from [A-Za-z0-9_.-/]: round config keys, metric names, and the
// sum and scalar names of a FoldSpec.
bool ValidConfigName(const std::string& name);

// InvalidArgument "<what> has n entries, at most kMaxEntries allowed" when n is over the
// limit: checked before a peer's map is copied.
Status CheckEntryCount(const std::string& what, size_t n);

// InvalidArgument naming the first entry that breaks a limit (see above).
Status ValidateRoundConfig(const RoundConfig& config);
// The same limits for a metrics map (keys, count, finite values).
Status ValidateMetrics(const MetricMap& metrics);

// Typed reads for trainers: `fallback` when the key is absent; InvalidArgument naming the key
// when it holds another type (an int64 is accepted where a double is asked for).
StatusOr<int64_t> ConfigInt(const RoundConfig& config, const std::string& key, int64_t fallback);
StatusOr<double> ConfigDouble(const RoundConfig& config, const std::string& key, double fallback);
StatusOr<std::string> ConfigString(const RoundConfig& config, const std::string& key,
                                   const std::string& fallback);
StatusOr<bool> ConfigBool(const RoundConfig& config, const std::string& key, bool fallback);

}  // namespace fedra

#endif  // FEDRA_FL_ROUND_CONFIG_H_
