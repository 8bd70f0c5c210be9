// InfluenceBound on its own: the caps come from medians of what was reported, a hostile value
// is cut to the bound (direction kept), and values within the bound are left bit for bit.
#include "fedra/fl/influence_bound.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "testing/fl_fixtures.h"

namespace fedra {
namespace {

using testing::MakeFitResult;
using testing::Values;
using testing::Vec;

// Factors 2 and 2 (not the defaults), so the tests read the same whatever the defaults are.
void Observe(InfluenceBound& b, const FitResult& r) { b.Observe(InfluenceBound::Measure(r)); }

InfluenceBound Calibrated(std::vector<FitResult> reference,
                          InfluenceBoundOptions o = {.weight_factor = 2, .norm_factor = 2}) {
  InfluenceBound b(o);
  b.SetReference(reference);
  return b;
}

TEST(InfluenceBoundTest, CountsAndStepsAreCappedAtAFactorOfTheMedian) {
  // Medians: 20 examples, 5 steps; factor 2.
  auto b = Calibrated(
      {MakeFitResult(0, {1}, 10, 4), MakeFitResult(1, {1}, 20, 5), MakeFitResult(2, {1}, 30, 6)});
  ASSERT_TRUE(b.has_reference());
  EXPECT_EQ(b.max_examples(), 40);
  FitResult liar = MakeFitResult(3, {1}, std::numeric_limits<size_t>::max(),
                                 std::numeric_limits<int64_t>::max());
  const BoundReport r = b.Apply(liar);
  EXPECT_TRUE(r.weight_capped);
  EXPECT_FALSE(r.norm_clipped);
  EXPECT_EQ(liar.num_examples, 40u);
  EXPECT_EQ(liar.local_steps, 10);
  FitResult honest = MakeFitResult(4, {1}, 40, 10);  // exactly at the cap: unchanged
  EXPECT_FALSE(b.Apply(honest).weight_capped);
  EXPECT_EQ(honest.num_examples, 40u);
  EXPECT_EQ(honest.local_steps, 10);
}

TEST(InfluenceBoundTest, TheReferenceTravelsAsNamedNumbers) {
  InfluenceBound none({});
  EXPECT_TRUE(none.ExportReference().empty());
  auto b = Calibrated({MakeFitResult(0, {3, 4}, 10, 4), MakeFitResult(1, {0, 1}, 30, 6),
                       MakeFitResult(2, {0, 2}, 20, 5)});
  const std::map<std::string, double> ref = b.ExportReference();
  EXPECT_EQ(ref.at("examples"), 20);
  EXPECT_EQ(ref.at("steps"), 5);
  EXPECT_EQ(ref.at("norm/update"), 2);
  InfluenceBound restored({.weight_factor = 2, .norm_factor = 2});
  ASSERT_TRUE(restored.ImportReference(ref).ok());
  EXPECT_TRUE(restored.has_reference());
  EXPECT_EQ(restored.max_examples(), b.max_examples());
  EXPECT_EQ(restored.max_norm("update"), b.max_norm("update"));
  FitResult x = MakeFitResult(3, {30, 40}, 1000, 100), y = x;
  b.Apply(x);
  restored.Apply(y);
  EXPECT_EQ(x.num_examples, y.num_examples);
  EXPECT_EQ(x.local_steps, y.local_steps);
  EXPECT_EQ(Values(x.update), Values(y.update));
  // What Export could not have written is refused, naming the entry; nothing changes.
  auto bad = ref;
  bad["norm/update"] = std::numeric_limits<double>::infinity();
  Status s = restored.ImportReference(bad);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("norm/update"), std::string::npos);
  bad = ref;
  bad["surprise"] = 1;
  EXPECT_NE(restored.ImportReference(bad).message().find("surprise"), std::string::npos);
  bad = ref;
  bad.erase("examples");
  EXPECT_FALSE(restored.ImportReference(bad).ok());
  EXPECT_EQ(restored.max_examples(), b.max_examples());
}

TEST(InfluenceBoundTest, EvenCountsUseTheMeanOfTheMiddleTwo) {
  auto b = Calibrated({MakeFitResult(0, {3, 4}, 10), MakeFitResult(1, {0, 1}, 30),
                       MakeFitResult(2, {0, 2}, 1), MakeFitResult(3, {0, 100}, 1000)});
  EXPECT_EQ(b.max_examples(), 2 * 20);
  EXPECT_DOUBLE_EQ(b.max_norm("update"), 2 * 3.5);  // norms 5, 1, 2, 100
}

TEST(InfluenceBoundTest, HugeValuesAreScaledToTheNormBoundKeepingTheirDirection) {
  auto b = Calibrated(
      {MakeFitResult(0, {3, 4}, 10), MakeFitResult(1, {0, 1}, 10), MakeFitResult(2, {0, 2}, 10)});
  ASSERT_DOUBLE_EQ(b.max_norm("update"), 4.0);  // median norm 2, factor 2
  FitResult huge = MakeFitResult(3, {1e30f, -1e30f}, 10);
  EXPECT_TRUE(b.Apply(huge).norm_clipped);
  EXPECT_NEAR(huge.update.L2Norm(), 4.0, 1e-5);
  EXPECT_NEAR(huge.update.data()[0], 4.0 / std::sqrt(2.0), 1e-5);
  EXPECT_NEAR(huge.update.data()[1], -4.0 / std::sqrt(2.0), 1e-5);
  FitResult within = MakeFitResult(4, {0, -3.999f}, 10);
  EXPECT_FALSE(b.Apply(within).norm_clipped);
  EXPECT_EQ(Values(within.update), std::vector<float>({0, -3.999f}));
}

TEST(InfluenceBoundTest, EachExtraVectorHasItsOwnBound) {
  std::vector<FitResult> ref;
  for (ClientId c = 0; c < 3; ++c) {
    ref.push_back(MakeFitResult(c, {1, 0}, 10));
    ref.back().extras["control_delta"] = Vec({0, 100});
  }
  auto b = Calibrated(ref);
  FitResult r = MakeFitResult(3, {1, 0}, 10);
  r.extras["control_delta"] = Vec({0, 150});  // within 2 x 100
  EXPECT_FALSE(b.Apply(r).norm_clipped);
  r.extras["control_delta"] = Vec({0, -1e9f});
  EXPECT_TRUE(b.Apply(r).norm_clipped);
  EXPECT_NEAR(r.extras.at("control_delta").data()[1], -200.0, 1e-3);
  EXPECT_EQ(Values(r.update), std::vector<float>({1, 0}));
}

TEST(InfluenceBoundTest, NonFiniteResultsAreLeftForTheFoldAndNotObserved) {
  InfluenceBound b({.weight_factor = 2});
  Observe(b, MakeFitResult(0, {1, 0}, 10));
  Observe(b, MakeFitResult(1, {NAN, 0}, 1000000));
  Observe(b, MakeFitResult(2, {INFINITY, 0}, 1000000));
  b.EndRound();
  ASSERT_TRUE(b.has_reference());
  EXPECT_EQ(b.max_examples(), 20);  // only client 0 counted
  FitResult nan = MakeFitResult(3, {NAN, 1}, 10);
  EXPECT_FALSE(b.Apply(nan).norm_clipped);
  EXPECT_TRUE(std::isnan(nan.update.data()[0]));  // refused later, by the fold
}

TEST(InfluenceBoundTest, TheReferenceFollowsTheLastRoundWithResults) {
  InfluenceBound b({.weight_factor = 2});
  EXPECT_FALSE(b.has_reference());
  Observe(b, MakeFitResult(0, {1}, 10));
  b.EndRound();
  EXPECT_EQ(b.max_examples(), 20);
  b.EndRound();  // a round without results keeps the reference
  EXPECT_EQ(b.max_examples(), 20);
  Observe(b, MakeFitResult(0, {1}, 50));
  Observe(b, MakeFitResult(1, {1}, 70));
  Observe(b, MakeFitResult(2, {1}, std::numeric_limits<size_t>::max()));  // one liar of three
  b.EndRound();
  EXPECT_EQ(b.max_examples(), 140);
}

TEST(InfluenceBoundTest, TinyReferenceCountsStillAllowOneExample) {
  auto b = Calibrated({MakeFitResult(0, {1}, 1)}, {.weight_factor = 0.1, .norm_factor = 2});
  FitResult r = MakeFitResult(1, {1}, 5);
  b.Apply(r);
  EXPECT_EQ(r.num_examples, 1u);
}

TEST(InfluenceBoundTest, OptionsAreValidated) {
  EXPECT_TRUE(ValidateInfluenceBoundOptions({}).ok());
  EXPECT_FALSE(ValidateInfluenceBoundOptions({.weight_factor = 0}).ok());
  EXPECT_FALSE(ValidateInfluenceBoundOptions({.norm_factor = NAN}).ok());
  EXPECT_FALSE(ValidateInfluenceBoundOptions({.calibration_results = 0}).ok());
  EXPECT_TRUE(ValidateInfluenceBoundOptions({.enabled = false, .weight_factor = -1}).ok());
}

// The documented guarantee, for random honest rounds and an arbitrary attacker (claims
// 2^64 - 1 examples, values of 1e30): its weight is at most weight_factor x the median count
// and its norm at most norm_factor x the median norm, so it moves the honest clients'
// weighted mean by at most share * (max_norm + |honest mean|), share = w_a / (W + w_a).
TEST(InfluenceBoundTest, OneAttackerMovesTheMeanAtMostItsBoundedShare) {
  std::mt19937_64 gen(7);
  std::uniform_real_distribution<float> value(-1, 1);
  for (int trial = 0; trial < 200; ++trial) {
    const size_t honest = 2 + gen() % 9;
    const auto dim = static_cast<int64_t>(1 + gen() % 16);
    std::vector<FitResult> results;
    for (ClientId c = 0; c < honest; ++c) {
      Parameters u;
      u.Add("w", {dim});
      for (float& x : u.span()) x = value(gen);
      results.push_back(MakeFitResult(c, std::move(u), 50 + gen() % 50));
    }
    InfluenceBound b({.weight_factor = 2, .norm_factor = 2});
    b.SetReference(results);
    FitResult attacker = MakeFitResult(99, results[0].update, std::numeric_limits<size_t>::max());
    for (float& x : attacker.update.span()) x = value(gen) * 1e30f;
    b.Apply(attacker);
    ASSERT_LE(attacker.update.L2Norm(), b.max_norm("update") * (1 + 1e-6));
    ASSERT_LE(static_cast<double>(attacker.num_examples), b.max_examples());

    Parameters honest_mean = Parameters::ZerosLike(attacker.update);
    double w_honest = 0;
    for (const FitResult& r : results) {
      honest_mean.Axpy(static_cast<float>(r.num_examples), r.update);
      w_honest += static_cast<double>(r.num_examples);
    }
    Parameters with = honest_mean;
    with.Axpy(static_cast<float>(attacker.num_examples), attacker.update);
    const double w_with = w_honest + static_cast<double>(attacker.num_examples);
    honest_mean.Scale(static_cast<float>(1 / w_honest));
    with.Scale(static_cast<float>(1 / w_with));
    with.SubInPlace(honest_mean);
    const double share = static_cast<double>(attacker.num_examples) / w_with;
    ASSERT_LE(share, b.max_examples() / (b.max_examples() + w_honest) + 1e-12);
    ASSERT_LE(with.L2Norm(), share * (b.max_norm("update") + honest_mean.L2Norm()) * (1 + 1e-5));
  }
}

}  // namespace
}  // namespace fedra
