// The RDP accountant against hand-checkable cases, a published value and reference values
// computed with scipy from the dp_accounting formulas (see docs/privacy-dp.md).
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

// Reference values: the dp_accounting formulas (default orders, improved conversion)
// evaluated in double precision with scipy; agreement to 1e-6 relative.
TEST(RdpAccountantTest, AgreesWithDpAccountingFormulas) {
  struct Case {
    double z, q;
    int64_t steps;
    double eps_default, eps_tf_orders;
  };
  const Case cases[] = {
      {1.12, 256.0 / 60000, 14063, 2.5215588618063265, 2.518686479108717},
      {1.0, 0.01, 1000, 2.107753075451565, 2.1013652716430564},
      {0.8, 0.1, 100, 13.828010209476966, 12.358541266986},
      {2.0, 0.1, 500, 6.089503111076532, 6.034322441891099},
      {1.1, 0.05, 2000, 15.270306988461574, 14.869737966714924},
      {4.0, 1.0, 10, 3.6278518728252274, 3.617099772983339},
  };
  const auto tf = TfPrivacyRdpOrders();
  for (const Case& c : cases) {
    const SampledGaussian s{.noise_multiplier = c.z, .sampling_rate = c.q, .steps = c.steps};
    EXPECT_NEAR(*RdpEpsilon(s, 1e-5), c.eps_default, 1e-6 * c.eps_default) << c.z << " " << c.q;
    EXPECT_NEAR(*RdpEpsilon(s, 1e-5, RdpConversion::kImproved, tf), c.eps_tf_orders,
                1e-6 * c.eps_tf_orders)
        << c.z << " " << c.q;
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
