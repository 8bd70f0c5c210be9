// compare_runs: one SVG comparing several fedra-sim runs (server-side test accuracy and loss
// per round), each given as LABEL=metrics.jsonl.
//
//   build/release/bench/compare_runs out.svg "FedAvg=a.jsonl" "FedAdam=b.jsonl"
#include <cstdio>
#include <string>
#include <vector>

#include "fedra/core/svg_plot.h"
#include "fedra/fl/metrics_log.h"

int main(int argc, char** argv) {
  if (argc < 3)
    return std::fprintf(stderr, "usage: %s OUT.svg LABEL=metrics.jsonl...\n", argv[0]), 2;
  fedra::LinePlot acc{
      .title = "Test accuracy", .x_label = "round", .y_label = "accuracy", .integer_x = true};
  fedra::LinePlot loss{
      .title = "Test loss", .x_label = "round", .y_label = "loss", .integer_x = true};
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    const size_t eq = arg.find('=');
    if (eq == std::string::npos)
      return std::fprintf(stderr, "expected LABEL=FILE, got '%s'\n", argv[i]), 2;
    auto history = fedra::ReadMetricsLog(arg.substr(eq + 1));
    if (!history.ok()) return std::fprintf(stderr, "%s\n", history.status().ToString().c_str()), 1;
    fedra::PlotSeries a{.label = arg.substr(0, eq)}, l{.label = arg.substr(0, eq)};
    for (const fedra::RoundMetrics& m : *history) {
      if (!m.server_eval_accuracy) continue;
      a.x.push_back(m.round), a.y.push_back(*m.server_eval_accuracy);
      l.x.push_back(m.round), l.y.push_back(*m.server_eval_loss);
    }
    acc.series.push_back(std::move(a));
    loss.series.push_back(std::move(l));
  }
  const std::vector<fedra::LinePlot> plots = {acc, loss};
  const fedra::Status s = fedra::WriteStackedSvg(argv[1], plots);
  if (!s.ok()) return std::fprintf(stderr, "%s\n", s.ToString().c_str()), 1;
  return 0;
}
