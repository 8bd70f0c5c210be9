#include "fedra/core/logging.h"

#include <mutex>

#include <spdlog/sinks/stdout_color_sinks.h>

namespace fedra {
namespace {

std::mutex& RegistryMutex() {
  static std::mutex mu;
  return mu;
}

spdlog::level::level_enum& CurrentLevel() {
  static spdlog::level::level_enum level = spdlog::level::info;
  return level;
}

spdlog::sink_ptr SharedSink() {
  static spdlog::sink_ptr sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  return sink;
}

}  // namespace

std::shared_ptr<spdlog::logger> Logger(std::string_view component) {
  std::lock_guard<std::mutex> lock(RegistryMutex());
  const std::string name = "fedra." + std::string(component);
  if (auto existing = spdlog::get(name)) return existing;
  auto logger = std::make_shared<spdlog::logger>(name, SharedSink());
  logger->set_level(CurrentLevel());
  logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%L%$ [%n] %v");
  spdlog::register_logger(logger);
  return logger;
}

Status SetLogLevel(std::string_view level) {
  auto parsed = spdlog::level::from_str(std::string(level));
  if (parsed == spdlog::level::off && level != "off") {
    return InvalidArgumentError("unknown log level '" + std::string(level) +
                                "' (expected trace, debug, info, warn, error, critical or off)");
  }
  std::lock_guard<std::mutex> lock(RegistryMutex());
  CurrentLevel() = parsed;
  spdlog::apply_all([&](const std::shared_ptr<spdlog::logger>& l) {
    if (l->name().rfind("fedra.", 0) == 0) l->set_level(parsed);
  });
  return OkStatus();
}

}  // namespace fedra
