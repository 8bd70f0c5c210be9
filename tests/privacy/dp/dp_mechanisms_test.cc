// Clipping, the CSPRNG Gaussian noise and adaptive clipping.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "fedra/core/rng.h"
#include "fedra/privacy/dp/adaptive_clip.h"
#include "fedra/privacy/dp/clipping.h"
#include "fedra/privacy/dp/gaussian_noise.h"

namespace fedra::dp {
namespace {

double Norm(const std::vector<float>& x) {
  double s = 0;
  for (float v : x) s += static_cast<double>(v) * v;
  return std::sqrt(s);
}

TEST(ClippingTest, ScalesLongVectorsToTheClipNormAndReportsTheNormBefore) {
  std::vector<float> x = {3, 4};  // norm 5
  EXPECT_DOUBLE_EQ(ClipL2(x, 1.0), 5.0);
  EXPECT_NEAR(Norm(x), 1.0, 1e-6);
  EXPECT_NEAR(x[0] / x[1], 0.75, 1e-6);  // direction kept
}

TEST(ClippingTest, LeavesShortAndZeroVectorsUnchanged) {
  std::vector<float> x = {0.3f, 0.4f};
  EXPECT_NEAR(ClipL2(x, 1.0), 0.5, 1e-7);
  EXPECT_EQ(x, (std::vector<float>{0.3f, 0.4f}));
  std::vector<float> zero(5, 0.0f);
  EXPECT_EQ(ClipL2(zero, 1.0), 0.0);
  EXPECT_EQ(zero, std::vector<float>(5, 0.0f));
}

TEST(ClippingTest, ClippedNormNeverExceedsTheBoundOnRandomVectors) {
  Rng rng(3);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<float> x(1 + rng.UniformInt(50));
    for (float& v : x) v = static_cast<float>(rng.Normal(0, 10));
    const double c = 0.01 + rng.Uniform() * 5;
    const double before = Norm(x);
    EXPECT_NEAR(ClipL2(x, c), before, 1e-9 * before + 1e-12);
    EXPECT_LE(Norm(x), c * (1 + 1e-6));
    if (before <= c) {
      EXPECT_NEAR(Norm(x), before, 1e-6 * before);
    }
  }
}

TEST(GaussianNoiseTest, SeededGeneratorsRepeatAndStreamsDiffer) {
  auto a = *GaussianNoise::FromSeed(7, 0), b = *GaussianNoise::FromSeed(7, 0);
  auto c = *GaussianNoise::FromSeed(7, 1);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    const double x = a.Normal();
    EXPECT_EQ(x, b.Normal());
    differs |= x != c.Normal();
  }
  EXPECT_TRUE(differs);
}

TEST(GaussianNoiseTest, OsEntropyGeneratorsDiffer) {
  auto a = *GaussianNoise::FromOsEntropy(), b = *GaussianNoise::FromOsEntropy();
  EXPECT_NE(a.Normal(), b.Normal());
}

// Moments and tails of 10^6 samples: bounds are > 5 standard errors wide.
TEST(GaussianNoiseTest, SamplesHaveStandardNormalMomentsAndTails) {
  auto g = *GaussianNoise::FromSeed(42);
  const int n = 1'000'000;
  double sum = 0, sq = 0, fourth = 0;
  int beyond2 = 0, beyond3 = 0;
  for (int i = 0; i < n; ++i) {
    const double x = g.Normal();
    sum += x;
    sq += x * x;
    fourth += x * x * x * x;
    beyond2 += std::abs(x) > 2;
    beyond3 += std::abs(x) > 3;
  }
  EXPECT_NEAR(sum / n, 0.0, 0.005);
  EXPECT_NEAR(sq / n, 1.0, 0.008);
  EXPECT_NEAR(fourth / n, 3.0, 0.05);
  EXPECT_NEAR(beyond2 / double(n), 0.0455003, 0.0011);   // 2 * Phi(-2)
  EXPECT_NEAR(beyond3 / double(n), 0.0026998, 0.00026);  // 2 * Phi(-3)
}

TEST(GaussianNoiseTest, AddToAddsNoiseOfTheRequestedStddev) {
  auto g = *GaussianNoise::FromSeed(5);
  std::vector<float> x(200'000, 1.0f);
  g.AddTo(x, 0.5);
  double sum = 0, sq = 0;
  for (float v : x) {
    sum += v - 1.0;
    sq += (v - 1.0) * (v - 1.0);
  }
  EXPECT_NEAR(sum / x.size(), 0.0, 0.006);
  EXPECT_NEAR(std::sqrt(sq / x.size()), 0.5, 0.005);
  std::vector<float> y(10, 2.0f);
  g.AddTo(y, 0.0);
  EXPECT_EQ(y, std::vector<float>(10, 2.0f));
}

TEST(AdaptiveClipTest, RejectsBadOptions) {
  EXPECT_FALSE(AdaptiveClip::Create({.initial_clip_norm = 0}).ok());
  EXPECT_FALSE(AdaptiveClip::Create({.target_quantile = 1.0}).ok());
  EXPECT_FALSE(AdaptiveClip::Create({.target_quantile = 0.0}).ok());
  EXPECT_FALSE(AdaptiveClip::Create({.learning_rate = -0.1}).ok());
  auto s = AdaptiveClip::Create({.target_quantile = 1.5});
  EXPECT_NE(s.status().message().find("target quantile must be in (0, 1)"), std::string::npos);
}

TEST(AdaptiveClipTest, ShrinksWhenMostNormsAreBelowAndGrowsOtherwise) {
  auto c = *AdaptiveClip::Create({.initial_clip_norm = 1.0, .target_quantile = 0.5});
  c.Update(/*noisy_count=*/90, /*expected_clients=*/100);  // 90% below: C too large
  EXPECT_LT(c.clip_norm(), 1.0);
  EXPECT_NEAR(c.clip_norm(), std::exp(-0.2 * 0.4), 1e-12);
  const double before = c.clip_norm();
  c.Update(10, 100);  // 10% below: C too small
  EXPECT_GT(c.clip_norm(), before);
}

// Synthetic unclipped norms, log-normal with median e^0 = 1 (so the gamma-quantile is
// exp(Phi^-1(gamma) * 0.5)); 100 clients a round, count noise sigma_b = 100 / 20.
TEST(AdaptiveClipTest, ConvergesToTheTargetQuantileOfUnclippedNorms) {
  for (double gamma : {0.5, 0.8}) {
    const double quantile = gamma == 0.5 ? 1.0 : std::exp(0.8416212 * 0.5);
    auto clip = *AdaptiveClip::Create(
        {.initial_clip_norm = 0.05, .target_quantile = gamma, .learning_rate = 0.2});
    Rng rng(11);
    auto noise = *GaussianNoise::FromSeed(12);
    std::vector<double> late;
    for (int round = 0; round < 400; ++round) {
      double below = 0;
      for (int i = 0; i < 100; ++i) below += std::exp(0.5 * rng.Normal()) <= clip.clip_norm();
      clip.Update(below + 5.0 * noise.Normal(), 100);
      if (round >= 300) late.push_back(clip.clip_norm());
    }
    std::sort(late.begin(), late.end());
    const double median = late[late.size() / 2];
    EXPECT_NEAR(median, quantile, 0.1 * quantile) << "gamma " << gamma;
  }
}

TEST(AdaptiveClipTest, UpdateNoiseIsRaisedToPayForTheCount) {
  // z = 1, sigma_b = 5: z_update = (1 - 1/100)^-1/2.
  EXPECT_NEAR(*AdaptiveUpdateNoiseMultiplier(1.0, 5.0), 1 / std::sqrt(0.99), 1e-12);
  EXPECT_GT(*AdaptiveUpdateNoiseMultiplier(1.0, 5.0), 1.0);
  EXPECT_FALSE(AdaptiveUpdateNoiseMultiplier(2.0, 1.0).ok());  // 2 sigma_b must exceed z
  EXPECT_FALSE(AdaptiveUpdateNoiseMultiplier(-1.0, 5.0).ok());
}

}  // namespace
}  // namespace fedra::dp
