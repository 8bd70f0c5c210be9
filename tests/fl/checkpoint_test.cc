#include "fedra/fl/checkpoint.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fedra/fl/fed_adam.h"
#include "fedra/ml/safetensors.h"
#include "testing/fl_fixtures.h"
#include "testing/temp_dir.h"

namespace fedra {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using testing::TempDir;

std::vector<uint32_t> Bits(std::span<const float> v) {
  std::vector<uint32_t> bits;
  for (float x : v) bits.push_back(std::bit_cast<uint32_t>(x));
  return bits;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void WriteAll(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

std::vector<std::string> Listing(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

RoundMetrics Metrics(int round) {
  RoundMetrics m;
  m.round = round;
  m.aggregated = round % 2 == 1;
  m.error = round % 2 == 1 ? "" : "too \"many\"\nfailures";
  m.fit_clients = 10;
  m.fit_failures = 3;
  m.train_loss = 0.1 * round;  // not representable exactly: tests exact round trip
  m.eval_clients = 4;
  m.eval_loss = 1.0 / 3;
  m.eval_accuracy = 0.875;
  m.server_eval_accuracy = 0.7;
  m.seconds = 1e-300;
  m.bytes_down = 12'345'678'901;
  m.bytes_up = 7;
  return m;
}

// A checkpoint exercising every field, with float bits that must survive (signed zero,
// subnormal, infinities, a NaN with a payload) and awkward doubles.
Checkpoint Full(int round) {
  Checkpoint c;
  c.round = round;
  c.seed = 0xfedcba9876543210ull;
  c.run_id = "run-0123456789abcdef";
  c.global.Add("conv.weight", {2, 1, 3, 3});
  c.global.Add("conv.bias", {2});
  c.global.Add("scalar", {});
  c.global.Add("empty", {0, 4});
  std::span<float> s = c.global.span();
  for (size_t i = 0; i < s.size(); ++i) s[i] = 0.37f * static_cast<float>(i) - 3.0f + round;
  s[0] = -0.0f;
  s[1] = std::numeric_limits<float>::denorm_min();
  s[2] = std::numeric_limits<float>::infinity();
  s[3] = std::bit_cast<float>(uint32_t{0x7fc01234});
  c.fingerprint = CheckpointFingerprint("cnn", c.global, "fedadam");
  c.strategy.vectors["m"] = {0.1f, -2.5f, std::numeric_limits<float>::denorm_min()};
  c.strategy.vectors["v"] = {1e-30f, 3.0f, -0.0f};
  c.strategy.vectors["empty"] = {};
  c.influence = {{"examples", 37.5}, {"steps", 0}, {"norm/update", 1.0 / 3}};
  c.strategy.scalars = {
      {"lr", 0.1},
      {"tiny", 1e-300},
      {"third", 1.0 / 3},
      {"denorm", std::numeric_limits<double>::denorm_min()},
      {"max", std::numeric_limits<double>::max()},
      {"neg_zero", -0.0},
      {"inf", -std::numeric_limits<double>::infinity()},
      {"eps_spent", 2.718281828459045},
  };
  for (int r = 1; r <= round; ++r) c.history.push_back(Metrics(r));
  return c;
}

void ExpectSameMetrics(const RoundMetrics& a, const RoundMetrics& b) {
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

void ExpectSame(const Checkpoint& a, const Checkpoint& b) {
  EXPECT_EQ(a.round, b.round);
  EXPECT_EQ(a.seed, b.seed);
  EXPECT_EQ(a.run_id, b.run_id);
  EXPECT_EQ(a.fingerprint, b.fingerprint);
  EXPECT_TRUE(a.global.SameLayout(b.global)) << a.global.CheckSameLayout(b.global).ToString();
  EXPECT_EQ(Bits(a.global.span()), Bits(b.global.span()));
  ASSERT_EQ(a.strategy.vectors.size(), b.strategy.vectors.size());
  for (const auto& [name, v] : a.strategy.vectors) {
    ASSERT_TRUE(b.strategy.vectors.contains(name)) << name;
    EXPECT_EQ(Bits(v), Bits(b.strategy.vectors.at(name))) << name;
  }
  ASSERT_EQ(a.strategy.scalars.size(), b.strategy.scalars.size());
  for (const auto& [name, x] : a.strategy.scalars) {
    ASSERT_TRUE(b.strategy.scalars.contains(name)) << name;
    EXPECT_EQ(std::bit_cast<uint64_t>(x), std::bit_cast<uint64_t>(b.strategy.scalars.at(name)))
        << name << ": " << x << " vs " << b.strategy.scalars.at(name);
  }
  ASSERT_EQ(a.history.size(), b.history.size());
  for (size_t i = 0; i < a.history.size(); ++i) ExpectSameMetrics(a.history[i], b.history[i]);
  ASSERT_EQ(a.influence.size(), b.influence.size());
  for (const auto& [name, x] : a.influence) {
    ASSERT_TRUE(b.influence.contains(name)) << name;
    EXPECT_EQ(std::bit_cast<uint64_t>(x), std::bit_cast<uint64_t>(b.influence.at(name))) << name;
  }
}

Checkpoint MustLoad(const std::string& dir) {
  StatusOr<std::optional<Checkpoint>> c = LoadCheckpoint(dir);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  if (!c.ok() || !c->has_value()) {
    ADD_FAILURE() << "no checkpoint in " << dir;
    return {};
  }
  return **std::move(c);
}

TEST(CheckpointTest, RoundTripsEveryFieldBitExactly) {
  TempDir tmp;
  const Checkpoint c = Full(3);
  ASSERT_TRUE(SaveCheckpoint(tmp.path(), c).ok());
  EXPECT_EQ(Listing(tmp.path()), std::vector<std::string>{"checkpoint.safetensors"});
  ExpectSame(c, MustLoad(tmp.path()));
}

TEST(CheckpointTest, RoundTripsNanScalarAndEmptyState) {
  TempDir tmp;
  Checkpoint c;
  c.global.Add("w", {1});
  c.strategy.scalars["nan"] = std::numeric_limits<double>::quiet_NaN();
  ASSERT_TRUE(SaveCheckpoint(tmp.path(), c).ok());
  const Checkpoint back = MustLoad(tmp.path());
  EXPECT_EQ(back.round, 0);
  EXPECT_EQ(back.seed, 0u);
  EXPECT_EQ(back.run_id, "");
  EXPECT_TRUE(back.history.empty());
  EXPECT_TRUE(back.strategy.vectors.empty());
  EXPECT_TRUE(back.influence.empty());  // none written: none read
  ASSERT_EQ(back.strategy.scalars.size(), 1u);
  EXPECT_TRUE(std::isnan(back.strategy.scalars.at("nan")));
}

TEST(CheckpointTest, IsASafetensorsFileWithPrefixedTensors) {
  TempDir tmp;
  ASSERT_TRUE(SaveCheckpoint(tmp.path(), Full(2)).ok());
  Metadata metadata;
  StatusOr<Parameters> p = LoadSafetensors(CheckpointPath(tmp.path()), &metadata);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  std::vector<std::string> names;
  for (const TensorInfo& t : p->tensors()) names.push_back(t.name);
  EXPECT_THAT(names,
              ::testing::ElementsAre("global/conv.weight", "global/conv.bias", "global/scalar",
                                     "global/empty", "strategy/empty", "strategy/m", "strategy/v"));
  EXPECT_EQ(metadata.at("round"), "2");
  EXPECT_EQ(metadata.at("format"), "fedra-checkpoint-1");
  EXPECT_THAT(metadata.at("strategy_scalars"), HasSubstr("\"lr\":\"0.1\""));
  EXPECT_THAT(metadata.at("strategy_scalars"), HasSubstr("\"tiny\":\"1e-300\""));
  EXPECT_EQ(std::count(metadata.at("history").begin(), metadata.at("history").end(), '\n'), 2);
}

TEST(CheckpointTest, MissingDirectoryOrFileIsNullopt) {
  TempDir tmp;
  StatusOr<std::optional<Checkpoint>> none = LoadCheckpoint(tmp.File("never/created"));
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_FALSE(none->has_value());
  none = LoadCheckpoint(tmp.path());
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_FALSE(none->has_value());
}

TEST(CheckpointTest, CreatesMissingDirectories) {
  TempDir tmp;
  const std::string dir = tmp.File("a/b/c");
  ASSERT_TRUE(SaveCheckpoint(dir, Full(1)).ok());
  EXPECT_EQ(MustLoad(dir).round, 1);
}

TEST(CheckpointTest, OverwriteKeepsOnlyTheNewest) {
  TempDir tmp;
  ASSERT_TRUE(SaveCheckpoint(tmp.path(), Full(1)).ok());
  Checkpoint newer = Full(2);
  newer.global = testing::Vec({4, 5, 6});  // another layout: nothing of the old file may remain
  newer.strategy = {};
  ASSERT_TRUE(SaveCheckpoint(tmp.path(), newer).ok());
  ExpectSame(newer, MustLoad(tmp.path()));
  EXPECT_EQ(Listing(tmp.path()), std::vector<std::string>{"checkpoint.safetensors"});
}

TEST(CheckpointTest, RejectsWhatLoadWouldRefuse) {
  TempDir tmp;
  Checkpoint no_model = Full(1);
  no_model.global = Parameters();
  Status s = SaveCheckpoint(tmp.path(), no_model);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  Checkpoint negative = Full(1);
  negative.round = -1;
  s = SaveCheckpoint(tmp.path(), negative);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_TRUE(Listing(tmp.path()).empty());
}

TEST(CheckpointTest, UnwritableDirectoryIsAnErrorNamingIt) {
  TempDir tmp;
  const std::string file = tmp.Write("plain_file", "x");
  const Status s = SaveCheckpoint(file + "/sub", Full(1));
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr(file + "/sub"));
}

TEST(CheckpointTest, EveryTruncationIsDataLoss) {
  TempDir tmp;
  ASSERT_TRUE(SaveCheckpoint(tmp.path(), Full(2)).ok());
  const std::string path = CheckpointPath(tmp.path());
  const std::string bytes = ReadAll(path);
  ASSERT_GT(bytes.size(), 100u);
  for (size_t n = 0; n < bytes.size(); ++n) {
    WriteAll(path, bytes.substr(0, n));
    StatusOr<std::optional<Checkpoint>> c = LoadCheckpoint(tmp.path());
    ASSERT_EQ(c.status().code(), StatusCode::kDataLoss) << "truncated to " << n << " bytes";
    EXPECT_THAT(c.status().message(), StartsWith(path + ": "));
  }
}

TEST(CheckpointTest, EveryFlippedByteIsDataLoss) {
  TempDir tmp;
  ASSERT_TRUE(SaveCheckpoint(tmp.path(), Full(2)).ok());
  const std::string path = CheckpointPath(tmp.path());
  const std::string bytes = ReadAll(path);
  // One bit per byte, cycling through the 8 bit positions, so every byte and every bit
  // position are covered.
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string flipped = bytes;
    flipped[i] = static_cast<char>(flipped[i] ^ (1 << (i % 8)));
    WriteAll(path, flipped);
    StatusOr<std::optional<Checkpoint>> c = LoadCheckpoint(tmp.path());
    ASSERT_EQ(c.status().code(), StatusCode::kDataLoss)
        << "bit " << i % 8 << " of byte " << i << " ('" << bytes[i] << "')";
  }
  WriteAll(path, bytes);
  EXPECT_EQ(MustLoad(tmp.path()).round, 2);
}

TEST(CheckpointTest, FlippedTensorBitIsACaughtChecksumMismatch) {
  TempDir tmp;
  ASSERT_TRUE(SaveCheckpoint(tmp.path(), Full(2)).ok());
  const std::string path = CheckpointPath(tmp.path());
  std::string bytes = ReadAll(path);
  bytes[bytes.size() - 5] ^= 0x10;  // inside the last strategy vector's data
  WriteAll(path, bytes);
  const auto c = LoadCheckpoint(tmp.path());
  EXPECT_EQ(c.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(c.status().message(), HasSubstr("checksum mismatch"));
}

TEST(CheckpointTest, PlainModelFileIsNotACheckpoint) {
  TempDir tmp;
  ASSERT_TRUE(SaveSafetensors(CheckpointPath(tmp.path()), testing::Vec({1, 2})).ok());
  const auto c = LoadCheckpoint(tmp.path());
  EXPECT_EQ(c.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(c.status().message(), HasSubstr("missing metadata key \"format\""));
}

TEST(CheckpointTest, LeftoverTemporaryFilesDoNotBreakLoadingAndAreCleanedUp) {
  TempDir tmp;
  ASSERT_TRUE(SaveCheckpoint(tmp.path(), Full(1)).ok());
  // A writer that died mid-save leaves "<path>.tmp.<its pid>.<n>": get a pid that surely
  // no longer runs from a child that has exited and been reaped.
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) _exit(0);
  ASSERT_EQ(waitpid(child, nullptr, 0), child);
  const std::string dead = CheckpointPath(tmp.path()) + ".tmp." + std::to_string(child) + ".0";
  const std::string live = CheckpointPath(tmp.path()) + ".tmp." + std::to_string(getppid()) + ".0";
  const std::string full = ReadAll(CheckpointPath(tmp.path()));
  WriteAll(dead, full.substr(0, full.size() / 2));
  WriteAll(live, "garbage");
  EXPECT_EQ(MustLoad(tmp.path()).round, 1);

  ASSERT_TRUE(SaveCheckpoint(tmp.path(), Full(2)).ok());
  EXPECT_EQ(MustLoad(tmp.path()).round, 2);
  EXPECT_FALSE(std::filesystem::exists(dead));  // its writer is gone
  EXPECT_TRUE(std::filesystem::exists(live));   // its writer (our parent) may still write it
}

// Reads one int from `fd`; false at end of file (the writer is gone).
bool ReadInt(int fd, int& value) {
  char buf[sizeof(int)];
  size_t got = 0;
  while (got < sizeof(buf)) {
    const ssize_t n = read(fd, buf + got, sizeof(buf) - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    got += static_cast<size_t>(n);
  }
  std::memcpy(&value, buf, sizeof(value));
  return true;
}

// A child saves checkpoints of increasing round as fast as it can, reporting each finished
// save through a pipe, and is killed with SIGKILL at varying moments after 1 to 3 reports.
// The file on disk must always load, be internally consistent (values and history of one
// round), and hold the last round reported saved or the one in flight: a finished save is
// never lost, and a kill mid-save never leaves a mixture. No timing assumption: the parent
// waits for the reports, so each child makes progress however slow the machine.
TEST(CheckpointTest, SurvivesSigkillDuringSaves) {
  TempDir tmp;
  Checkpoint c;
  c.seed = 7;
  c.run_id = "crash";
  c.global.Add("w", {256, 1024});  // 1 MB, so kills often land mid-write
  ASSERT_TRUE(SaveCheckpoint(tmp.path(), c).ok());
  int last_round = 0;
  int kills_mid_write = 0;  // reported, not asserted: where a kill lands is up to the scheduler
  for (int attempt = 0; attempt < 20; ++attempt) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      close(fds[0]);
      for (int r = 1; r <= last_round; ++r) c.history.push_back(Metrics(r));
      for (int round = last_round + 1;; ++round) {
        c.round = round;
        std::fill(c.global.span().begin(), c.global.span().end(), static_cast<float>(round));
        c.strategy.scalars["round"] = round;
        c.history.push_back(Metrics(round));
        if (!SaveCheckpoint(tmp.path(), c).ok()) _exit(1);
        if (write(fds[1], &round, sizeof(round)) != sizeof(round)) _exit(1);
      }
    }
    close(fds[1]);
    int saved = last_round;
    bool child_alive = true;
    for (int reports = 0; reports < 1 + attempt % 3 && child_alive; ++reports) {
      child_alive = ReadInt(fds[0], saved);
    }
    usleep(static_cast<useconds_t>(300 * (attempt % 7)));  // varies where the kill lands
    ASSERT_EQ(kill(child, SIGKILL), 0);
    int wstatus = 0;
    ASSERT_EQ(waitpid(child, &wstatus, 0), child);
    ASSERT_TRUE(child_alive && WIFSIGNALED(wstatus)) << "the child stopped by itself";
    while (ReadInt(fds[0], saved)) {
    }
    close(fds[0]);

    for (const std::string& name : Listing(tmp.path())) {
      if (name != "checkpoint.safetensors") ++kills_mid_write;  // a temporary file left behind
    }
    const Checkpoint back = MustLoad(tmp.path());
    ASSERT_GE(back.round, saved) << "a finished save was lost";
    ASSERT_LE(back.round, saved + 1);
    EXPECT_GT(back.round, last_round);
    last_round = back.round;
    EXPECT_EQ(back.run_id, "crash");
    ASSERT_EQ(back.global.size(), 256u * 1024);
    EXPECT_EQ(back.global.span()[0], static_cast<float>(back.round));
    EXPECT_EQ(back.global.span()[back.global.size() - 1], static_cast<float>(back.round));
    ASSERT_EQ(back.history.size(), static_cast<size_t>(back.round));
    EXPECT_EQ(back.history.back().round, back.round);
    EXPECT_EQ(back.strategy.scalars.at("round"), back.round);
  }
  RecordProperty("kills_mid_write", kills_mid_write);
  RecordProperty("last_round", last_round);
}

TEST(CheckpointTest, CarriesFedAdamStateAcrossARestart) {
  const Parameters global = testing::Vec({1, -2, 3});
  const std::vector<FitResult> round1 = {testing::MakeFitResult(1, {0.5f, 0.25f, -1}, 10),
                                         testing::MakeFitResult(2, {-0.1f, 0.3f, 0.2f}, 30)};
  const std::vector<FitResult> round2 = {testing::MakeFitResult(1, {0.2f, -0.4f, 0.1f}, 20),
                                         testing::MakeFitResult(3, {0.3f, 0.3f, -0.7f}, 5)};
  const FedOptOptions options{.server = {.eta = 0.1f}};
  std::unique_ptr<Strategy> running = testing::Unwrap(NewFedAdam(options));
  StatusOr<Parameters> after1 = testing::Aggregate(*running, global, round1);
  ASSERT_TRUE(after1.ok()) << after1.status().ToString();
  ASSERT_FALSE(running->ExportState().vectors.at("m").empty());

  TempDir tmp;
  Checkpoint c;
  c.round = 1;
  c.global = *after1;
  c.strategy = running->ExportState();
  c.fingerprint = CheckpointFingerprint("linear", c.global, running->Name());
  ASSERT_TRUE(SaveCheckpoint(tmp.path(), c).ok());

  // "Restart": a fresh strategy resumes from the file and must continue exactly like the
  // one that kept running.
  const Checkpoint back = MustLoad(tmp.path());
  std::unique_ptr<Strategy> resumed = testing::Unwrap(NewFedAdam(options));
  EXPECT_EQ(back.fingerprint, CheckpointFingerprint("linear", back.global, resumed->Name()));
  ASSERT_TRUE(resumed->ImportState(back.strategy).ok());
  StatusOr<Parameters> expected = testing::Aggregate(*running, *after1, round2);
  StatusOr<Parameters> actual = testing::Aggregate(*resumed, back.global, round2);
  ASSERT_TRUE(expected.ok() && actual.ok());
  EXPECT_EQ(Bits(expected->span()), Bits(actual->span()));
  // Without the state, the next step differs (the test would catch a lost state).
  std::unique_ptr<Strategy> fresh = testing::Unwrap(NewFedAdam(options));
  StatusOr<Parameters> stateless = testing::Aggregate(*fresh, back.global, round2);
  ASSERT_TRUE(stateless.ok());
  EXPECT_NE(Bits(expected->span()), Bits(stateless->span()));
}

TEST(CheckpointFingerprintTest, NamesModelLayoutAndStrategy) {
  Parameters p;
  p.Add("dense/w", {784, 10});
  p.Add("dense/b", {10});
  p.Add("s", {});
  EXPECT_EQ(CheckpointFingerprint("logreg", p, "fedavg"),
            "model logreg: dense/w:[784,10],dense/b:[10],s:[]; strategy fedavg");
  Parameters q;
  q.Add("dense/w", {10, 784});
  q.Add("dense/b", {10});
  q.Add("s", {});
  EXPECT_NE(CheckpointFingerprint("logreg", p, "fedavg"),
            CheckpointFingerprint("logreg", q, "fedavg"));
}

}  // namespace
}  // namespace fedra
