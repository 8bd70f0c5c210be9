// Dependency-free SVG line charts, for training curves and benchmark results.
//
// A chart has a title, a frame with light grid lines, and axes whose ranges are widened to
// "nice" tick values (1, 2 or 5 x 10^k; about five ticks per axis) with labels. Each series is
// one <path> in a fixed ten-colour palette (series 11-20 reuse the palette dashed, 21-30
// dotted, 31-40 solid again, and so on; PlotSeries::style overrides the position) and has an entry
// in a legend to the right of the plot area.
//
// Data rules:
// - Series i plots the points (x[j], y[j]) for j < min(x.size(), y.size()).
// - A point whose x or y is NaN or infinite is skipped and breaks the line there. Isolated
//   points, and every point of a series with at most 40 of them, are also drawn as dots, so a
//   single point is visible.
// - An axis spans the finite values of all series; with none it spans [0, 1], and a constant
//   value v spans [v - |v|/2, v + |v|/2] ([-1, 1] for zero).
// - An empty series draws no <path> but keeps its legend entry; an unnamed series is listed
//   as "series N".
// - All text is XML-escaped; control characters and invalid UTF-8 become U+FFFD (tab, CR
//   and LF become spaces), so the output is always a well-formed standalone SVG document
//   (no XML declaration; UTF-8) that browsers open directly.
//
// Thread-safety: all functions are thread-safe.
#ifndef FEDRA_CORE_SVG_PLOT_H_
#define FEDRA_CORE_SVG_PLOT_H_

#include <span>
#include <string>
#include <vector>

#include "fedra/core/status.h"

namespace fedra {

struct PlotSeries {
  std::string label;
  std::vector<double> x, y;
  // Which palette entry (colour, and dash from the 11th on) to draw with; -1: the series'
  // position in LinePlot::series. Lets a series keep its colour across charts.
  int style = -1;
};

struct LinePlot {
  std::string title, x_label, y_label;
  std::vector<PlotSeries> series;
  // Put x ticks only at whole numbers (for rounds, epochs, client counts).
  bool integer_x = false;
};

// One chart as an SVG document of width x height pixels; returns text that starts with
// "<svg" and ends with "</svg>". Sizes are raised to the minimum that leaves a 60 x 40 pixel
// plot area beside the margins and the legend.
std::string RenderSvg(const LinePlot& plot, int width = 720, int height = 420);

// Several charts stacked top to bottom in one SVG document, each width x height_each pixels
// (after the same minimum as RenderSvg) with plot areas of one width, so that their x axes
// line up; no plots gives an empty document of one chart's size.
std::string RenderStackedSvg(std::span<const LinePlot> plots, int width = 720,
                             int height_each = 420);

// Write RenderSvg(plot) / RenderStackedSvg(plots), plus a final newline, to `path`
// atomically: the text goes to a temporary file next to `path` that is renamed over it, so a
// reader sees the old file or the new one, never a partial one. The directory must exist.
// On failure the temporary file is removed and the message names `path`.
Status WriteSvg(const std::string& path, const LinePlot& plot);
Status WriteStackedSvg(const std::string& path, std::span<const LinePlot> plots);

}  // namespace fedra

#endif  // FEDRA_CORE_SVG_PLOT_H_
