#include "fedra/core/svg_plot.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "testing/temp_dir.h"

namespace fedra {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

size_t Count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t pos = text.find(needle); pos != std::string::npos;
       pos = text.find(needle, pos + needle.size())) {
    ++n;
  }
  return n;
}

// The values of every `attribute="..."` in `text`.
std::vector<std::string> AttributeValues(const std::string& text, const std::string& attribute) {
  std::vector<std::string> values;
  const std::string key = " " + attribute + "=\"";
  for (size_t pos = text.find(key); pos != std::string::npos; pos = text.find(key, pos + 1)) {
    const size_t begin = pos + key.size();
    values.push_back(text.substr(begin, text.find('"', begin) - begin));
  }
  return values;
}

// The d attributes of the <path> elements.
std::vector<std::string> PathData(const std::string& svg) {
  std::vector<std::string> d;
  for (size_t pos = svg.find("<path d=\""); pos != std::string::npos;
       pos = svg.find("<path d=\"", pos + 1)) {
    const size_t begin = pos + 9;
    d.push_back(svg.substr(begin, svg.find('"', begin) - begin));
  }
  return d;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void ExpectWellFormedShape(const std::string& svg) {
  EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u) << svg.substr(0, 80);
  ASSERT_GE(svg.size(), 6u);
  EXPECT_EQ(svg.substr(svg.size() - 6), "</svg>");
  EXPECT_EQ(Count(svg, "<svg"), 1u);
  EXPECT_EQ(Count(svg, "<text"), Count(svg, "</text>"));
  EXPECT_EQ(Count(svg, "<g "), Count(svg, "</g>"));
  EXPECT_EQ(svg.find("nan"), std::string::npos);
  EXPECT_EQ(svg.find("inf"), std::string::npos);
}

LinePlot TwoSeriesPlot() {
  LinePlot plot;
  plot.title = "Accuracy";
  plot.x_label = "round";
  plot.y_label = "accuracy";
  plot.series = {{"train", {1, 2, 3, 4}, {0.12, 0.5, 0.8, 0.93}},
                 {"test", {1, 2, 3, 4}, {0.2, 0.4, 0.7, 0.9}}};
  return plot;
}

TEST(SvgPlotTest, IsAStandaloneSvgDocument) {
  const std::string svg = RenderSvg(TwoSeriesPlot());
  ExpectWellFormedShape(svg);
  EXPECT_NE(svg.find("viewBox=\"0 0 720 420\""), std::string::npos);
  EXPECT_NE(svg.find(">Accuracy</text>"), std::string::npos);
  EXPECT_NE(svg.find(">round</text>"), std::string::npos);
  EXPECT_NE(svg.find(">accuracy</text>"), std::string::npos);
  EXPECT_NE(svg.find(">train</text>"), std::string::npos);  // legend
  EXPECT_NE(svg.find(">test</text>"), std::string::npos);
}

TEST(SvgPlotTest, EscapesAllText) {
  LinePlot plot;
  plot.title = "a<b&c";
  plot.x_label = "say \"hi\"";
  plot.y_label = "it's > 0";
  plot.series = {{"x<y", {1}, {1}}};
  const std::string svg = RenderSvg(plot);
  ExpectWellFormedShape(svg);
  EXPECT_NE(svg.find(">a&lt;b&amp;c</text>"), std::string::npos);
  EXPECT_NE(svg.find(">say &quot;hi&quot;</text>"), std::string::npos);
  EXPECT_NE(svg.find(">it&apos;s &gt; 0</text>"), std::string::npos);
  EXPECT_NE(svg.find(">x&lt;y</text>"), std::string::npos);
  EXPECT_EQ(svg.find("a<b"), std::string::npos);
}

TEST(SvgPlotTest, ReplacesControlCharactersAndInvalidUtf8) {
  LinePlot plot;
  plot.title = std::string("ok\x01\xff\xc3(") + "\n\xc3\xa9";  // é stays
  const std::string svg = RenderSvg(plot);
  EXPECT_NE(svg.find(">ok\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD( \xc3\xa9</text>"),
            std::string::npos);
  EXPECT_EQ(svg.find('\x01'), std::string::npos);
}

TEST(SvgPlotTest, OnePathPerSeriesInDistinctColours) {
  LinePlot plot = TwoSeriesPlot();
  plot.series.push_back({"third", {1, 2}, {0.3, 0.3}});
  const std::string svg = RenderSvg(plot);
  EXPECT_EQ(PathData(svg).size(), 3u);
  std::set<std::string> colours;
  for (size_t pos = svg.find("<path"); pos != std::string::npos; pos = svg.find("<path", pos + 1)) {
    const std::string element = svg.substr(pos, svg.find("/>", pos) - pos);
    colours.insert(AttributeValues(element, "stroke").at(0));
  }
  EXPECT_EQ(colours.size(), 3u);
}

TEST(SvgPlotTest, StyleKeepsAColourAcrossCharts) {
  LinePlot a, b;
  a.series = {{"s", {1, 2}, {1, 2}, /*style=*/3}};
  b.series = {{"other", {1, 2}, {1, 2}}, {"s", {1, 2}, {2, 1}, /*style=*/3}};
  const auto stroke_of_last_path = [](const std::string& svg) {
    const size_t pos = svg.rfind("<path");
    return AttributeValues(svg.substr(pos, svg.find("/>", pos) - pos), "stroke").at(0);
  };
  EXPECT_EQ(stroke_of_last_path(RenderSvg(a)), stroke_of_last_path(RenderSvg(b)));
}

TEST(SvgPlotTest, TicksAreNiceNumbers) {
  LinePlot plot;
  plot.series = {{"s", {0, 10}, {0.12, 0.93}}};
  const std::string svg = RenderSvg(plot);
  // y: [0.12, 0.93] widens to [0, 1] in steps of 0.2; x: [0, 10] in steps of 2.
  for (const char* tick : {">0.0</text>", ">0.2</text>", ">0.4</text>", ">0.6</text>",
                           ">0.8</text>", ">1.0</text>", ">2</text>", ">10</text>"}) {
    EXPECT_NE(svg.find(tick), std::string::npos) << tick;
  }
  EXPECT_EQ(svg.find(">0.12</text>"), std::string::npos);
  EXPECT_EQ(svg.find("0000"), std::string::npos);  // no 0.30000000000000004
}

TEST(SvgPlotTest, IntegerXTicksAreWholeNumbers) {
  LinePlot plot;
  plot.integer_x = true;
  plot.series = {{"s", {1, 2, 3}, {10, 20, 30}}};
  const std::string svg = RenderSvg(plot);
  EXPECT_NE(svg.find(">1</text>"), std::string::npos);
  EXPECT_NE(svg.find(">3</text>"), std::string::npos);
  EXPECT_EQ(svg.find(">1.5</text>"), std::string::npos);
}

TEST(SvgPlotTest, NonFinitePointsBreakTheLine) {
  LinePlot plot;
  plot.series = {{"s", {1, 2, 3, 4, 5, 6}, {1, 2, kNaN, 4, kInf, 6}}};
  const std::string svg = RenderSvg(plot);
  ExpectWellFormedShape(svg);
  const std::vector<std::string> d = PathData(svg);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(Count(d[0], "M"), 3u);  // runs {1, 2}, {4}, {6}
  EXPECT_EQ(Count(d[0], "L"), 1u);
}

TEST(SvgPlotTest, SinglePointIsDrawnAsADot) {
  LinePlot plot;
  plot.series = {{"one", {3}, {5}}};
  const std::string svg = RenderSvg(plot);
  ExpectWellFormedShape(svg);
  EXPECT_EQ(Count(svg, "<circle"), 1u);
  // A constant value v spans [v/2, 3v/2]: y ticks 2..8, x ticks 1..5.
  EXPECT_NE(svg.find(">5</text>"), std::string::npos);
  EXPECT_NE(svg.find(">2</text>"), std::string::npos);
}

TEST(SvgPlotTest, ConstantZeroGetsANonZeroRange) {
  LinePlot plot;
  plot.series = {{"zero", {1, 2, 3}, {0, 0, 0}}};
  const std::string svg = RenderSvg(plot);
  ExpectWellFormedShape(svg);
  EXPECT_NE(svg.find(">-1.0</text>"), std::string::npos);
  EXPECT_NE(svg.find(">1.0</text>"), std::string::npos);
}

TEST(SvgPlotTest, EmptyAndAllNonFiniteSeriesKeepTheirLegendEntry) {
  LinePlot plot;
  plot.title = "nothing";
  plot.series = {{"empty", {}, {}}, {"", {1, 2}, {kNaN, kNaN}}, {"short", {1, 2}, {}}};
  const std::string svg = RenderSvg(plot);
  ExpectWellFormedShape(svg);
  EXPECT_TRUE(PathData(svg).empty());
  EXPECT_NE(svg.find(">empty</text>"), std::string::npos);
  EXPECT_NE(svg.find(">series 2</text>"), std::string::npos);
  EXPECT_NE(svg.find(">short</text>"), std::string::npos);
  ExpectWellFormedShape(RenderSvg(LinePlot{}));
}

TEST(SvgPlotTest, ExtremeValuesStayFinite) {
  const double big = std::numeric_limits<double>::max();
  LinePlot plot;
  plot.series = {{"s", {-big, big}, {-big, big}}};
  ExpectWellFormedShape(RenderSvg(plot));
  // Steps below the precision of the values: the axis falls back to its end points.
  plot.series = {{"t", {1e-300, 2e-300}, {1e17, 1e17 + 32}}};
  ExpectWellFormedShape(RenderSvg(plot));
  EXPECT_EQ(PathData(RenderSvg(plot)).size(), 1u);
}

TEST(SvgPlotTest, TinySizesAreRaised) {
  const std::string svg = RenderSvg(TwoSeriesPlot(), 1, 1);
  ExpectWellFormedShape(svg);
  EXPECT_EQ(svg.find(" width=\"1\""), std::string::npos);
  EXPECT_EQ(svg.find("height=\"-"), std::string::npos);
}

TEST(SvgPlotTest, StacksChartsVertically) {
  LinePlot second = TwoSeriesPlot();
  second.title = "Loss";
  const std::vector<LinePlot> plots = {TwoSeriesPlot(), second};
  const std::string svg = RenderStackedSvg(plots, 600, 300);
  ExpectWellFormedShape(svg);
  EXPECT_NE(svg.find("viewBox=\"0 0 600 600\""), std::string::npos);
  EXPECT_NE(svg.find("translate(0 300)"), std::string::npos);
  EXPECT_NE(svg.find(">Accuracy</text>"), std::string::npos);
  EXPECT_NE(svg.find(">Loss</text>"), std::string::npos);
  EXPECT_EQ(PathData(svg).size(), 4u);
}

TEST(SvgPlotTest, WriteSvgWritesTheRenderedText) {
  testing::TempDir dir;
  const std::string path = dir.File("plot.svg");
  ASSERT_TRUE(WriteSvg(path, TwoSeriesPlot()).ok());
  EXPECT_EQ(ReadFile(path), RenderSvg(TwoSeriesPlot()) + "\n");
  // Overwrites, and leaves no temporary file behind.
  ASSERT_TRUE(WriteSvg(path, LinePlot{}).ok());
  EXPECT_EQ(ReadFile(path), RenderSvg(LinePlot{}) + "\n");
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    ++files;
    EXPECT_EQ(entry.path().filename().string(), "plot.svg");
  }
  EXPECT_EQ(files, 1u);
}

TEST(SvgPlotTest, WriteSvgToAMissingDirectoryFails) {
  testing::TempDir dir;
  const std::string path = dir.File("no/such/dir/plot.svg");
  const Status status = WriteSvg(path, TwoSeriesPlot());
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.code(), StatusCode::kNotFound);
  EXPECT_NE(status.message().find(path), std::string::npos) << status.message();
  const std::vector<LinePlot> plots(2);
  EXPECT_FALSE(WriteStackedSvg(path, plots).ok());
}

}  // namespace
}  // namespace fedra
