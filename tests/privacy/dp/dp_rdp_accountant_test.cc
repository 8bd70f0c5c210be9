// The RDP accountant against hand-checkable cases, a published value and reference values
// from numerical integration (tests/privacy/dp/rdp_reference.py; see docs/privacy-dp.md).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "fedra/privacy/dp/rdp_accountant.h"

namespace fedra::dp {
namespace {

TEST(RdpAccountantTest, WithoutSamplingIsTheGaussianRdp) {
  const std::vector<double> orders = {1.5, 2, 3.25, 10, 64};
  for (double z : {0.5, 1.0, 3.0}) {
    auto rdp = *SampledGaussianRdp(1.0, z, orders);
    for (size_t i = 0; i < orders.size(); ++i) EXPECT_DOUBLE_EQ(rdp[i], orders[i] / (2 * z * z));
  }
}

TEST(RdpAccountantTest, SmallSamplingRateMatchesTheLeadingTermOfTheSeries) {
  // For small q, integer alpha: RDP ~ q^2 C(alpha, 2) (e^{1/z^2} - 1) / (alpha - 1).
  const double q = 1e-4, z = 2.0;
  auto rdp = *SampledGaussianRdp(q, z, std::vector<double>{2, 3});
  EXPECT_NEAR(rdp[0], q * q * std::expm1(1 / (z * z)), 1e-3 * rdp[0]);
  EXPECT_NEAR(rdp[1], q * q * 3 * std::expm1(1 / (z * z)) / 2, 2e-3 * rdp[1]);
}

TEST(RdpAccountantTest, FractionalOrdersLieBetweenTheirIntegerNeighbours) {
  // RDP of a fixed mechanism is non-decreasing in the order.
  auto rdp = *SampledGaussianRdp(0.05, 1.1, std::vector<double>{2, 2.5, 3, 3.7, 4});
  for (size_t i = 1; i < rdp.size(); ++i) EXPECT_GT(rdp[i], rdp[i - 1]);
}

TEST(RdpAccountantTest, ComposesByAddition) {
  RdpAccountant acc;
  ASSERT_TRUE(acc.Compose(0.01, 1.0, 30).ok());
  ASSERT_TRUE(acc.Compose(0.01, 1.0, 70).ok());
  auto one = *SampledGaussianRdp(0.01, 1.0, DefaultRdpOrders());
  for (size_t i = 0; i < one.size(); ++i)
    EXPECT_NEAR(acc.rdp()[i], 100 * one[i], 1e-12 * acc.rdp()[i]);
  EXPECT_DOUBLE_EQ(
      *acc.Epsilon(1e-5),
      *RdpEpsilon({.noise_multiplier = 1.0, .sampling_rate = 0.01, .steps = 100}, 1e-5));
}

// TF Privacy MNIST tutorial: z = 1.12, q = 256/60000, 60 epochs = 14063 steps, delta = 1e-5
// -> epsilon 2.92 with the classic conversion over orders 1.1..10.9, 12..63.
TEST(RdpAccountantTest, ReproducesTheTfPrivacyMnistTutorialValue) {
  const SampledGaussian s{.noise_multiplier = 1.12, .sampling_rate = 256.0 / 60000, .steps = 14063};
  const auto orders = TfPrivacyRdpOrders();
  ASSERT_EQ(orders.size(), 99u + 52u);
  const double classic = *RdpEpsilon(s, 1e-5, RdpConversion::kClassic, orders);
  EXPECT_NEAR(classic, 2.92, 0.005);
  // The improved conversion is tighter.
  EXPECT_LT(*RdpEpsilon(s, 1e-5, RdpConversion::kImproved, orders), classic);
}

TEST(RdpAccountantTest, DefaultOrdersAreDpAccountings) {
  const auto& o = DefaultRdpOrders();
  ASSERT_EQ(o.size(), 99u + 53u + 4u);
  EXPECT_DOUBLE_EQ(o.front(), 1.1);
  EXPECT_DOUBLE_EQ(o[98], 10.9);
  EXPECT_EQ(o[99], 11.0);
  EXPECT_EQ(o[151], 63.0);
  EXPECT_EQ(o[152], 128.0);
  EXPECT_EQ(o.back(), 1024.0);
  EXPECT_EQ(LegacyRdpOrders().size(), 22u);
}

// RDP of one step, against A_alpha integrated numerically in 30-digit arithmetic
// (tests/privacy/dp/rdp_reference.py, mpmath; not fedra's series): integer and fractional
// orders, small and large q, z and alpha.
TEST(RdpAccountantTest, OneStepMatchesNumericalIntegrationAtIntegerAndFractionalOrders) {
  struct Case {
    double q, z, alpha, rdp;
  };
  const Case cases[] = {
      {0.01, 1.0, 1.5, 0.00012725374332744984}, {0.01, 1.0, 2, 0.00017181342207454794},
      {0.05, 1.1, 3.7, 0.0069195387668247903},  {0.1, 0.8, 11, 6.0609080187537559},
      {0.5, 2.0, 1.1, 0.035627629850551773},    {0.001, 0.5, 32, 56.869413905566826},
      {0.01, 0.5, 2.3, 0.0092536744449426045},  {0.2, 3.0, 128, 5.4890034590452905},
  };
  for (const Case& c : cases) {
    const auto rdp = *SampledGaussianRdp(c.q, c.z, std::vector<double>{c.alpha});
    // The fractional series stops at terms below e^-30 (as dp_accounting): ~1e-13 absolute.
    EXPECT_NEAR(rdp[0], c.rdp, 1e-9 * c.rdp + 1e-12)
        << "q " << c.q << " z " << c.z << " a " << c.alpha;
  }
}

// Epsilon at delta 1e-5 with the default orders and the improved conversion, against the
// same formulas over numerically integrated RDP (rdp_reference.py). The first case is the
// one where fedra's former sparse orders said 10.66 instead of dp_accounting's 8.03.
TEST(RdpAccountantTest, AgreesWithDpAccountingOnItsDefaultOrders) {
  struct Case {
    double z, q;
    int64_t steps;
    double epsilon;
  };
  const Case cases[] = {
      {0.5, 0.01, 100, 8.0307253528034314},  {1.12, 256.0 / 60000, 14063, 2.518686479093477},
      {1.0, 0.01, 1000, 2.1013652716483952}, {0.8, 0.1, 100, 12.35854126697869},
      {2.0, 0.1, 500, 6.0343224418829397},   {1.1, 0.05, 2000, 14.86973796660962},
      {4.0, 1.0, 10, 3.6170997729833395},    {0.7, 0.001, 10000, 2.0246729037364419},
  };
  for (const Case& c : cases) {
    const SampledGaussian s{.noise_multiplier = c.z, .sampling_rate = c.q, .steps = c.steps};
    EXPECT_NEAR(*RdpEpsilon(s, 1e-5), c.epsilon, 1e-9 * c.epsilon) << c.z << " " << c.q;
  }
}

TEST(RdpAccountantTest, EpsilonGrowsWithStepsAndSamplingRateAndShrinksWithNoise) {
  auto eps = [](double z, double q, int64_t t) {
    return *RdpEpsilon({.noise_multiplier = z, .sampling_rate = q, .steps = t}, 1e-5);
  };
  double prev = 0;
  for (int64_t t : {1, 10, 100, 1000, 10000}) {
    EXPECT_GT(eps(1.0, 0.01, t), prev);
    prev = eps(1.0, 0.01, t);
  }
  prev = 0;
  for (double q : {0.001, 0.01, 0.1, 0.5, 1.0}) {
    EXPECT_GT(eps(1.0, q, 100), prev);
    prev = eps(1.0, q, 100);
  }
  prev = 1e300;
  for (double z : {0.6, 0.8, 1.0, 2.0, 5.0}) {
    EXPECT_LT(eps(z, 0.05, 100), prev);
    prev = eps(z, 0.05, 100);
  }
  EXPECT_EQ(eps(1.0, 0.01, 0), 0.0);  // no step, no loss
}

TEST(RdpAccountantTest, RejectsBadParametersWithClearMessages) {
  auto msg = [](const Status& s) { return s.message(); };
  EXPECT_NE(msg(RdpEpsilon({.noise_multiplier = -1}, 1e-5).status()).find("noise multiplier"),
            std::string::npos);
  EXPECT_NE(msg(RdpEpsilon({.sampling_rate = 0}, 1e-5).status()).find("q must be in (0, 1]"),
            std::string::npos);
  EXPECT_NE(msg(RdpEpsilon({.sampling_rate = 1.5}, 1e-5).status()).find("(0, 1]"),
            std::string::npos);
  EXPECT_NE(msg(RdpEpsilon({}, 0.0).status()).find("delta must be in (0, 1)"), std::string::npos);
  EXPECT_FALSE(RdpEpsilon({}, 1.0).ok());
  EXPECT_FALSE(RdpEpsilon({.steps = -3}, 1e-5).ok());
  EXPECT_FALSE(RdpEpsilon({.noise_multiplier = NAN}, 1e-5).ok());
  EXPECT_FALSE(SampledGaussianRdp(0.1, 1.0, std::vector<double>{1.0}).ok());  // order 1
  RdpAccountant acc;
  EXPECT_FALSE(acc.SetRdp({1.0}).ok());  // wrong size
  EXPECT_FALSE(acc.Compose(0.1, 0.0).ok());
  EXPECT_EQ(acc.rdp()[0], 0.0);  // a failed Compose adds nothing
}

}  // namespace
}  // namespace fedra::dp
