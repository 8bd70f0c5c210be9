#include "fedra/fl/metrics_log.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "testing/temp_dir.h"

namespace fedra {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

RoundMetrics Full(int round) {
  RoundMetrics m;
  m.round = round;
  m.aggregated = false;
  m.error = "FAILED_PRECONDITION: \"3 of 4\" clients failed\nsecond line";
  m.fit_clients = 4;
  m.fit_failures = 3;
  m.train_loss = 0.1 + round;  // not exactly representable: tests exact round trip
  m.eval_clients = 2;
  m.eval_loss = 0.3;
  m.eval_accuracy = 0.875;
  m.server_eval_loss = 0.25;
  m.server_eval_accuracy = 0.9;
  m.seconds = 1.0 / 3;
  m.bytes_down = 12'345'678'901;
  m.bytes_up = 42;
  return m;
}

RoundMetrics Minimal(int round) {
  RoundMetrics m;
  m.round = round;
  m.aggregated = true;
  m.fit_clients = 10;
  m.train_loss = 1.5;
  return m;
}

void ExpectSame(const RoundMetrics& a, const RoundMetrics& b) {
  EXPECT_EQ(a.round, b.round);
  EXPECT_EQ(a.aggregated, b.aggregated);
  EXPECT_EQ(a.error, b.error);
  EXPECT_EQ(a.fit_clients, b.fit_clients);
  EXPECT_EQ(a.fit_failures, b.fit_failures);
  EXPECT_EQ(a.train_loss, b.train_loss);
  EXPECT_EQ(a.eval_clients, b.eval_clients);
  EXPECT_EQ(a.eval_loss, b.eval_loss);
  EXPECT_EQ(a.eval_accuracy, b.eval_accuracy);
  EXPECT_EQ(a.server_eval_loss, b.server_eval_loss);
  EXPECT_EQ(a.server_eval_accuracy, b.server_eval_accuracy);
  EXPECT_EQ(a.seconds, b.seconds);
  EXPECT_EQ(a.bytes_down, b.bytes_down);
  EXPECT_EQ(a.bytes_up, b.bytes_up);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool Contains(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

TEST(MetricsLogTest, FullRecordRoundTrips) {
  const std::string json = RoundMetricsToJson(Full(7));
  EXPECT_FALSE(Contains(json, "\n")) << json;
  StatusOr<RoundMetrics> back = RoundMetricsFromJson(json);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ExpectSame(*back, Full(7));
}

TEST(MetricsLogTest, ExtrasRoundTripAndBadExtrasAreRefused) {
  RoundMetrics m = Minimal(3);
  m.extras = {{"dp_epsilon", 1.25}, {"dp_clip", 0.5}, {"undefined", INFINITY}};
  const std::string json = RoundMetricsToJson(m);
  EXPECT_TRUE(Contains(json, R"("extras":{"dp_clip":0.5,"dp_epsilon":1.25,"undefined":null})"))
      << json;
  StatusOr<RoundMetrics> back = RoundMetricsFromJson(json);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->extras.at("dp_epsilon"), 1.25);
  EXPECT_EQ(back->extras.at("dp_clip"), 0.5);
  EXPECT_TRUE(std::isnan(back->extras.at("undefined")));
  std::string bad = json;
  bad.replace(bad.find("1.25"), 4, "\"x\"");
  EXPECT_FALSE(RoundMetricsFromJson(bad).ok());
}

TEST(MetricsLogTest, MinimalRecordOmitsOptionalKeys) {
  const std::string json = RoundMetricsToJson(Minimal(1));
  EXPECT_EQ(json,
            R"({"round":1,"aggregated":true,"fit_clients":10,"fit_failures":0,)"
            R"("train_loss":1.5,"eval_clients":0,"seconds":0.0,"bytes_down":0,"bytes_up":0})");
  StatusOr<RoundMetrics> back = RoundMetricsFromJson(json);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ExpectSame(*back, Minimal(1));
}

TEST(MetricsLogTest, EachServerValueIsWrittenOnlyWhenSet) {
  RoundMetrics m = Minimal(2);
  m.server_eval_accuracy = 0.5;
  const std::string json = RoundMetricsToJson(m);
  EXPECT_TRUE(Contains(json, "\"server_eval_accuracy\":0.5"));
  EXPECT_FALSE(Contains(json, "server_eval_loss"));
  StatusOr<RoundMetrics> back = RoundMetricsFromJson(json);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ExpectSame(*back, m);
}

TEST(MetricsLogTest, NonFiniteNumbersAreNull) {
  RoundMetrics m = Full(3);
  m.train_loss = kNaN;
  m.eval_loss = std::numeric_limits<double>::infinity();
  m.server_eval_loss = kNaN;
  const std::string json = RoundMetricsToJson(m);
  EXPECT_TRUE(Contains(json, "\"train_loss\":null")) << json;
  EXPECT_TRUE(Contains(json, "\"eval_loss\":null")) << json;
  EXPECT_TRUE(Contains(json, "\"server_eval_loss\":null")) << json;
  StatusOr<RoundMetrics> back = RoundMetricsFromJson(json);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(std::isnan(back->train_loss));
  EXPECT_TRUE(std::isnan(back->eval_loss));
  ASSERT_TRUE(back->server_eval_loss.has_value());
  EXPECT_TRUE(std::isnan(*back->server_eval_loss));
  EXPECT_EQ(back->server_eval_accuracy, 0.9);
}

TEST(MetricsLogTest, InvalidUtf8InErrorIsReplaced) {
  RoundMetrics m = Minimal(1);
  m.error = "bad \xff byte";
  StatusOr<RoundMetrics> back = RoundMetricsFromJson(RoundMetricsToJson(m));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->error, "bad \xEF\xBF\xBD byte");
}

TEST(MetricsLogTest, TextThatIsNotJsonIsDataLoss) {
  for (const std::string line : {"", "{", "not json", "{\"round\":1} trailing", "{'a':1}"}) {
    StatusOr<RoundMetrics> m = RoundMetricsFromJson(line);
    ASSERT_FALSE(m.ok()) << line;
    EXPECT_EQ(m.status().code(), StatusCode::kDataLoss) << line;
    EXPECT_TRUE(Contains(m.status().message(), "not valid JSON")) << m.status().message();
  }
}

// A valid minimal record with `key`'s value replaced by `value` (or removed if empty).
std::string WithValue(const std::string& key, const std::string& value) {
  std::string json = RoundMetricsToJson(Minimal(1));
  const size_t begin = json.find("\"" + key + "\":");
  const size_t end = json.find_first_of(",}", begin);
  if (value.empty() && json[begin - 1] == ',') return json.erase(begin - 1, end + 1 - begin);
  if (value.empty()) return json.erase(begin, end + 1 - begin);
  const size_t value_begin = begin + key.size() + 3;
  return json.replace(value_begin, end - value_begin, value);
}

TEST(MetricsLogTest, WrongSchemaIsInvalidArgumentNamingTheKey) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"round", "\"1\""},
      {"round", "1.5"},
      {"round", "3000000000"},
      {"aggregated", "1"},
      {"fit_clients", "-1"},
      {"fit_failures", "11"},  // > fit_clients
      {"train_loss", "\"x\""},
      {"eval_clients", "true"},
      {"seconds", "[]"},
      {"bytes_up", "1e3"},
      {"bytes_down", "99999999999999999999999"},
      {"round", ""},
      {"bytes_up", ""},
  };
  for (const auto& [key, value] : cases) {
    const std::string line = WithValue(key, value);
    StatusOr<RoundMetrics> m = RoundMetricsFromJson(line);
    ASSERT_FALSE(m.ok()) << line;
    EXPECT_EQ(m.status().code(), StatusCode::kInvalidArgument) << line;
    EXPECT_TRUE(Contains(m.status().message(), key)) << line << " -> " << m.status().message();
  }
}

TEST(MetricsLogTest, OtherWrongShapesAreInvalidArgument) {
  for (const std::string line :
       {"[1,2]", "3", "null",
        R"({"round":1,"aggregated":true,"error":5,"fit_clients":1,"fit_failures":0,)"
        R"("train_loss":1,"eval_clients":0,"seconds":0,"bytes_down":0,"bytes_up":0})",
        R"({"round":1,"aggregated":true,"fit_clients":1,"fit_failures":0,)"
        R"("train_loss":1,"eval_clients":2,"seconds":0,"bytes_down":0,"bytes_up":0})"}) {
    StatusOr<RoundMetrics> m = RoundMetricsFromJson(line);
    ASSERT_FALSE(m.ok()) << line;
    EXPECT_EQ(m.status().code(), StatusCode::kInvalidArgument) << m.status().message();
  }
}

TEST(MetricsLogTest, UnknownKeysAreIgnored) {
  std::string json = RoundMetricsToJson(Minimal(4));
  json.insert(1, R"("future_field":{"a":[1,2]},)");
  StatusOr<RoundMetrics> m = RoundMetricsFromJson(json);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ExpectSame(*m, Minimal(4));
}

TEST(MetricsLogTest, AppendedLinesReadBack) {
  testing::TempDir dir;
  const std::string path = dir.File("metrics.jsonl");
  StatusOr<MetricsLog> log = MetricsLog::Open(path, /*truncate=*/true);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  ASSERT_TRUE(log->Append(Full(1)).ok());
  ASSERT_TRUE(log->Append(Minimal(2)).ok());
  ASSERT_EQ(log->history().size(), 2u);
  ExpectSame(log->history()[1], Minimal(2));
  // Each line is on disk as soon as Append returns.
  EXPECT_EQ(ReadFile(path),
            RoundMetricsToJson(Full(1)) + "\n" + RoundMetricsToJson(Minimal(2)) + "\n");
  StatusOr<std::vector<RoundMetrics>> read = ReadMetricsLog(path);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_EQ(read->size(), 2u);
  ExpectSame((*read)[0], Full(1));
  ExpectSame((*read)[1], Minimal(2));
}

TEST(MetricsLogTest, ReopeningAppendsAndLoadsHistory) {
  testing::TempDir dir;
  const std::string path = dir.File("metrics.jsonl");
  {
    StatusOr<MetricsLog> log = MetricsLog::Open(path, true);
    ASSERT_TRUE(log.ok());
    ASSERT_TRUE(log->Append(Minimal(1)).ok());
  }
  StatusOr<MetricsLog> log = MetricsLog::Open(path, false);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  ASSERT_EQ(log->history().size(), 1u);
  ASSERT_TRUE(log->Append(Minimal(2)).ok());
  EXPECT_EQ(log->history().size(), 2u);
  EXPECT_EQ(ReadMetricsLog(path)->size(), 2u);

  StatusOr<MetricsLog> fresh = MetricsLog::Open(path, true);
  ASSERT_TRUE(fresh.ok());
  EXPECT_TRUE(fresh->history().empty());
  EXPECT_EQ(ReadFile(path), "");
}

TEST(MetricsLogTest, ReopeningDropsATornLastLine) {
  testing::TempDir dir;
  const std::string good = RoundMetricsToJson(Minimal(1)) + "\n";
  const std::string path = dir.Write("metrics.jsonl", good + R"({"round":2,"aggre)");
  StatusOr<MetricsLog> log = MetricsLog::Open(path, false);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  EXPECT_EQ(log->history().size(), 1u);
  ASSERT_TRUE(log->Append(Minimal(2)).ok());
  EXPECT_EQ(ReadFile(path), good + RoundMetricsToJson(Minimal(2)) + "\n");
}

TEST(MetricsLogTest, ReopeningACorruptLogFailsAndLeavesItAlone) {
  testing::TempDir dir;
  const std::string text = "garbage\n" + RoundMetricsToJson(Minimal(1));
  const std::string path = dir.Write("metrics.jsonl", text);
  StatusOr<MetricsLog> log = MetricsLog::Open(path, false);
  ASSERT_FALSE(log.ok());
  EXPECT_TRUE(Contains(log.status().message(), path + ":1")) << log.status().message();
  EXPECT_EQ(ReadFile(path), text);
}

TEST(MetricsLogTest, ReadMetricsLogNamesPathAndLine) {
  testing::TempDir dir;
  const std::string path = dir.Write(
      "metrics.jsonl", RoundMetricsToJson(Minimal(1)) + "\n\n" + R"({"round":"two"})" + "\n");
  StatusOr<std::vector<RoundMetrics>> read = ReadMetricsLog(path);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(read.status().message(), path + ":3: ")) << read.status().message();

  // Blank lines and a missing final newline are fine.
  const std::string ok_path = dir.Write(
      "ok.jsonl", "\n" + RoundMetricsToJson(Minimal(1)) + "\n  \n" + RoundMetricsToJson(Full(2)));
  StatusOr<std::vector<RoundMetrics>> ok = ReadMetricsLog(ok_path);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->size(), 2u);
}

TEST(MetricsLogTest, MissingFilesAreNotFound) {
  testing::TempDir dir;
  const std::string path = dir.File("absent.jsonl");
  StatusOr<std::vector<RoundMetrics>> read = ReadMetricsLog(path);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(Contains(read.status().message(), path));

  const std::string in_missing_dir = dir.File("no/such/metrics.jsonl");
  for (bool truncate : {true, false}) {
    StatusOr<MetricsLog> log = MetricsLog::Open(in_missing_dir, truncate);
    ASSERT_FALSE(log.ok());
    EXPECT_TRUE(Contains(log.status().message(), in_missing_dir)) << log.status().message();
  }
}

TEST(MetricsLogTest, PlotMentionsEverySeries) {
  testing::TempDir dir;
  std::vector<RoundMetrics> history;
  for (int r = 1; r <= 5; ++r) history.push_back(Full(r));
  history[1].aggregated = true;
  history[2].aggregated = true;
  const std::string path = dir.File("metrics.svg");
  ASSERT_TRUE(WriteMetricsPlot(path, history).ok());
  const std::string svg = ReadFile(path);
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  for (const char* text :
       {">Accuracy</text>", ">Loss</text>", ">round</text>", ">eval accuracy (federated)</text>",
        ">eval accuracy (server)</text>", ">train loss</text>", ">eval loss (federated)</text>",
        ">eval loss (server)</text>"}) {
    EXPECT_TRUE(Contains(svg, text)) << text;
  }
  EXPECT_FALSE(Contains(svg, "nan"));
}

TEST(MetricsLogTest, PlotLeavesOutSeriesWithoutData) {
  const std::vector<RoundMetrics> history = {Minimal(1), Minimal(2), Minimal(3)};
  const std::vector<LinePlot> plots = MetricsPlots(history);
  ASSERT_EQ(plots.size(), 2u);
  EXPECT_TRUE(plots[0].series.empty());
  ASSERT_EQ(plots[1].series.size(), 1u);
  EXPECT_EQ(plots[1].series[0].label, "train loss");
  EXPECT_EQ(plots[1].series[0].x, (std::vector<double>{1, 2, 3}));
  EXPECT_EQ(plots[1].series[0].y, (std::vector<double>{1.5, 1.5, 1.5}));

  testing::TempDir dir;
  EXPECT_TRUE(WriteMetricsPlot(dir.File("empty.svg"), {}).ok());
  const Status missing = WriteMetricsPlot(dir.File("no/dir.svg"), history);
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(Contains(missing.message(), dir.File("no/dir.svg")));
}

}  // namespace
}  // namespace fedra
