#include "fedra/fl/metrics_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>
#include <string_view>
#include <system_error>
#include <utility>

#include <nlohmann/json.hpp>

#include "core/file_util.h"
#include "fedra/core/logging.h"

namespace fedra {
namespace {

using Json = nlohmann::ordered_json;

constexpr size_t kMaxQuotedValueChars = 40;

// ---------------------------------------------------------------------------------------
// JSON.

Json NumberOrNull(double v) { return std::isfinite(v) ? Json(v) : Json(nullptr); }

Status WrongType(const char* key, std::string_view expected, const Json& v) {
  std::string value = v.dump(-1, ' ', false, Json::error_handler_t::replace);
  if (value.size() > kMaxQuotedValueChars) value = value.substr(0, kMaxQuotedValueChars) + "...";
  return InvalidArgumentError("\"" + std::string(key) + "\" must be " + std::string(expected) +
                              ", not " + v.type_name() + " " + value);
}

Status Convert(const Json& v, const char* key, bool& out) {
  if (!v.is_boolean()) return WrongType(key, "a boolean", v);
  out = v.get<bool>();
  return OkStatus();
}

Status Convert(const Json& v, const char* key, std::string& out) {
  if (!v.is_string()) return WrongType(key, "a string", v);
  out = v.get<std::string>();
  return OkStatus();
}

// A number, or null for NaN.
Status Convert(const Json& v, const char* key, double& out) {
  if (v.is_null()) {
    out = std::numeric_limits<double>::quiet_NaN();
    return OkStatus();
  }
  if (!v.is_number()) return WrongType(key, "a number or null", v);
  out = v.get<double>();
  return OkStatus();
}

Status Convert(const Json& v, const char* key, std::optional<double>& out) {
  double value = 0;
  FEDRA_RETURN_IF_ERROR(Convert(v, key, value));
  out = value;
  return OkStatus();
}

Status Convert(const Json& v, const char* key, int& out) {
  // nlohmann parses non-negative integers as unsigned and negative ones as signed.
  const bool fits =
      v.is_number_unsigned()
          ? v.get<uint64_t>() <= uint64_t{std::numeric_limits<int>::max()}
          : v.is_number_integer() && v.get<int64_t>() >= std::numeric_limits<int>::min();
  if (!fits) return WrongType(key, "an integer in the range of int", v);
  out = v.is_number_unsigned() ? static_cast<int>(v.get<uint64_t>())
                               : static_cast<int>(v.get<int64_t>());
  return OkStatus();
}

template <std::unsigned_integral U>
requires(!std::same_as<U, bool>) Status Convert(const Json& v, const char* key, U& out) {
  if (!v.is_number_unsigned() || v.get<uint64_t>() > std::numeric_limits<U>::max()) {
    return WrongType(key, "a non-negative integer", v);
  }
  out = static_cast<U>(v.get<uint64_t>());
  return OkStatus();
}

// Reads obj[key] into `out`; a missing key is an error if `required`, else leaves `out`.
template <typename T>
Status Read(const Json& obj, const char* key, T& out, bool required = true) {
  const auto it = obj.find(key);
  if (it == obj.end()) {
    return required ? InvalidArgumentError("missing key \"" + std::string(key) + "\"") : OkStatus();
  }
  return Convert(*it, key, out);
}

Status ReadFields(const Json& j, RoundMetrics& m) {
  FEDRA_RETURN_IF_ERROR(Read(j, "round", m.round));
  FEDRA_RETURN_IF_ERROR(Read(j, "aggregated", m.aggregated));
  FEDRA_RETURN_IF_ERROR(Read(j, "error", m.error, /*required=*/false));
  FEDRA_RETURN_IF_ERROR(Read(j, "fit_clients", m.fit_clients));
  FEDRA_RETURN_IF_ERROR(Read(j, "fit_failures", m.fit_failures));
  FEDRA_RETURN_IF_ERROR(Read(j, "train_loss", m.train_loss));
  FEDRA_RETURN_IF_ERROR(Read(j, "eval_clients", m.eval_clients));
  const bool evaluated = m.eval_clients > 0;
  FEDRA_RETURN_IF_ERROR(Read(j, "eval_loss", m.eval_loss, evaluated));
  FEDRA_RETURN_IF_ERROR(Read(j, "eval_accuracy", m.eval_accuracy, evaluated));
  FEDRA_RETURN_IF_ERROR(Read(j, "server_eval_loss", m.server_eval_loss, false));
  FEDRA_RETURN_IF_ERROR(Read(j, "server_eval_accuracy", m.server_eval_accuracy, false));
  FEDRA_RETURN_IF_ERROR(Read(j, "seconds", m.seconds));
  FEDRA_RETURN_IF_ERROR(Read(j, "bytes_down", m.bytes_down));
  FEDRA_RETURN_IF_ERROR(Read(j, "bytes_up", m.bytes_up));
  if (const auto it = j.find("extras"); it != j.end()) {
    if (!it->is_object()) return InvalidArgumentError("\"extras\" must be an object");
    for (const auto& [name, value] : it->items()) {
      if (value.is_null()) {  // written for a non-finite value
        m.extras[name] = std::numeric_limits<double>::quiet_NaN();
        continue;
      }
      if (!value.is_number()) {
        return InvalidArgumentError("extras \"" + name + "\" must be a number");
      }
      m.extras[name] = value.get<double>();
    }
  }
  if (m.fit_failures > m.fit_clients) {
    return InvalidArgumentError("fit_failures (" + std::to_string(m.fit_failures) +
                                ") exceeds fit_clients (" + std::to_string(m.fit_clients) + ")");
  }
  return OkStatus();
}

StatusOr<Json> ParseJson(const std::string& text) {
  try {
    return Json::parse(text);
  } catch (const Json::exception& e) {
    return DataLossError(std::string("not valid JSON: ") + e.what());
  }
}

// ---------------------------------------------------------------------------------------
// Files.

// The records in `text`, the contents of `path`.
StatusOr<std::vector<RoundMetrics>> ParseRecords(const std::string& path, std::string_view text) {
  std::vector<RoundMetrics> records;
  for (size_t line_number = 1; !text.empty(); ++line_number) {
    const size_t end = std::min(text.find('\n'), text.size());
    const std::string line(text.substr(0, end));
    text.remove_prefix(std::min(end + 1, text.size()));
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    StatusOr<RoundMetrics> record = RoundMetricsFromJson(line);
    if (!record.ok()) return record.status().WithContext(path + ":" + std::to_string(line_number));
    records.push_back(*std::move(record));
  }
  return records;
}

// The records already in `path` (none if it does not exist), after cutting off a final line
// that lacks its newline.
StatusOr<std::vector<RoundMetrics>> LoadForAppend(const std::string& path) {
  StatusOr<std::string> text = internal::ReadFile(path);
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound) return std::vector<RoundMetrics>();
    return text.status();
  }
  const size_t complete = text->rfind('\n') + 1;  // 0 if there is no newline
  FEDRA_ASSIGN_OR_RETURN(std::vector<RoundMetrics> records,
                         ParseRecords(path, std::string_view(*text).substr(0, complete)));
  if (complete < text->size()) {
    Logger("fl")->warn(
        "{}: removing an incomplete last line ({} bytes) left by an interrupted write", path,
        text->size() - complete);
    std::error_code ec;
    std::filesystem::resize_file(path, complete, ec);
    if (ec) {
      return internal::ErrnoError("cannot remove the incomplete last line of " + path, ec.value());
    }
  }
  return records;
}

PlotSeries Series(std::string label, int style) {
  PlotSeries s;
  s.label = std::move(label);
  s.style = style;
  return s;
}

void AddPoint(PlotSeries& s, int round, double y) {
  s.x.push_back(round);
  s.y.push_back(y);
}

LinePlot ChartOf(std::string title, std::string y_label, std::vector<PlotSeries> series) {
  LinePlot plot{std::move(title), "round", std::move(y_label), {}, /*integer_x=*/true};
  for (PlotSeries& s : series) {
    if (!s.x.empty()) plot.series.push_back(std::move(s));
  }
  return plot;
}

}  // namespace

std::string RoundMetricsToJson(const RoundMetrics& m) {
  Json j = Json::object();
  j["round"] = m.round;
  j["aggregated"] = m.aggregated;
  if (!m.error.empty()) j["error"] = m.error;
  j["fit_clients"] = static_cast<uint64_t>(m.fit_clients);
  j["fit_failures"] = static_cast<uint64_t>(m.fit_failures);
  j["train_loss"] = NumberOrNull(m.train_loss);
  j["eval_clients"] = static_cast<uint64_t>(m.eval_clients);
  if (m.eval_clients > 0) {
    j["eval_loss"] = NumberOrNull(m.eval_loss);
    j["eval_accuracy"] = NumberOrNull(m.eval_accuracy);
  }
  if (m.server_eval_loss) j["server_eval_loss"] = NumberOrNull(*m.server_eval_loss);
  if (m.server_eval_accuracy) j["server_eval_accuracy"] = NumberOrNull(*m.server_eval_accuracy);
  j["seconds"] = NumberOrNull(m.seconds);
  j["bytes_down"] = m.bytes_down;
  j["bytes_up"] = m.bytes_up;
  if (!m.extras.empty()) {
    Json extras = Json::object();
    for (const auto& [name, value] : m.extras) extras[name] = NumberOrNull(value);
    j["extras"] = extras;
  }
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

StatusOr<RoundMetrics> RoundMetricsFromJson(const std::string& line) {
  try {
    FEDRA_ASSIGN_OR_RETURN(const Json j, ParseJson(line));
    if (!j.is_object()) {
      return InvalidArgumentError(std::string("expected a JSON object, not ") + j.type_name());
    }
    RoundMetrics m;
    FEDRA_RETURN_IF_ERROR(ReadFields(j, m));
    return m;
  } catch (const Json::exception& e) {  // a safety net: the checks above should prevent it
    return InvalidArgumentError(std::string("cannot read round metrics: ") + e.what());
  }
}

StatusOr<std::vector<RoundMetrics>> ReadMetricsLog(const std::string& path) {
  FEDRA_ASSIGN_OR_RETURN(const std::string text, internal::ReadFile(path));
  return ParseRecords(path, text);
}

MetricsLog::MetricsLog(std::string path, std::unique_ptr<std::FILE, FileCloser> file,
                       std::vector<RoundMetrics> history)
    : path_(std::move(path)), file_(std::move(file)), history_(std::move(history)) {}

StatusOr<MetricsLog> MetricsLog::Open(const std::string& path, bool truncate) {
  std::vector<RoundMetrics> history;
  if (!truncate) {
    FEDRA_ASSIGN_OR_RETURN(history, LoadForAppend(path));
  }
  const int flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (truncate ? O_TRUNC : 0);
  const int fd = ::open(path.c_str(), flags, 0644);
  if (fd < 0) return internal::ErrnoError("cannot open " + path + " for appending", errno);
  std::unique_ptr<std::FILE, FileCloser> file(::fdopen(fd, "a"));
  if (file == nullptr) {
    const int err = errno;
    ::close(fd);
    return internal::ErrnoError("cannot open " + path + " for appending", err);
  }
  return MetricsLog(path, std::move(file), std::move(history));
}

Status MetricsLog::Append(const RoundMetrics& metrics) {
  FEDRA_CHECK_MSG(file_ != nullptr, "Append on a moved-from MetricsLog");
  const std::string line = RoundMetricsToJson(metrics) + "\n";
  if (std::fwrite(line.data(), 1, line.size(), file_.get()) != line.size() ||
      std::fflush(file_.get()) != 0) {
    const int err = errno;
    std::clearerr(file_.get());
    return internal::ErrnoError("cannot append to " + path_, err);
  }
  history_.push_back(metrics);
  return OkStatus();
}

std::vector<LinePlot> MetricsPlots(std::span<const RoundMetrics> history) {
  // The same style slot for the same source in both charts keeps its colour.
  PlotSeries fed_acc = Series("eval accuracy (federated)", 0);
  PlotSeries server_acc = Series("eval accuracy (server)", 1);
  PlotSeries fed_loss = Series("eval loss (federated)", 0);
  PlotSeries server_loss = Series("eval loss (server)", 1);
  PlotSeries train_loss = Series("train loss", 2);
  for (const RoundMetrics& m : history) {
    if (m.eval_clients > 0) {
      AddPoint(fed_acc, m.round, m.eval_accuracy);
      AddPoint(fed_loss, m.round, m.eval_loss);
    }
    if (m.server_eval_accuracy) AddPoint(server_acc, m.round, *m.server_eval_accuracy);
    if (m.server_eval_loss) AddPoint(server_loss, m.round, *m.server_eval_loss);
    if (m.aggregated) AddPoint(train_loss, m.round, m.train_loss);
  }
  std::vector<LinePlot> plots;
  plots.push_back(ChartOf("Accuracy", "accuracy", {std::move(fed_acc), std::move(server_acc)}));
  plots.push_back(ChartOf("Loss", "loss",
                          {std::move(train_loss), std::move(fed_loss), std::move(server_loss)}));
  return plots;
}

Status WriteMetricsPlot(const std::string& svg_path, std::span<const RoundMetrics> history) {
  const std::vector<LinePlot> plots = MetricsPlots(history);
  return WriteStackedSvg(svg_path, plots);
}

}  // namespace fedra
