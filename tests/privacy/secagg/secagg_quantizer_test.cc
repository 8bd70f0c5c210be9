#include "fedra/privacy/secagg/quantizer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

namespace fedra::secagg {
namespace {

TEST(QuantizerTest, RejectsSettingsThatCouldWrap) {
  EXPECT_TRUE(Quantizer::Create({1.0, 1000, 4'000'000}).ok());  // 1000 * 3,999,999 < 2^32
  auto r = Quantizer::Create({1.0, 1000, 5'000'000});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("wrap"), std::string::npos);
  EXPECT_FALSE(Quantizer::Create({0.0, 10, 0}).ok());
  EXPECT_FALSE(Quantizer::Create({std::nan(""), 10, 0}).ok());
  EXPECT_FALSE(Quantizer::Create({1.0, 0, 0}).ok());
  auto max = Quantizer::Create({1.0, 500, 0});
  ASSERT_TRUE(max.ok());
  EXPECT_LE(uint64_t{500} * (max->levels() - 1), 0xffffffffu);
}

TEST(QuantizerTest, SumOfQuantizedIsWithinBoundAndUnbiased) {
  const uint32_t n = 200;
  auto q = Quantizer::Create({2.0, n, 1001});  // coarse grid so rounding error is visible
  ASSERT_TRUE(q.ok());
  Prg prg(Key256{4});
  const size_t m = 64;
  std::vector<uint32_t> sum(m, 0), one(m);
  std::vector<double> truth(m, 0.0);
  for (uint32_t c = 0; c < n; ++c) {
    std::vector<float> x(m);
    for (size_t i = 0; i < m; ++i)
      x[i] = static_cast<float>(std::sin(0.37 * (c + 1) * (i + 1)) * 1.9);
    ASSERT_TRUE(q->Quantize(x, prg, one).ok());
    for (size_t i = 0; i < m; ++i) {
      sum[i] += one[i];
      truth[i] += x[i];
    }
  }
  std::vector<float> got(m);
  ASSERT_TRUE(q->Dequantize(sum, n, got).ok());
  double mean_error = 0;
  for (size_t i = 0; i < m; ++i) {
    EXPECT_LE(std::abs(got[i] - truth[i]), q->SumErrorBound(n) + 1e-3);
    // Stochastic rounding: error std <= sqrt(n) * step / 2; 6 sigma.
    EXPECT_LE(std::abs(got[i] - truth[i]), 6 * std::sqrt(n) * q->step() / 2 + 1e-4);
    mean_error += (got[i] - truth[i]) / m;
  }
  EXPECT_LE(std::abs(mean_error), 6 * std::sqrt(n) * q->step() / 2 / std::sqrt(m));
}

TEST(QuantizerTest, ClipsOutOfRangeAndRejectsNonFinite) {
  auto q = Quantizer::Create({1.0, 1, 0});
  ASSERT_TRUE(q.ok());
  Prg prg(Key256{});
  std::vector<float> x = {5.0f, -5.0f, 0.0f};
  std::vector<uint32_t> out(3);
  ASSERT_TRUE(q->Quantize(x, prg, out).ok());
  EXPECT_EQ(out[0], q->levels() - 1);
  EXPECT_EQ(out[1], 0u);
  std::vector<float> back(3);
  ASSERT_TRUE(q->Dequantize(out, 1, back).ok());
  EXPECT_FLOAT_EQ(back[0], 1.0f);
  EXPECT_FLOAT_EQ(back[1], -1.0f);
  EXPECT_NEAR(back[2], 0.0f, q->step());
  x[2] = std::numeric_limits<float>::infinity();
  EXPECT_EQ(q->Quantize(x, prg, out).code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(q->Dequantize(out, 2, back).ok());  // more clients than configured
}

// A participant may mask any word, not only a grid value: a sum above what `count` grid
// values can reach is refused instead of dequantized (the largest reachable sum is accepted).
TEST(QuantizerTest, ASumNoHonestInputsCanReachIsRefused) {
  auto q = Quantizer::Create({.clip = 1.0, .num_clients = 4, .levels = 1001});
  ASSERT_TRUE(q.ok());
  std::vector<float> out(2);
  const std::vector<uint32_t> top = {3 * 1000, 0};
  ASSERT_TRUE(q->Dequantize(top, 3, out).ok());
  EXPECT_FLOAT_EQ(out[0], 3.0f);
  EXPECT_FLOAT_EQ(out[1], -3.0f);
  const std::vector<uint32_t> beyond = {0, 3 * 1000 + 1};
  Status s = q->Dequantize(beyond, 3, out);
  EXPECT_EQ(s.code(), StatusCode::kOutOfRange);
  EXPECT_NE(s.message().find("coordinate 1"), std::string::npos) << s.ToString();
  const std::vector<uint32_t> wrapped = {0xffffffffu, 0};  // an input of -1 mod 2^32
  EXPECT_EQ(q->Dequantize(wrapped, 3, out).code(), StatusCode::kOutOfRange);
}

}  // namespace
}  // namespace fedra::secagg
