#include "fedra/fl/fold_spec.h"

#include <gtest/gtest.h>

#include "fedra/fl/local_update.h"
#include "fedra/fl/strategy.h"
#include "fedra/fl/strategy_config.h"
#include "testing/fl_fixtures.h"

namespace fedra {
namespace {

using testing::Vec;

TEST(FoldSpecTest, AppliesEveryWeightKind) {
  const FoldSpec spec{
      .vectors = {{"a", "update", FoldWeight::kOne},
                  {"b", "update", FoldWeight::kExamples},
                  {"c", "delta", FoldWeight::kExamplesPerEffectiveStep}},
      .scalars = {{"n", FoldWeight::kExamples}, {"t", FoldWeight::kExamplesTimesEffectiveStep}},
      .momentum = 0.5};
  ASSERT_TRUE(spec.Validate().ok());
  FitResult r{.update = Vec({1, 2}), .num_examples = 4, .local_steps = 3};
  r.extras["delta"] = Vec({-1, 8});
  UpdateAccumulator acc;
  ASSERT_TRUE(spec.Apply(r, acc).ok());
  const double a = EffectiveLocalSteps(3, 0.5);  // 4.25
  EXPECT_FLOAT_EQ(acc.sum("a").data()[1], 2.0f);
  EXPECT_FLOAT_EQ(acc.sum("b").data()[1], 8.0f);
  EXPECT_FLOAT_EQ(acc.sum("c").data()[1], static_cast<float>(8 * 4 / a));
  EXPECT_DOUBLE_EQ(acc.scalar("n"), 4.0);
  EXPECT_DOUBLE_EQ(acc.scalar("t"), 4 * a);
}

TEST(FoldSpecTest, RefusesWhatItCannotFoldAndAddsNothing) {
  const FoldSpec spec{
      .vectors = {{"u", "update", FoldWeight::kOne}, {"c", "delta", FoldWeight::kOne}},
      .scalars = {{"n", FoldWeight::kOne}}};
  UpdateAccumulator acc;
  FitResult r{.update = Vec({1, 2}), .num_examples = 1, .local_steps = 1};
  EXPECT_FALSE(spec.Apply(r, acc).ok());  // no extra "delta"
  r.extras["delta"] = Vec({1, 2, 3});
  EXPECT_FALSE(spec.Apply(r, acc).ok());  // another layout
  EXPECT_TRUE(acc.sums().empty() && acc.scalars().empty());
  const FoldSpec steps{.vectors = {{"u", "update", FoldWeight::kExamplesPerEffectiveStep}}};
  r.local_steps = 0;
  EXPECT_FALSE(steps.Apply(r, acc).ok());
}

TEST(FoldSpecTest, ValidationRefusesDuplicatesBadNamesAndMomentum) {
  EXPECT_FALSE((FoldSpec{}).Validate().ok());  // no vector
  EXPECT_FALSE((FoldSpec{.vectors = {{"u"}, {"u"}}}).Validate().ok());
  EXPECT_FALSE((FoldSpec{.vectors = {{"u"}}, .scalars = {{"w"}, {"w"}}}).Validate().ok());
  EXPECT_FALSE((FoldSpec{.vectors = {{"bad name"}}}).Validate().ok());
  EXPECT_FALSE((FoldSpec{.vectors = {{"u", ""}}}).Validate().ok());
  EXPECT_FALSE((FoldSpec{.vectors = {{"u"}}, .momentum = 1.0}).Validate().ok());
}

// Every built-in sum-based strategy's spec says exactly what its Fold() does.
TEST(FoldSpecTest, BuiltInStrategiesSpecsMatchTheirFolds) {
  for (const char* name : {"fedavg", "fedprox", "fedavgm", "fedadam", "fedyogi", "fedadagrad",
                           "fednova", "scaffold"}) {
    StrategyConfig sc;
    sc.name = name;
    sc.base.fit.momentum = 0.9f;
    auto strategy = NewStrategy(sc);
    ASSERT_TRUE(strategy.ok()) << name;
    auto spec = CheckedFoldSpec(**strategy);
    EXPECT_TRUE(spec.ok()) << name << ": " << spec.status().ToString();
  }
  StrategyConfig dp;
  dp.name = "fedavg";
  dp.dp = {.mode = DpMode::kDistributed, .clip_norm = 1.0, .noise_multiplier = 1.0};
  auto strategy = NewStrategy(dp);
  ASSERT_TRUE(strategy.ok()) << strategy.status().ToString();
  auto spec = CheckedFoldSpec(**strategy);
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->vectors.front().weight, FoldWeight::kOne);  // DP: every update once
}

// A strategy that overrides Fold but not fold_spec cannot reach clients with the wrong fold.
class SquaredWeights final : public Strategy {
 public:
  std::string Name() const override { return "squared"; }
  AggregationMode mode() const override { return AggregationMode::kWeightedSum; }
  StatusOr<RoundPlan> ConfigureFit(int, const Parameters&, std::span<const ClientId>,
                                   Rng&) override {
    return RoundPlan{};
  }
  void Fold(const FitResult& r, UpdateAccumulator& acc) const override {
    const auto n = static_cast<float>(r.num_examples);
    acc.Add("update", n * n, r.update);
    acc.AddScalar("weight", n * n);
  }
  StatusOr<Parameters> AggregateFit(int, const Parameters& g, const AggregateInput&) override {
    return g;
  }
  StatusOr<std::vector<EvaluateTask>> ConfigureEvaluate(int, const Parameters&,
                                                        std::span<const ClientId>, Rng&) override {
    return std::vector<EvaluateTask>{};
  }
};

TEST(FoldSpecTest, AFoldThatDiffersFromItsSpecIsRefusedByName) {
  SquaredWeights s;
  auto spec = CheckedFoldSpec(s);
  ASSERT_FALSE(spec.ok());
  EXPECT_NE(spec.status().message().find("strategy squared: its Fold() and fold_spec() differ"),
            std::string::npos)
      << spec.status().ToString();
}

}  // namespace
}  // namespace fedra
