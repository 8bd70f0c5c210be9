#include "fedra/fl/fed_nova.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <initializer_list>
#include <memory>
#include <numeric>
#include <vector>

#include "testing/fl_fixtures.h"

namespace fedra {
namespace {

using testing::Aggregate;
using testing::AggregateValues;
using ::testing::ElementsAre;
using ::testing::FloatNear;
using ::testing::HasSubstr;
using testing::MakeFitResult;
using testing::Vec;

std::unique_ptr<Strategy> MakeFedNova(float local_momentum) {
  FedAvgOptions o;
  o.fit.momentum = local_momentum;
  auto s = NewFedNova(o);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return std::move(s).value();
}

TEST(FedNovaTest, NameModeAndSampling) {
  FedAvgOptions o;
  o.fit.epochs = 3;
  auto s = NewFedNova(o);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->Name(), "fednova");
  EXPECT_EQ((*s)->mode(), AggregationMode::kWeightedSum);
  std::vector<ClientId> available(4);
  std::iota(available.begin(), available.end(), ClientId{1});
  Rng rng(2);
  auto plan = (*s)->ConfigureFit(1, Vec({0}), available, rng);
  ASSERT_TRUE(plan.ok());
  ASSERT_EQ(plan->tasks.size(), 4u);
  EXPECT_EQ(plan->tasks[0].config.epochs, 3);
}

TEST(FedNovaTest, EqualStepsReduceToFedAvg) {
  // tau = 5 for both: a_i = a for all i, so x += a * sum p_i delta_i / a = FedAvg's step:
  // (1*4 + 3*8)/4 = 7; [1] -> [8]. With momentum the common a_i still cancels.
  const std::vector<FitResult> results = {MakeFitResult(1, {4}, 1, 5), MakeFitResult(2, {8}, 3, 5)};
  for (float rho : {0.0f, 0.5f}) {
    auto s = MakeFedNova(rho);
    EXPECT_THAT(AggregateValues(*s, Vec({1}), results), ElementsAre(FloatNear(8, 1e-5))) << rho;
  }
}

TEST(FedNovaTest, DifferentStepsAreNormalised) {
  auto s = MakeFedNova(0.0f);
  // No momentum: a_i = tau_i = {2, 4}; p = {1/4, 3/4}; d_i = delta_i / a_i = {4/2, 4/4} = {2, 1};
  // tau_eff = 0.25*2 + 0.75*4 = 3.5; x += 3.5 * (0.25*2 + 0.75*1) = 3.5 * 1.25 = 4.375.
  // (FedAvg would step by 4.)
  EXPECT_THAT(
      AggregateValues(*s, Vec({0}), {MakeFitResult(1, {4}, 1, 2), MakeFitResult(2, {4}, 3, 4)}),
      ElementsAre(FloatNear(4.375f, 1e-5)));
}

TEST(FedNovaTest, MomentumNormalisingFactorByHand) {
  auto s = MakeFedNova(0.5f);
  // rho = 0.5, tau = 3: a = (3 - 0.5*(1 - 0.125)/0.5)/0.5 = (3 - 0.875)/0.5 = 4.25
  //   (= sum over k = 1..3 of (1 - 0.5^k)/0.5 = 1 + 1.5 + 1.75).
  // rho = 0.5, tau = 1: a = (1 - 0.5*0.5/0.5)/0.5 = 1.
  // Deltas 8.5 and 2 give d = {8.5/4.25, 2/1} = {2, 2}; p = {1/2, 1/2};
  // tau_eff = (4.25 + 1)/2 = 2.625; x += 2.625 * 2 = 5.25.
  EXPECT_THAT(
      AggregateValues(*s, Vec({0}), {MakeFitResult(1, {8.5f}, 1, 3), MakeFitResult(2, {2}, 1, 1)}),
      ElementsAre(FloatNear(5.25f, 1e-5)));
}

TEST(FedNovaTest, ResultsWithoutStepsAreSkippedNotFatal) {
  auto s = MakeFedNova(0.0f);
  auto none = Aggregate(*s, Vec({0}), {MakeFitResult(1, {4}, 1, 0), MakeFitResult(2, {4}, 1, -3)});
  EXPECT_EQ(none.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(none.status().message(), HasSubstr("2 had local_steps <= 0"));
  // The 0-step result is left out: only client 2 counts, x = 0 + 4.
  EXPECT_THAT(
      AggregateValues(*s, Vec({0}), {MakeFitResult(1, {100}, 5, 0), MakeFitResult(2, {4}, 2, 2)}),
      ElementsAre(FloatNear(4, 1e-5)));
  // No examples at all: nothing to weight by.
  EXPECT_EQ(Aggregate(*s, Vec({0}), {MakeFitResult(1, {4}, 0, 2)}).status().code(),
            StatusCode::kFailedPrecondition);
}

TEST(FedNovaTest, RejectsInvalidOptions) {
  FedAvgOptions o;
  o.fit.momentum = 1.0f;
  EXPECT_EQ(NewFedNova(o).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace fedra
