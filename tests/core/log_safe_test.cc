// Peer-supplied strings in logs: escaped, bounded; warnings per peer rate-limited.
#include "core/log_safe.h"

#include <gtest/gtest.h>

#include <string>

namespace fedra {
namespace {

TEST(LogSafeTest, EscapesEverythingThatCouldForgeOrGarbleALine) {
  EXPECT_EQ(LogSafe("run-42"), "run-42");
  EXPECT_EQ(LogSafe("a\nI [fedra.server] forged"), "a\\nI [fedra.server] forged");
  EXPECT_EQ(LogSafe("\r\t\\"), "\\r\\t\\\\");
  EXPECT_EQ(LogSafe(std::string("n\0ul\x1b[31m\x7f\xc3\xa9", 12)),
            "n\\x00ul\\x1b[31m\\x7f\\xc3\\xa9");
  for (const char c : LogSafe(std::string(300, '\n'), 1000)) EXPECT_NE(c, '\n');
}

TEST(LogSafeTest, CutsLongTextAndSaysHowMuchWasLeftOut) {
  const std::string big(3900000, 'x');
  const std::string safe = LogSafe(big, 100);
  std::string expected(100, 'x');
  expected += "...(3899900 more bytes)";
  EXPECT_EQ(safe, expected);
  EXPECT_EQ(LogSafe("abc", 3), "abc");
  EXPECT_EQ(LogSafe("", 3), "");
}

TEST(WarningLimiterTest, AdmitsABurstPerPeerThenCountsWhatItSuppressed) {
  WarningLimiter limiter(3, std::chrono::seconds(10));
  const auto t0 = WarningLimiter::Clock::now();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(limiter.Admit("mallory", t0), 0);
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(limiter.Admit("mallory", t0).has_value());
  EXPECT_EQ(limiter.Admit("alice", t0), 0);  // another peer is not affected
  // The next window admits again and reports the 5 suppressed.
  EXPECT_EQ(limiter.Admit("mallory", t0 + std::chrono::seconds(11)), 5);
  EXPECT_EQ(limiter.Admit("mallory", t0 + std::chrono::seconds(11)), 0);
}

TEST(WarningLimiterTest, ManyNewKeysDoNotGrowWithoutBound) {
  WarningLimiter limiter(1, std::chrono::seconds(10), 16);
  const auto t0 = WarningLimiter::Clock::now();
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(limiter.Admit("peer" + std::to_string(i), t0));
  // After a restart of the table a key may be admitted again; it is never refused forever.
  EXPECT_TRUE(limiter.Admit("fresh", t0).has_value());
}

}  // namespace
}  // namespace fedra
