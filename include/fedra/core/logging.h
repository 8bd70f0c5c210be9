// Logging set-up: one spdlog logger per component ("ml", "fl", "net", ...), all sharing
// one colour console sink on stderr and one level.
//
// Thread-safety: thread-safe (spdlog's registry and *_mt sinks).
#ifndef FEDRA_CORE_LOGGING_H_
#define FEDRA_CORE_LOGGING_H_

#include <memory>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

#include "fedra/core/status.h"

namespace fedra {

// The logger for `component`, created on first use.
std::shared_ptr<spdlog::logger> Logger(std::string_view component);

// Sets the level of every fedra logger, present and future.
// `level`: trace, debug, info, warn, error, critical or off.
Status SetLogLevel(std::string_view level);

}  // namespace fedra

#endif  // FEDRA_CORE_LOGGING_H_
