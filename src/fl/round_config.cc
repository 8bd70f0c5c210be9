#include "fedra/fl/round_config.h"

#include <algorithm>
#include <cmath>

namespace fedra {
namespace {

bool KeyChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-' || c == '/';
}

Status CheckKey(const std::string& what, const std::string& key) {
  if (key.empty() || key.size() > RoundConfigLimits::kMaxKeyBytes) {
    return InvalidArgumentError(what + " key must have 1 to " +
                                std::to_string(RoundConfigLimits::kMaxKeyBytes) + " characters");
  }
  // The key is not echoed: it may be a peer's bytes.
  if (!ValidConfigName(key))
    return InvalidArgumentError(what + " key with a character outside [A-Za-z0-9_.-/]");
  return OkStatus();
}

const char* TypeName(const ConfigValue& v) {
  static const char* const kNames[] = {"int", "double", "string", "bool"};
  return kNames[v.index()];
}

template <typename T>
StatusOr<const T*> Find(const RoundConfig& config, const std::string& key, const char* want) {
  auto it = config.find(key);
  if (it == config.end()) return static_cast<const T*>(nullptr);
  if (const T* v = std::get_if<T>(&it->second)) return v;
  return InvalidArgumentError("round config '" + key + "' is a " + TypeName(it->second) +
                              ", expected a " + want);
}

}  // namespace

Status CheckEntryCount(const std::string& what, size_t n) {
  if (n > RoundConfigLimits::kMaxEntries) {
    return InvalidArgumentError(what + " has " + std::to_string(n) + " entries, at most " +
                                std::to_string(RoundConfigLimits::kMaxEntries) + " allowed");
  }
  return OkStatus();
}

bool ValidConfigName(const std::string& name) {
  return !name.empty() && name.size() <= RoundConfigLimits::kMaxKeyBytes &&
         std::all_of(name.begin(), name.end(), KeyChar);
}

Status ValidateRoundConfig(const RoundConfig& config) {
  FEDRA_RETURN_IF_ERROR(CheckEntryCount("round config", config.size()));
  for (const auto& [key, value] : config) {
    FEDRA_RETURN_IF_ERROR(CheckKey("round config", key));
    if (const double* d = std::get_if<double>(&value); d && !std::isfinite(*d))
      return InvalidArgumentError("round config '" + key + "' is not finite");
    if (const std::string* s = std::get_if<std::string>(&value);
        s && s->size() > RoundConfigLimits::kMaxStringBytes) {
      return InvalidArgumentError("round config '" + key + "' is a string of " +
                                  std::to_string(s->size()) + " bytes, at most " +
                                  std::to_string(RoundConfigLimits::kMaxStringBytes) + " allowed");
    }
  }
  return OkStatus();
}

Status ValidateMetrics(const MetricMap& metrics) {
  FEDRA_RETURN_IF_ERROR(CheckEntryCount("metrics", metrics.size()));
  for (const auto& [key, value] : metrics) {
    FEDRA_RETURN_IF_ERROR(CheckKey("metric", key));
    if (!std::isfinite(value)) return InvalidArgumentError("metric '" + key + "' is not finite");
  }
  return OkStatus();
}

StatusOr<int64_t> ConfigInt(const RoundConfig& config, const std::string& key, int64_t fallback) {
  FEDRA_ASSIGN_OR_RETURN(const int64_t* v, Find<int64_t>(config, key, "int"));
  return v ? *v : fallback;
}

StatusOr<double> ConfigDouble(const RoundConfig& config, const std::string& key, double fallback) {
  auto it = config.find(key);
  if (it != config.end()) {
    if (const int64_t* i = std::get_if<int64_t>(&it->second)) return static_cast<double>(*i);
  }
  FEDRA_ASSIGN_OR_RETURN(const double* v, Find<double>(config, key, "double"));
  return v ? *v : fallback;
}

StatusOr<std::string> ConfigString(const RoundConfig& config, const std::string& key,
                                   const std::string& fallback) {
  FEDRA_ASSIGN_OR_RETURN(const std::string* v, Find<std::string>(config, key, "string"));
  return v ? *v : fallback;
}

StatusOr<bool> ConfigBool(const RoundConfig& config, const std::string& key, bool fallback) {
  FEDRA_ASSIGN_OR_RETURN(const bool* v, Find<bool>(config, key, "bool"));
  return v ? *v : fallback;
}

}  // namespace fedra
