#include "fedra/ml/csv_loader.h"

#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string_view>
#include <vector>

namespace fedra {
namespace {

struct Line {
  size_t number;  // 1-based line number in the file
  std::string_view text;
};

StatusOr<std::string> ReadFile(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return NotFoundError(path + ": no such file");
  if (std::filesystem::is_directory(path, ec)) {
    return InvalidArgumentError(path + ": is a directory, expected a CSV file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError(path + ": cannot open for reading");
  std::ostringstream contents;
  contents << in.rdbuf();
  if (in.bad()) return DataLossError(path + ": read failed");
  return std::move(contents).str();
}

// Splits `text` into lines (LF or CRLF), dropping trailing empty lines and, if requested,
// the header line.
std::vector<Line> SplitLines(std::string_view text, bool has_header) {
  std::vector<Line> lines;
  size_t number = 1;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back({number++, line});
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  if (has_header && !lines.empty()) lines.erase(lines.begin());
  while (!lines.empty() && lines.back().text.find_first_not_of(" \t") == std::string_view::npos) {
    lines.pop_back();
  }
  return lines;
}

std::string_view TrimBlanks(std::string_view s) {
  const size_t begin = s.find_first_not_of(" \t");
  if (begin == std::string_view::npos) return {};
  return s.substr(begin, s.find_last_not_of(" \t") - begin + 1);
}

std::vector<std::string_view> SplitFields(std::string_view line, char delimiter) {
  std::vector<std::string_view> fields;
  for (;;) {
    const size_t end = line.find(delimiter);
    fields.push_back(TrimBlanks(line.substr(0, end)));
    if (end == std::string_view::npos) return fields;
    line.remove_prefix(end + 1);
  }
}

std::string Where(const std::string& path, size_t line, size_t column) {
  return path + ":" + std::to_string(line) + ": column " + std::to_string(column);
}

// Parses the whole of `field` as a finite number representable as a float.
Status ParseNumber(std::string_view field, double* value) {
  if (field.empty()) return InvalidArgumentError("empty field, expected a number");
  std::string_view digits = field;
  if (digits.front() == '+') {
    digits.remove_prefix(1);
    if (digits.empty() || digits.front() == '-') digits = "x";  // "+" or "+-1": not a number
  }
  const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), *value);
  const std::string quoted = "'" + std::string(field) + "'";
  if (ec == std::errc::result_out_of_range) {
    return InvalidArgumentError(quoted + " is out of range for a float");
  }
  if (ec != std::errc() || ptr != digits.data() + digits.size()) {
    return InvalidArgumentError(quoted + " is not a number");
  }
  if (!std::isfinite(*value)) return InvalidArgumentError(quoted + " is not finite (NaN/Inf)");
  if (std::fabs(*value) > std::numeric_limits<float>::max()) {
    return InvalidArgumentError(quoted + " is out of range for a float");
  }
  return OkStatus();
}

Status CheckLabel(std::string_view field, double value, int num_classes) {
  if (value != std::floor(value) || value < 0 || value >= num_classes) {
    return InvalidArgumentError("label '" + std::string(field) + "' is not an integer in [0, " +
                                std::to_string(num_classes) + ")");
  }
  return OkStatus();
}

// Checks the options against the first data line; returns the label column as an index.
StatusOr<size_t> ResolveLabelColumn(const std::string& path, const CsvOptions& options,
                                    const Line& first, size_t num_fields) {
  if (num_fields < 2) {
    return InvalidArgumentError(path + ":" + std::to_string(first.number) + ": has " +
                                std::to_string(num_fields) +
                                " field(s), expected at least 2 (features and a label)");
  }
  const auto n = static_cast<int64_t>(num_fields);
  const int64_t column = options.label_column < 0 ? n + options.label_column : options.label_column;
  if (column < 0 || column >= n) {
    return InvalidArgumentError(path + ": label_column " + std::to_string(options.label_column) +
                                " is out of range for rows of " + std::to_string(num_fields) +
                                " fields");
  }
  return static_cast<size_t>(column);
}

Status CheckOptions(const std::string& path, const CsvOptions& options) {
  if (options.num_classes < 0) {
    return InvalidArgumentError(path + ": num_classes is " + std::to_string(options.num_classes) +
                                ", expected >= 0");
  }
  if (options.delimiter == '\n' || options.delimiter == '\r') {
    return InvalidArgumentError(path + ": the delimiter cannot be a line break");
  }
  return OkStatus();
}

// Appends one row's features to `features` and its label to `targets`.
Status ParseRow(const std::string& path, const CsvOptions& options, const Line& line,
                size_t num_fields, size_t label_column, std::vector<float>* features,
                std::vector<float>* targets) {
  const std::vector<std::string_view> fields = SplitFields(line.text, options.delimiter);
  if (fields.size() != num_fields) {
    return InvalidArgumentError(path + ":" + std::to_string(line.number) + ": has " +
                                std::to_string(fields.size()) + " fields, expected " +
                                std::to_string(num_fields) + " like the first row");
  }
  for (size_t c = 0; c < fields.size(); ++c) {
    double value = 0;
    Status status = ParseNumber(fields[c], &value);
    if (status.ok() && c == label_column && options.num_classes > 0) {
      status = CheckLabel(fields[c], value, options.num_classes);
    }
    if (!status.ok()) return status.WithContext(Where(path, line.number, c + 1));
    (c == label_column ? targets : features)->push_back(static_cast<float>(value));
  }
  return OkStatus();
}

}  // namespace

StatusOr<Dataset> LoadCsv(const std::string& path, const CsvOptions& options) {
  FEDRA_RETURN_IF_ERROR(CheckOptions(path, options));
  FEDRA_ASSIGN_OR_RETURN(const std::string text, ReadFile(path));
  const std::vector<Line> lines = SplitLines(text, options.has_header);
  if (lines.empty()) {
    return InvalidArgumentError(path + ": no data rows" +
                                (options.has_header ? " after the header" : "") +
                                ", expected at least one");
  }
  const size_t num_fields = SplitFields(lines[0].text, options.delimiter).size();
  FEDRA_ASSIGN_OR_RETURN(const size_t label_column,
                         ResolveLabelColumn(path, options, lines[0], num_fields));
  std::vector<float> features;
  std::vector<float> targets;
  features.reserve(lines.size() * (num_fields - 1));
  targets.reserve(lines.size());
  for (const Line& line : lines) {
    FEDRA_RETURN_IF_ERROR(
        ParseRow(path, options, line, num_fields, label_column, &features, &targets));
  }
  const auto dim = static_cast<Eigen::Index>(num_fields - 1);
  const auto n = static_cast<Eigen::Index>(lines.size());
  Dataset data;
  data.features = ConstMatrixMap(features.data(), dim, n);
  data.targets = ConstMatrixMap(targets.data(), 1, n);
  data.example_shape = {dim};
  data.num_classes = options.num_classes;
  return data;
}

}  // namespace fedra
