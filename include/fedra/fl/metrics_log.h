// Per-round metrics as JSON Lines, so a run can be plotted, compared and resumed, and a plot of
// accuracy and loss against round.
//
// A record is one compact JSON object on one line, keys in this order (optional keys omitted):
//   {"round":3,"aggregated":true,"error":"...","fit_clients":10,"fit_failures":1,
//    "train_loss":0.41,"eval_clients":5,"eval_loss":0.38,"eval_accuracy":0.88,
//    "server_eval_loss":0.36,"server_eval_accuracy":0.9,"seconds":1.25,
//    "bytes_down":4000,"bytes_up":3600}
// "error" appears only when non-empty; "eval_loss" and "eval_accuracy" only when eval_clients
// > 0; "server_eval_loss" and "server_eval_accuracy" each only when set. Numbers that are NaN
// or infinite are written as null and read back as NaN; finite doubles round-trip exactly.
//
// Thread-safety: the free functions are thread-safe; a MetricsLog is not.
#ifndef FEDRA_FL_METRICS_LOG_H_
#define FEDRA_FL_METRICS_LOG_H_

#include <cstdio>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "fedra/core/status.h"
#include "fedra/core/svg_plot.h"
#include "fedra/fl/round_driver.h"

namespace fedra {

// The record for `metrics`, without a trailing newline. Invalid UTF-8 in `error` is written
// as U+FFFD.
std::string RoundMetricsToJson(const RoundMetrics& metrics);

// Parses one record (surrounding whitespace allowed). Text that is not JSON is DataLoss; JSON
// that is not an object, lacks a required key, or has a value of the wrong type or range
// (counts must be non-negative integers, "round" must fit an int, numbers may be null) is
// InvalidArgument; the message names the key. Unknown keys are ignored. Never throws.
StatusOr<RoundMetrics> RoundMetricsFromJson(const std::string& line);

// Reads a JSONL file of records; blank lines are skipped and the last line may lack its
// newline. Errors name `path`, and the line number ("path:3: ...") for a bad record.
StatusOr<std::vector<RoundMetrics>> ReadMetricsLog(const std::string& path);

// Appends one record per round to a JSONL file and keeps every record in memory.
class MetricsLog {
 public:
  // Opens `path` for appending, creating it if missing. With `truncate` the file starts
  // empty. Otherwise the records already in it are read into history() (to resume a run):
  // a final line without a newline, the trace of a write cut short by a crash, is removed
  // from the file with a warning; any other bad line fails as in ReadMetricsLog.
  static StatusOr<MetricsLog> Open(const std::string& path, bool truncate);

  // Writes RoundMetricsToJson(metrics) and a newline, and flushes it to the operating system
  // (it survives a crash of this process, not of the machine). On success the record is
  // added to history(); on failure history() is unchanged and the message names the path.
  Status Append(const RoundMetrics& metrics);

  // Every record read by Open and appended since, in order.
  const std::vector<RoundMetrics>& history() const { return history_; }
  const std::string& path() const { return path_; }

 private:
  struct FileCloser {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };

  MetricsLog(std::string path, std::unique_ptr<std::FILE, FileCloser> file,
             std::vector<RoundMetrics> history);

  std::string path_;
  std::unique_ptr<std::FILE, FileCloser> file_;
  std::vector<RoundMetrics> history_;
};

// The two charts of a run, both against round: "Accuracy" (federated eval_accuracy of rounds
// with eval_clients > 0, server_eval_accuracy where set) and "Loss" (train_loss of aggregated
// rounds, federated eval_loss, server_eval_loss). A series with no point is left out.
std::vector<LinePlot> MetricsPlots(std::span<const RoundMetrics> history);

// Writes MetricsPlots(history) stacked in one SVG file (accuracy above loss), atomically as
// WriteStackedSvg does.
Status WriteMetricsPlot(const std::string& svg_path, std::span<const RoundMetrics> history);

}  // namespace fedra

#endif  // FEDRA_FL_METRICS_LOG_H_
