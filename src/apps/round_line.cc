#include "apps/round_line.h"

#include <cstdio>

namespace fedra::apps {

std::string FormatRoundLine(const RoundMetrics& m, int rounds, std::optional<double> eta_seconds) {
  char buf[640];
  int n = std::snprintf(buf, sizeof buf, "round %3d/%d  clients %zu (%zu failed)", m.round, rounds,
                        m.fit_clients, m.fit_failures);
  auto append = [&](const char* fmt, auto... args) {
    if (n >= 0 && static_cast<size_t>(n) < sizeof buf) {
      n += std::snprintf(buf + n, sizeof buf - static_cast<size_t>(n), fmt, args...);
    }
  };
  if (auto e = m.extras.find("edge_clients"); e != m.extras.end()) {  // a root of edges
    auto f = m.extras.find("edge_failures");
    append("  [at the edges %.0f (%.0f failed)]", e->second, f == m.extras.end() ? 0.0 : f->second);
  }
  append("  train loss %.4f", m.train_loss);
  if (m.server_eval_accuracy) {
    append("  test loss %.4f acc %.4f", *m.server_eval_loss, *m.server_eval_accuracy);
  }
  if (auto f1 = m.extras.find("spam_f1"); f1 != m.extras.end()) append(" spam F1 %.4f", f1->second);
  if (m.eval_clients > 0) append("  fed-eval acc %.4f", m.eval_accuracy);
  if (auto e = m.extras.find("dp_epsilon"); e != m.extras.end()) {
    auto c = m.extras.find("dp_clip_norm");
    append("  eps %.3f  clip %.3g", e->second, c == m.extras.end() ? 0.0 : c->second);
  }
  if (auto l = m.extras.find("late_results"); l != m.extras.end() && l->second > 0) {
    append("  late %.0f", l->second);
  }
  append("  %.1f s", m.seconds);
  if (eta_seconds) append("  ETA %.0f s", *eta_seconds);
  if (!m.aggregated) append("  [round failed, model unchanged]");
  return buf;
}

}  // namespace fedra::apps
