// The PLD accountant between the exact Gaussian curve (a lower bound) and RDP (an upper
// bound), and noise calibration.
#include <gtest/gtest.h>

#include <cmath>

#include "fedra/privacy/dp/calibration.h"
#include "fedra/privacy/dp/pld_accountant.h"
#include "fedra/privacy/dp/rdp_accountant.h"

namespace fedra::dp {
namespace {

TEST(GaussianCurveTest, MatchesBalleWangAtAHandCheckedPoint) {
  // z = 1, eps = 1: Phi(-0.5) - e Phi(-1.5) = 0.3085375 - 2.7182818 * 0.0668072.
  EXPECT_NEAR(GaussianDelta(1.0, 1.0), 0.3085375 - 2.7182818 * 0.0668072, 1e-6);
  const double eps = *GaussianEpsilon(1.0, 1e-5);
  EXPECT_NEAR(GaussianDelta(1.0, eps), 1e-5, 1e-12);
}

// q = 1: T Gaussian steps with multiplier z are exactly one with z / sqrt(T); the PLD
// must not go below that exact curve and should be close to it.
TEST(PldAccountantTest, IsTightForTheUnsampledGaussian) {
  for (auto [z, steps] : {std::pair{1.0, int64_t{1}}, {2.0, 1}, {5.0, 16}, {10.0, 100}}) {
    const double exact = *GaussianEpsilon(z / std::sqrt(double(steps)), 1e-5);
    const double pld =
        *PldEpsilon({.noise_multiplier = z, .sampling_rate = 1.0, .steps = steps}, 1e-5);
    EXPECT_GE(pld, exact * (1 - 1e-9)) << z << " " << steps;
    EXPECT_NEAR(pld, exact, 2e-3 * exact) << z << " " << steps;
  }
}

TEST(PldAccountantTest, IsTighterThanRdpForSampledGaussians) {
  for (auto [z, q, steps] :
       {std::tuple{1.0, 0.1, int64_t{100}}, {0.8, 0.05, 300}, {2.0, 0.01, 1000}, {1.5, 0.3, 50}}) {
    const SampledGaussian s{.noise_multiplier = z, .sampling_rate = q, .steps = steps};
    const double rdp = *RdpEpsilon(s, 1e-5);
    const double pld = *PldEpsilon(s, 1e-5);
    EXPECT_LT(pld, rdp) << z << " " << q << " " << steps;
    // Composition only adds loss: the whole run costs more than its first step.
    const double one = *PldEpsilon({.noise_multiplier = z, .sampling_rate = q, .steps = 1}, 1e-5);
    EXPECT_GT(pld, one);
  }
}

TEST(PldAccountantTest, DeltaAndEpsilonAreInverse) {
  const SampledGaussian s{.noise_multiplier = 1.0, .sampling_rate = 0.1, .steps = 100};
  const double eps = *PldEpsilon(s, 1e-5);
  EXPECT_NEAR(*PldDelta(s, eps), 1e-5, 1e-8);
  EXPECT_GT(*PldDelta(s, eps * 0.9), 1e-5);
}

TEST(PldAccountantTest, RejectsBadParameters) {
  EXPECT_FALSE(PldEpsilon({.noise_multiplier = -1}, 1e-5).ok());
  EXPECT_FALSE(PldEpsilon({.sampling_rate = 0}, 1e-5).ok());
  EXPECT_FALSE(PldEpsilon({}, 2.0).ok());
  EXPECT_FALSE(PldDelta({}, -1.0).ok());
  EXPECT_FALSE(PldEpsilon({}, 1e-5, {.discretization = 0}).ok());
}

TEST(CalibrationTest, FindsTheSmallestNoiseMeetingTheTarget) {
  for (AccountantKind kind : {AccountantKind::kRdp, AccountantKind::kPld}) {
    for (double target : {1.0, 4.0}) {
      const double z = *CalibrateNoiseMultiplier(kind, target, 1e-5, 0.1, 200);
      SampledGaussian s{.noise_multiplier = z, .sampling_rate = 0.1, .steps = 200};
      EXPECT_LE(*ComputeEpsilon(kind, s, 1e-5), target);
      s.noise_multiplier = z * (1 - 1e-3);
      EXPECT_GT(*ComputeEpsilon(kind, s, 1e-5), target);
    }
  }
  // PLD is tighter, so it needs less noise for the same target.
  EXPECT_LT(*CalibrateNoiseMultiplier(AccountantKind::kPld, 2.0, 1e-5, 0.1, 200),
            *CalibrateNoiseMultiplier(AccountantKind::kRdp, 2.0, 1e-5, 0.1, 200));
}

TEST(CalibrationTest, RejectsBadTargets) {
  EXPECT_FALSE(CalibrateNoiseMultiplier(AccountantKind::kRdp, 0.0, 1e-5, 0.1, 10).ok());
  EXPECT_FALSE(CalibrateNoiseMultiplier(AccountantKind::kRdp, 1.0, 1e-5, 1.2, 10).ok());
  EXPECT_FALSE(CalibrateNoiseMultiplier(AccountantKind::kRdp, 1.0, 1e-5, 0.1, 0).ok());
  EXPECT_FALSE(CalibrateNoiseMultiplier(AccountantKind::kRdp, 1.0, 0.0, 0.1, 10).ok());
  EXPECT_EQ(ParseAccountantKind("moments").status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace fedra::dp
