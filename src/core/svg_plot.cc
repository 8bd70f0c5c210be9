#include "fedra/core/svg_plot.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <string_view>
#include <utility>

#include "core/file_util.h"

namespace fedra {
namespace {

// Layout, in pixels.
constexpr double kLeft = 72;      // y tick labels and the y axis label
constexpr double kTop = 44;       // title
constexpr double kBottom = 52;    // x tick labels and the x axis label
constexpr double kRightPad = 20;  // after the legend (or the plot area if there is none)
constexpr double kMinPlotWidth = 60;
constexpr double kMinPlotHeight = 40;
constexpr double kLegendSwatch = 22;
constexpr double kLegendRowHeight = 18;
constexpr double kCharWidth = 7;        // rough width of a 12px sans-serif character
constexpr size_t kMaxLegendChars = 40;  // longer labels may run past the right edge
constexpr size_t kMaxDottedPoints = 40;

// Tableau 10: distinct and readable on white.
constexpr std::array<std::string_view, 10> kPalette = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728",
                                                       "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                                                       "#bcbd22", "#17becf"};
constexpr std::array<std::string_view, 3> kDashes = {"", "7 4", "2 3"};
constexpr std::string_view kReplacementChar = "\xEF\xBF\xBD";  // U+FFFD

void Append(std::string& out, std::initializer_list<std::string_view> parts) {
  for (std::string_view p : parts) out.append(p);
}

// A pixel coordinate; non-finite values (which callers filter out) print as 0.
std::string Num(double v) {
  if (!std::isfinite(v)) v = 0;
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, 2);
  return std::string(buf, r.ptr);
}

// ---------------------------------------------------------------------------------------
// Text.

// Length of the UTF-8 sequence at the start of `s` if it encodes a character XML allows
// (ASCII is checked by the caller), else 0. REQUIRES: !s.empty().
size_t ValidUtf8Length(std::string_view s) {
  const auto lead = static_cast<unsigned char>(s[0]);
  size_t len = 0;
  uint32_t cp = 0;
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) {
    len = 2;
    cp = lead & 0x1F;
  } else if ((lead & 0xF0) == 0xE0) {
    len = 3;
    cp = lead & 0x0F;
  } else if ((lead & 0xF8) == 0xF0) {
    len = 4;
    cp = lead & 0x07;
  } else {
    return 0;
  }
  if (s.size() < len) return 0;
  for (size_t i = 1; i < len; ++i) {
    const auto b = static_cast<unsigned char>(s[i]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  constexpr std::array<uint32_t, 5> kMinForLength = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMinForLength[len] || cp > 0x10FFFF) return 0;  // overlong or out of range
  if ((cp >= 0xD800 && cp <= 0xDFFF) || cp == 0xFFFE || cp == 0xFFFF) return 0;
  return len;
}

void AppendEscapedAscii(char c, std::string& out) {
  switch (c) {
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    case '&':
      out += "&amp;";
      break;
    case '"':
      out += "&quot;";
      break;
    case '\'':
      out += "&apos;";
      break;
    case '\t':
    case '\n':
    case '\r':
      out += ' ';
      break;
    default:
      if (static_cast<unsigned char>(c) < 0x20) {
        out += kReplacementChar;
      } else {
        out += c;
      }
  }
}

std::string EscapeXml(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  while (!s.empty()) {
    const size_t len = ValidUtf8Length(s);
    if (len == 0) {
      out += kReplacementChar;
    } else if (len == 1) {
      AppendEscapedAscii(s[0], out);
    } else {
      out.append(s.substr(0, len));
    }
    s.remove_prefix(std::max<size_t>(len, 1));
  }
  return out;
}

size_t CountChars(std::string_view utf8) {
  return static_cast<size_t>(std::count_if(utf8.begin(), utf8.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

// ---------------------------------------------------------------------------------------
// Axes.

struct Range {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  bool empty() const { return lo > hi; }
  void Add(double v) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
};

struct Axis {
  double lo = 0, hi = 1;
  double step = 0;  // 0: the ticks are just lo and hi
  std::vector<double> ticks;
};

// The value 1, 2 or 5 x 10^k nearest to `raw` on a log scale (0 if raw is not positive).
double NiceStep(double raw) {
  if (!(raw > 0) || !std::isfinite(raw)) return 0;
  const double base = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / base;
  const double nice = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
  return nice * base;
}

// An axis covering the finite values in `range`, widened to multiples of a nice step.
Axis MakeAxis(const Range& range, bool integer) {
  double lo = range.empty() ? 0.0 : range.lo;
  double hi = range.empty() ? 1.0 : range.hi;
  if (lo == hi) {
    const double pad = lo == 0 ? 1.0 : std::abs(lo) / 2;
    lo -= pad;
    hi += pad;
  }
  double step = NiceStep(hi / 4 - lo / 4);
  if (integer && step > 0 && step < 1) step = 1;
  const double first = std::floor(lo / step), last = std::ceil(hi / step);
  // Guard against steps lost in the precision of the values (e.g. 1e17 + 1 vs 1e17 + 2).
  const bool usable = step > 0 && std::isfinite(first) && std::isfinite(last) && first < last &&
                      last - first <= 20 && first + 1 != first && std::isfinite(first * step) &&
                      std::isfinite(last * step);
  if (!usable) return Axis{lo, hi, 0, {lo, hi}};
  Axis axis{first * step, last * step, step, {}};
  for (double k = first; k <= last; ++k) axis.ticks.push_back(k == 0 ? 0.0 : k * step);
  return axis;
}

// A tick label with as many decimals as the step needs ("0.2", "15", "2.5e-06").
std::string FormatTick(double v, double step) {
  char buf[64];
  std::to_chars_result r;
  const double magnitude = std::max(std::abs(v), step);
  if (step >= 1e-4 && magnitude < 1e7) {
    const int decimals = std::max(0, -static_cast<int>(std::floor(std::log10(step) + 1e-9)));
    r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, decimals);
  } else {
    int digits = 6;
    if (step > 0) {
      digits = std::clamp(static_cast<int>(std::ceil(std::log10(magnitude / step))) + 1, 1, 17);
    }
    r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general, digits);
  }
  return std::string(buf, r.ptr);
}

// ---------------------------------------------------------------------------------------
// Layout.

struct Layout {
  double width = 0, height = 0;
  double plot_width = 0, plot_height = 0;  // the plot area starts at (kLeft, kTop)
  Axis x, y;
};

double LegendWidth(const LinePlot& plot) {
  if (plot.series.empty()) return 0;
  size_t chars = 0;
  for (size_t i = 0; i < plot.series.size(); ++i) {
    const std::string& label = plot.series[i].label;
    chars = std::max(chars, label.empty() ? 8 + std::to_string(i + 1).size() : CountChars(label));
  }
  return 16 + kLegendSwatch + 6 +
         kCharWidth * static_cast<double>(std::min(chars, kMaxLegendChars));
}

int MinWidth(double legend_width) {
  return static_cast<int>(std::ceil(kLeft + kMinPlotWidth + legend_width + kRightPad));
}

int MinHeight() { return static_cast<int>(std::ceil(kTop + kMinPlotHeight + kBottom)); }

// REQUIRES: width >= MinWidth(legend_width), height >= MinHeight().
Layout MakeLayout(const LinePlot& plot, int width, int height, double legend_width) {
  Range xs, ys;
  for (const PlotSeries& s : plot.series) {
    for (size_t j = 0; j < std::min(s.x.size(), s.y.size()); ++j) {
      if (!std::isfinite(s.x[j]) || !std::isfinite(s.y[j])) continue;
      xs.Add(s.x[j]);
      ys.Add(s.y[j]);
    }
  }
  Layout l;
  l.width = width;
  l.height = height;
  l.plot_width = width - kLeft - legend_width - kRightPad;
  l.plot_height = height - kTop - kBottom;
  l.x = MakeAxis(xs, plot.integer_x);
  l.y = MakeAxis(ys, /*integer=*/false);
  return l;
}

// Fraction of the way from a.lo to a.hi; halved operands keep it finite for any finite v.
double Fraction(const Axis& a, double v) { return (v / 2 - a.lo / 2) / (a.hi / 2 - a.lo / 2); }
double PixelX(const Layout& l, double v) { return kLeft + Fraction(l.x, v) * l.plot_width; }
double PixelY(const Layout& l, double v) { return kTop + (1 - Fraction(l.y, v)) * l.plot_height; }

// ---------------------------------------------------------------------------------------
// Drawing.

void AppendText(double x, double y, std::string_view anchor, std::string_view text,
                std::string& out) {
  Append(out, {"<text x=\"", Num(x), "\" y=\"", Num(y), "\" text-anchor=\"", anchor, "\">",
               EscapeXml(text), "</text>\n"});
}

void AppendLine(double x1, double y1, double x2, double y2, std::string_view style,
                std::string& out) {
  Append(out, {"<line x1=\"", Num(x1), "\" y1=\"", Num(y1), "\" x2=\"", Num(x2), "\" y2=\"",
               Num(y2), "\" ", style, "/>\n"});
}

void AppendGrid(const Layout& l, std::string& out) {
  constexpr std::string_view kGridStyle = "stroke=\"#e3e3e3\" stroke-width=\"1\"";
  const double bottom = kTop + l.plot_height;
  for (double t : l.x.ticks) {
    const double px = PixelX(l, t);
    AppendLine(px, kTop, px, bottom, kGridStyle, out);
    AppendText(px, bottom + 16, "middle", FormatTick(t, l.x.step), out);
  }
  for (double t : l.y.ticks) {
    const double py = PixelY(l, t);
    AppendLine(kLeft, py, kLeft + l.plot_width, py, kGridStyle, out);
    AppendText(kLeft - 8, py + 4, "end", FormatTick(t, l.y.step), out);
  }
  Append(out, {"<rect x=\"", Num(kLeft), "\" y=\"", Num(kTop), "\" width=\"", Num(l.plot_width),
               "\" height=\"", Num(l.plot_height), "\" fill=\"none\" stroke=\"#444\"/>\n"});
}

void AppendLabels(const LinePlot& plot, const Layout& l, std::string& out) {
  if (!plot.title.empty()) {
    Append(out, {"<text x=\"", Num(l.width / 2), "\" y=\"26\" text-anchor=\"middle\" ",
                 "font-size=\"16\" font-weight=\"bold\">", EscapeXml(plot.title), "</text>\n"});
  }
  if (!plot.x_label.empty()) {
    AppendText(kLeft + l.plot_width / 2, l.height - 12, "middle", plot.x_label, out);
  }
  if (!plot.y_label.empty()) {
    Append(out, {"<text transform=\"translate(18 ", Num(kTop + l.plot_height / 2),
                 ") rotate(-90)\" text-anchor=\"middle\">", EscapeXml(plot.y_label), "</text>\n"});
  }
}

// The palette entry of series `index`.
size_t StyleSlot(const PlotSeries& s, size_t index) {
  return s.style >= 0 ? static_cast<size_t>(s.style) : index;
}

std::string StrokeStyle(size_t index) {
  std::string style;
  Append(style, {"fill=\"none\" stroke=\"", kPalette[index % kPalette.size()],
                 "\" stroke-width=\"2\" stroke-linejoin=\"round\" stroke-linecap=\"round\""});
  const std::string_view dash = kDashes[(index / kPalette.size()) % kDashes.size()];
  if (!dash.empty()) Append(style, {" stroke-dasharray=\"", dash, "\""});
  return style;
}

using Segment = std::vector<std::pair<double, double>>;  // pixel coordinates

// The series' runs of consecutive plottable points.
std::vector<Segment> Segments(const PlotSeries& s, const Layout& l) {
  std::vector<Segment> segments(1);
  for (size_t j = 0; j < std::min(s.x.size(), s.y.size()); ++j) {
    const double px = PixelX(l, s.x[j]), py = PixelY(l, s.y[j]);
    const bool ok =
        std::isfinite(s.x[j]) && std::isfinite(s.y[j]) && std::isfinite(px) && std::isfinite(py);
    if (ok) {
      segments.back().emplace_back(px, py);
    } else if (!segments.back().empty()) {
      segments.emplace_back();
    }
  }
  if (segments.back().empty()) segments.pop_back();
  return segments;
}

void AppendSeries(const PlotSeries& s, size_t slot, const Layout& l, std::string& out) {
  const std::vector<Segment> segments = Segments(s, l);
  if (segments.empty()) return;
  std::string d;
  size_t points = 0;
  for (const Segment& seg : segments) {
    for (size_t k = 0; k < seg.size(); ++k) {
      Append(d, {d.empty() ? "" : " ", k == 0 ? "M" : "L", Num(seg[k].first), " ",
                 Num(seg[k].second)});
    }
    points += seg.size();
  }
  Append(out, {"<path d=\"", d, "\" ", StrokeStyle(slot), "/>\n"});
  const std::string_view colour = kPalette[slot % kPalette.size()];
  for (const Segment& seg : segments) {
    if (seg.size() > 1 && points > kMaxDottedPoints) continue;
    for (const auto& [px, py] : seg) {
      Append(out, {"<circle cx=\"", Num(px), "\" cy=\"", Num(py), "\" r=\"2.5\" fill=\"", colour,
                   "\"/>\n"});
    }
  }
}

void AppendLegend(const LinePlot& plot, const Layout& l, std::string& out) {
  const double x = kLeft + l.plot_width + 16;
  for (size_t i = 0; i < plot.series.size(); ++i) {
    const double y = kTop + 10 + kLegendRowHeight * static_cast<double>(i);
    AppendLine(x, y, x + kLegendSwatch, y, StrokeStyle(StyleSlot(plot.series[i], i)), out);
    const std::string& label = plot.series[i].label;
    const std::string text = label.empty() ? "series " + std::to_string(i + 1) : label;
    AppendText(x + kLegendSwatch + 6, y + 4, "start", text, out);
  }
}

std::string RenderChart(const LinePlot& plot, const Layout& l) {
  std::string out;
  AppendGrid(l, out);
  AppendLabels(plot, l, out);
  for (size_t i = 0; i < plot.series.size(); ++i) {
    AppendSeries(plot.series[i], StyleSlot(plot.series[i], i), l, out);
  }
  AppendLegend(plot, l, out);
  return out;
}

}  // namespace

std::string RenderStackedSvg(std::span<const LinePlot> plots, int width, int height_each) {
  // One legend width for all charts keeps their plot areas, and so their x axes, aligned.
  double legend_width = 0;
  for (const LinePlot& plot : plots) legend_width = std::max(legend_width, LegendWidth(plot));
  width = std::max(width, MinWidth(legend_width));
  height_each = std::max(height_each, MinHeight());
  const auto total = static_cast<int64_t>(height_each) * std::max<int64_t>(1, plots.size());
  const std::string w = std::to_string(width), h = std::to_string(total);
  std::string out;
  Append(out, {"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"", w, "\" height=\"", h,
               "\" viewBox=\"0 0 ", w, " ", h,
               "\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\">\n",
               "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"});
  for (size_t i = 0; i < plots.size(); ++i) {
    const int64_t y = static_cast<int64_t>(i) * height_each;
    Append(out, {"<g transform=\"translate(0 ", std::to_string(y), ")\">\n",
                 RenderChart(plots[i], MakeLayout(plots[i], width, height_each, legend_width)),
                 "</g>\n"});
  }
  out += "</svg>";
  return out;
}

std::string RenderSvg(const LinePlot& plot, int width, int height) {
  return RenderStackedSvg(std::span<const LinePlot>(&plot, 1), width, height);
}

Status WriteSvg(const std::string& path, const LinePlot& plot) {
  return internal::WriteFileAtomically(path, RenderSvg(plot) + "\n");
}

Status WriteStackedSvg(const std::string& path, std::span<const LinePlot> plots) {
  return internal::WriteFileAtomically(path, RenderStackedSvg(plots) + "\n");
}

}  // namespace fedra
