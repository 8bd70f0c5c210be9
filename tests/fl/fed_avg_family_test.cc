// FedProx, FedAvgM, FedAdam, FedYogi and FedAdagrad through the Strategy interface, driven
// the way RoundDriver drives them (ConfigureFit, Fold into an UpdateAccumulator, AggregateFit).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <memory>
#include <numeric>
#include <vector>

#include "fedra/fl/fed_adagrad.h"
#include "fedra/fl/fed_adam.h"
#include "fedra/fl/fed_avg.h"
#include "fedra/fl/fed_avg_m.h"
#include "fedra/fl/fed_prox.h"
#include "fedra/fl/fed_yogi.h"
#include "testing/fl_fixtures.h"

namespace fedra {
namespace {

using testing::Aggregate;
using ::testing::ElementsAre;
using ::testing::FloatNear;
using testing::MakeFitResult;
using testing::Unwrap;
using testing::Values;
using testing::Vec;

// One aggregation as the round driver does it.
Parameters Round(Strategy& strategy, const Parameters& global,
                 const std::vector<FitResult>& results) {
  auto next = Aggregate(strategy, global, results);
  EXPECT_TRUE(next.ok()) << next.status().ToString();
  return next.ok() ? *next : Parameters();
}

TEST(FedProxTest, SetsProximalMuInEveryTask) {
  FedProxOptions o;
  o.mu = 0.1f;
  o.base.fit.epochs = 2;
  o.base.fit.proximal_mu = 0.5f;  // overridden by mu
  auto s = Unwrap(NewFedProx(o));
  EXPECT_EQ(s->Name(), "fedprox");
  EXPECT_EQ(s->mode(), AggregationMode::kWeightedSum);
  std::vector<ClientId> available(6);
  std::iota(available.begin(), available.end(), ClientId{1});
  Rng rng(5);
  auto plan = s->ConfigureFit(1, Vec({0}), available, rng);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  ASSERT_EQ(plan->tasks.size(), 6u);
  for (const FitTask& t : plan->tasks) {
    EXPECT_EQ(t.config.proximal_mu, 0.1f);
    EXPECT_EQ(t.config.epochs, 2);
  }
}

TEST(FedProxTest, AggregatesLikeFedAvg) {
  auto s = Unwrap(NewFedProx({}));
  // mean = [(1*4 + 3*0)/4, (1*0 + 3*8)/4] = [1, 6]; [1, 1] -> [2, 7].
  Parameters next =
      Round(*s, Vec({1, 1}), {MakeFitResult(1, {4, 0}, 1), MakeFitResult(2, {0, 8}, 3)});
  EXPECT_THAT(Values(next), ElementsAre(FloatNear(2, 1e-6), FloatNear(7, 1e-6)));
}

TEST(FedProxTest, RejectsNonPositiveMu) {
  for (float mu : {0.0f, -1.0f, NAN, INFINITY}) {
    FedProxOptions o;
    o.mu = mu;
    EXPECT_EQ(NewFedProx(o).status().code(), StatusCode::kInvalidArgument) << mu;
  }
  FedProxOptions bad_base;
  bad_base.base.fit.epochs = 0;
  EXPECT_EQ(NewFedProx(bad_base).status().code(), StatusCode::kInvalidArgument);
}

TEST(FedAvgMTest, MomentumCarriesAcrossRounds) {
  auto s = Unwrap(NewFedAvgM({.server_learning_rate = 1.0f, .server_momentum = 0.9f}));
  EXPECT_EQ(s->Name(), "fedavgm");
  EXPECT_EQ(s->mode(), AggregationMode::kWeightedSum);
  // Round 1: mean delta = (2 + 4)/2 = 3; v = 3; x = 0 + 3 = 3.
  Parameters x = Round(*s, Vec({0}), {MakeFitResult(1, {2}, 1), MakeFitResult(2, {4}, 1)});
  EXPECT_THAT(Values(x), ElementsAre(FloatNear(3, 1e-6)));
  // Round 2: mean delta = (2*1 + 2*(-1))/4 = 0; v = 0.9*3 + 0 = 2.7; x = 3 + 2.7 = 5.7.
  x = Round(*s, x, {MakeFitResult(1, {1}, 2), MakeFitResult(2, {-1}, 2)});
  EXPECT_THAT(Values(x), ElementsAre(FloatNear(5.7f, 1e-6)));
  EXPECT_THAT(s->ExportState().vectors.at("velocity"), ElementsAre(FloatNear(2.7f, 1e-6)));
}

TEST(FedAvgMTest, RejectsBadServerSettings) {
  EXPECT_EQ(NewFedAvgM({.server_momentum = 1.0f}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(NewFedAvgM({.server_learning_rate = 0}).status().code(), StatusCode::kInvalidArgument);
  FedAvgMOptions bad_base;
  bad_base.base.sampling.fraction_fit = 2;
  EXPECT_EQ(NewFedAvgM(bad_base).status().code(), StatusCode::kInvalidArgument);
}

FedOptOptions HandOptions(float tau) {
  FedOptOptions o;
  o.server = {.eta = 1.2f, .beta1 = 0.5f, .beta2 = 0.5f, .tau = tau};
  return o;
}

TEST(FedAdamTest, FirstRoundStepByHand) {
  auto s = Unwrap(NewFedAdam(HandOptions(1)));
  EXPECT_EQ(s->Name(), "fedadam");
  EXPECT_EQ(s->mode(), AggregationMode::kWeightedSum);
  // mean delta = (1*4 + 3*8)/4 = 7; m = 0.5*7 = 3.5; v = 0.5*1 + 0.5*49 = 25;
  // x = 10 + 1.2*3.5/(5 + 1) = 10.7.
  Parameters x = Round(*s, Vec({10}), {MakeFitResult(1, {4}, 1), MakeFitResult(2, {8}, 3)});
  EXPECT_THAT(Values(x), ElementsAre(FloatNear(10.7f, 1e-5)));
  StrategyState state = s->ExportState();
  EXPECT_THAT(state.vectors.at("m"), ElementsAre(FloatNear(3.5f, 1e-6)));
  EXPECT_THAT(state.vectors.at("v"), ElementsAre(FloatNear(25, 1e-5)));
}

TEST(FedYogiTest, FirstRoundStepByHand) {
  auto s = Unwrap(NewFedYogi(HandOptions(1)));
  EXPECT_EQ(s->Name(), "fedyogi");
  // mean delta = (1*1 + 3*5)/4 = 4; m = 2; v = 1 - 0.5*16*sign(1 - 16) = 9;
  // x = 10 + 1.2*2/(3 + 1) = 10.6.
  Parameters x = Round(*s, Vec({10}), {MakeFitResult(1, {1}, 1), MakeFitResult(2, {5}, 3)});
  EXPECT_THAT(Values(x), ElementsAre(FloatNear(10.6f, 1e-5)));
  EXPECT_THAT(s->ExportState().vectors.at("v"), ElementsAre(FloatNear(9, 1e-5)));
}

TEST(FedAdagradTest, FirstRoundStepByHand) {
  auto s = Unwrap(NewFedAdagrad(HandOptions(3)));
  EXPECT_EQ(s->Name(), "fedadagrad");
  // mean delta = 4; m = 2; v = 3^2 + 16 = 25; x = 10 + 1.2*2/(5 + 3) = 10.3.
  Parameters x = Round(*s, Vec({10}), {MakeFitResult(1, {1}, 1), MakeFitResult(2, {5}, 3)});
  EXPECT_THAT(Values(x), ElementsAre(FloatNear(10.3f, 1e-5)));
}

TEST(FedOptFamilyTest, RejectsBadOptions) {
  FedOptOptions bad_server = HandOptions(1);
  bad_server.server.beta1 = 1;
  FedOptOptions bad_base = HandOptions(1);
  bad_base.base.fit.learning_rate = 0;
  for (const FedOptOptions* o : {&bad_server, &bad_base}) {
    EXPECT_EQ(NewFedAdam(*o).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(NewFedYogi(*o).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(NewFedAdagrad(*o).status().code(), StatusCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace fedra
