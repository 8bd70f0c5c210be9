// FedMedian, FedTrimmedAvg and (Multi-)Krum against hand-worked answers.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <memory>
#include <numeric>
#include <vector>

#include "fedra/fl/fed_median.h"
#include "fedra/fl/fed_trimmed_avg.h"
#include "fedra/fl/krum.h"
#include "testing/fl_fixtures.h"

namespace fedra {
namespace {

using testing::Aggregate;
using testing::AggregateValues;
using ::testing::ElementsAre;
using ::testing::FloatNear;
using ::testing::HasSubstr;
using testing::MakeFitResult;
using testing::Unwrap;
using testing::Vec;

FitResult Result(ClientId client, std::initializer_list<float> update) {
  // Robust strategies are unweighted; num_examples must not matter.
  return MakeFitResult(client, update, 10 * client);
}

KrumOptions KrumWith(size_t f, size_t m, size_t min_fit) {
  KrumOptions o;
  o.num_byzantine = f;
  o.num_selected = m;
  o.base.sampling.min_fit_clients = min_fit;
  return o;
}

TEST(RobustStrategiesTest, ModesNamesAndSampling) {
  std::vector<std::unique_ptr<Strategy>> all;
  all.push_back(Unwrap(NewFedMedian({})));
  all.push_back(Unwrap(NewFedTrimmedAvg({})));
  all.push_back(Unwrap(NewKrum(KrumWith(0, 1, 3))));
  all.push_back(Unwrap(NewKrum(KrumWith(0, 2, 3))));
  const std::vector<std::string> names = {"fedmedian", "fedtrimmedavg", "krum", "multikrum"};
  std::vector<ClientId> available(8);
  std::iota(available.begin(), available.end(), ClientId{1});
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i]->Name(), names[i]);
    EXPECT_EQ(all[i]->mode(), AggregationMode::kIndividual);
    Rng rng(9);
    auto plan = all[i]->ConfigureFit(1, Vec({0}), available, rng);
    ASSERT_TRUE(plan.ok()) << plan.status().ToString();
    EXPECT_EQ(plan->tasks.size(), 8u);  // fraction_fit defaults to 1
    auto eval = all[i]->ConfigureEvaluate(1, Vec({0}), available, rng);
    ASSERT_TRUE(eval.ok());
    EXPECT_EQ(eval->size(), 8u);
  }
}

TEST(FedMedianTest, OddCount) {
  auto s = Unwrap(NewFedMedian({}));
  // coordinate 0: {1, 2, 100} -> 2; coordinate 1: {10, -5, 0} -> 0.
  // global [0.5, 1] -> [2.5, 1].
  EXPECT_THAT(AggregateValues(*s, Vec({0.5f, 1}),
                              {Result(1, {1, 10}), Result(2, {2, -5}), Result(3, {100, 0})}),
              ElementsAre(FloatNear(2.5f, 1e-6), FloatNear(1, 1e-6)));
}

TEST(FedMedianTest, EvenCountAveragesMiddleValues) {
  auto s = Unwrap(NewFedMedian({}));
  // coordinate 0: sorted {-50, 1, 3, 100} -> (1 + 3)/2 = 2;
  // coordinate 1: sorted {0, 4, 4, 8} -> (4 + 4)/2 = 4.
  EXPECT_THAT(AggregateValues(
                  *s, Vec({0, 0}),
                  {Result(1, {1, 4}), Result(2, {3, 4}), Result(3, {100, 8}), Result(4, {-50, 0})}),
              ElementsAre(FloatNear(2, 1e-6), FloatNear(4, 1e-6)));
}

TEST(FedMedianTest, RejectsBadInputWithoutCrashing) {
  auto s = Unwrap(NewFedMedian({}));
  EXPECT_EQ(Aggregate(*s, Vec({0}), {}).status().code(), StatusCode::kFailedPrecondition);
  auto wrong_layout = Aggregate(*s, Vec({0}), {Result(1, {1}), Result(7, {1, 2})});
  EXPECT_EQ(wrong_layout.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(wrong_layout.status().message(), HasSubstr("client 7"));
  EXPECT_EQ(Aggregate(*s, Vec({0}), {Result(1, {NAN})}).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(FedTrimmedAvgTest, DropsExtremesPerCoordinate) {
  auto s = Unwrap(NewFedTrimmedAvg({.beta = 0.2}));
  // n = 5, floor(0.2 * 5) = 1 value cut from each end, per coordinate:
  // coordinate 0: {3, 100, 1, 4, 2} drops 1 and 100 -> (2 + 3 + 4)/3 = 3;
  // coordinate 1: {-100, 12, 6, 3, 9} drops -100 and 12 -> (3 + 6 + 9)/3 = 6.
  // global [1, 1] -> [4, 7].
  EXPECT_THAT(AggregateValues(*s, Vec({1, 1}),
                              {Result(1, {3, -100}), Result(2, {100, 12}), Result(3, {1, 6}),
                               Result(4, {4, 3}), Result(5, {2, 9})}),
              ElementsAre(FloatNear(4, 1e-6), FloatNear(7, 1e-6)));
}

TEST(FedTrimmedAvgTest, CutCountIsFloorOfBetaTimesN) {
  const std::vector<FitResult> four = {Result(1, {1}), Result(2, {2}), Result(3, {3}),
                                       Result(4, {100})};
  // beta = 0.2, n = 4: floor(0.8) = 0, nothing dropped: (1 + 2 + 3 + 100)/4 = 26.5.
  auto keep_all = Unwrap(NewFedTrimmedAvg({.beta = 0.2}));
  EXPECT_THAT(AggregateValues(*keep_all, Vec({0}), four), ElementsAre(FloatNear(26.5f, 1e-5)));
  // beta = 0.25, n = 4: floor(1) = 1 from each end: (2 + 3)/2 = 2.5.
  auto cut_one = Unwrap(NewFedTrimmedAvg({.beta = 0.25}));
  EXPECT_THAT(AggregateValues(*cut_one, Vec({0}), four), ElementsAre(FloatNear(2.5f, 1e-6)));
}

TEST(FedTrimmedAvgTest, RejectsBetaOutsideRange) {
  for (double beta : {0.5, -0.1, 0.7, static_cast<double>(NAN)}) {
    EXPECT_EQ(NewFedTrimmedAvg({.beta = beta}).status().code(), StatusCode::kInvalidArgument)
        << beta;
  }
  EXPECT_TRUE(NewFedTrimmedAvg({.beta = 0.0}).ok());
}

// Four honest clients near the origin and one outlier, in scrambled order. With f = 1 each
// score sums the n - f - 2 = 2 smallest squared distances (second coordinates are equal for
// the honest clients):
//   u = 0: {1, 9, 36, ...}  -> 1 + 9 = 10
//   u = 1: {1, 4, 25, ...}  -> 1 + 4 = 5     (best)
//   u = 3: {9, 4, 9, ...}   -> 4 + 9 = 13
//   u = 6: {36, 25, 9, ...} -> 9 + 25 = 34
//   outlier [100, -50]: > 94^2.
std::vector<FitResult> KrumClients() {
  return {Result(1, {3, 0.5f}), Result(2, {100, -50}), Result(3, {0, 0.5f}), Result(4, {6, 0.5f}),
          Result(5, {1, 0.5f})};
}

TEST(KrumTest, PicksTheBestScoredUpdate) {
  auto s = Unwrap(NewKrum(KrumWith(1, 1, 5)));
  // Krum applies u = [1, 0.5]: [10, 10] -> [11, 10.5].
  EXPECT_THAT(AggregateValues(*s, Vec({10, 10}), KrumClients()),
              ElementsAre(FloatNear(11, 1e-6), FloatNear(10.5f, 1e-6)));
}

TEST(KrumTest, MultiKrumAveragesTheMBest) {
  auto s = Unwrap(NewKrum(KrumWith(1, 3, 5)));
  // The three best scores are u = 1 (5), u = 0 (10), u = 3 (13):
  // mean = [(1 + 0 + 3)/3, 0.5] = [4/3, 0.5]; [10, 10] -> [11.3333, 10.5].
  EXPECT_THAT(AggregateValues(*s, Vec({10, 10}), KrumClients()),
              ElementsAre(FloatNear(10 + 4.0f / 3, 1e-5), FloatNear(10.5f, 1e-6)));
}

TEST(KrumTest, NeedsMoreThanTwoFPlusTwoResults) {
  auto s = Unwrap(NewKrum(KrumWith(1, 1, 5)));
  std::vector<FitResult> four = KrumClients();
  four.pop_back();
  auto next = Aggregate(*s, Vec({0, 0}), four);
  EXPECT_EQ(next.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(next.status().message(), HasSubstr("got 4"));

  auto multi = Unwrap(NewKrum(KrumWith(0, 4, 4)));
  auto too_few_for_m =
      Aggregate(*multi, Vec({0}), {Result(1, {1}), Result(2, {2}), Result(3, {3})});
  EXPECT_EQ(too_few_for_m.status().code(), StatusCode::kFailedPrecondition);
}

TEST(KrumTest, RejectsInvalidOptions) {
  EXPECT_EQ(NewKrum(KrumWith(0, 0, 3)).status().code(), StatusCode::kInvalidArgument);
  KrumOptions bad_base = KrumWith(0, 1, 3);
  bad_base.base.fit.batch_size = 0;
  EXPECT_EQ(NewKrum(bad_base).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace fedra
