#include "fedra/fl/round_config.h"

#include <gtest/gtest.h>

#include <limits>

namespace fedra {
namespace {

TEST(RoundConfigTest, TypedReadsReturnValuesFallbacksAndTypeErrors) {
  const RoundConfig c{
      {"steps", int64_t{7}}, {"lr", 0.5}, {"schedule", std::string("cosine")}, {"warm", true}};
  EXPECT_EQ(*ConfigInt(c, "steps", 1), 7);
  EXPECT_EQ(*ConfigInt(c, "absent", 3), 3);
  EXPECT_EQ(*ConfigDouble(c, "lr", 0), 0.5);
  EXPECT_EQ(*ConfigDouble(c, "steps", 0), 7.0);  // an int where a double is asked for
  EXPECT_EQ(*ConfigString(c, "schedule", ""), "cosine");
  EXPECT_TRUE(*ConfigBool(c, "warm", false));
  const auto wrong = ConfigInt(c, "lr", 1);
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("'lr' is a double"), std::string::npos);
  EXPECT_FALSE(ConfigBool(c, "schedule", false).ok());
  EXPECT_FALSE(ConfigDouble(c, "warm", 0).ok());
}

TEST(RoundConfigTest, ValidationRefusesWhatBreaksALimit) {
  EXPECT_TRUE(ValidateRoundConfig({{"a.b/c-d_e", 1.0}}).ok());
  EXPECT_FALSE(ValidateRoundConfig({{"x", std::numeric_limits<double>::quiet_NaN()}}).ok());
  EXPECT_FALSE(ValidateRoundConfig({{"x", std::numeric_limits<double>::infinity()}}).ok());
  EXPECT_FALSE(ValidateRoundConfig({{"", int64_t{1}}}).ok());
  EXPECT_FALSE(ValidateRoundConfig({{"bad key", int64_t{1}}}).ok());
  EXPECT_FALSE(ValidateRoundConfig({{std::string(65, 'k'), int64_t{1}}}).ok());
  EXPECT_TRUE(ValidateRoundConfig({{"s", std::string(4096, 'v')}}).ok());
  EXPECT_FALSE(ValidateRoundConfig({{"s", std::string(4097, 'v')}}).ok());
  RoundConfig many;
  for (int i = 0; i < 64; ++i) many["k" + std::to_string(i)] = int64_t{i};
  EXPECT_TRUE(ValidateRoundConfig(many).ok());
  many["k64"] = int64_t{64};
  const Status too_many = ValidateRoundConfig(many);
  EXPECT_NE(too_many.message().find("65 entries"), std::string::npos) << too_many.ToString();
}

TEST(RoundConfigTest, MetricsMustBeFiniteAndBounded) {
  EXPECT_TRUE(ValidateMetrics({{"spam_f1", 0.9}}).ok());
  EXPECT_FALSE(ValidateMetrics({{"f1", std::numeric_limits<double>::infinity()}}).ok());
  EXPECT_FALSE(ValidateMetrics({{"\x1b[31m", 1.0}}).ok());
  MetricMap many;
  for (int i = 0; i < 65; ++i) many["m" + std::to_string(i)] = i;
  EXPECT_FALSE(ValidateMetrics(many).ok());
}

}  // namespace
}  // namespace fedra
