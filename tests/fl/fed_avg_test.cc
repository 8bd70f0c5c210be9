#include "fedra/fl/fed_avg.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <memory>
#include <numeric>
#include <set>
#include <vector>

#include "testing/fl_fixtures.h"

namespace fedra {
namespace {

using testing::Aggregate;
using ::testing::ElementsAre;
using ::testing::FloatNear;
using ::testing::IsSubsetOf;
using testing::MakeFitResult;
using testing::Values;
using testing::Vec;

std::vector<ClientId> Ids(size_t n) {
  std::vector<ClientId> ids(n);
  std::iota(ids.begin(), ids.end(), ClientId{100});
  return ids;
}

std::unique_ptr<Strategy> MakeFedAvg(const FedAvgOptions& options) {
  auto s = NewFedAvg(options);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return std::move(s).value();
}

TEST(FedAvgTest, NameModeAndNoState) {
  auto s = MakeFedAvg({});
  EXPECT_EQ(s->Name(), "fedavg");
  EXPECT_EQ(s->mode(), AggregationMode::kWeightedSum);
  EXPECT_TRUE(s->ExportState().vectors.empty());
}

TEST(FedAvgTest, WeightsByExampleCount) {
  auto s = MakeFedAvg({});
  // Client 1 (1 example) moved by [4, 0], client 2 (3 examples) by [0, 8]:
  // mean = [(1*4 + 3*0)/4, (1*0 + 3*8)/4] = [1, 6]; global [1, 1] -> [2, 7].
  auto next =
      Aggregate(*s, Vec({1, 1}), {MakeFitResult(1, {4, 0}, 1), MakeFitResult(2, {0, 8}, 3)});
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_THAT(Values(*next), ElementsAre(FloatNear(2, 1e-6), FloatNear(7, 1e-6)));
}

TEST(FedAvgTest, ZeroTotalWeightIsAnError) {
  auto s = MakeFedAvg({});
  auto next = Aggregate(*s, Vec({1}), {MakeFitResult(1, {4}, 0)});
  EXPECT_EQ(next.status().code(), StatusCode::kFailedPrecondition);
}

TEST(FedAvgTest, ConfigureFitHonoursFractionAndMinimum) {
  FedAvgOptions o;
  o.sampling.fraction_fit = 0.25;
  o.fit.epochs = 3;
  o.fit.learning_rate = 0.05f;
  auto s = MakeFedAvg(o);
  const std::vector<ClientId> available = Ids(10);
  Rng rng(7);
  // ceil(0.25 * 10) = 3 clients, each given the configured local settings.
  auto plan = s->ConfigureFit(1, Vec({0}), available, rng);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  ASSERT_EQ(plan->tasks.size(), 3u);
  std::vector<ClientId> chosen;
  for (const FitTask& t : plan->tasks) {
    chosen.push_back(t.client);
    EXPECT_EQ(t.config.epochs, 3);
    EXPECT_EQ(t.config.learning_rate, 0.05f);
  }
  EXPECT_TRUE(std::is_sorted(chosen.begin(), chosen.end()));
  EXPECT_EQ(std::set<ClientId>(chosen.begin(), chosen.end()).size(), 3u);
  EXPECT_THAT(chosen, IsSubsetOf(available));
  EXPECT_TRUE(plan->broadcast.empty());

  // min_fit_clients = 5 overrides ceil(0.25 * 10) = 3.
  o.sampling.min_fit_clients = 5;
  auto at_least_five = MakeFedAvg(o);
  auto plan5 = at_least_five->ConfigureFit(1, Vec({0}), available, rng);
  ASSERT_TRUE(plan5.ok());
  EXPECT_EQ(plan5->tasks.size(), 5u);
}

TEST(FedAvgTest, ConfigureFitIsSeeded) {
  FedAvgOptions o;
  o.sampling.fraction_fit = 0.3;
  auto s = MakeFedAvg(o);
  const std::vector<ClientId> available = Ids(50);
  auto clients_for_seed = [&](uint64_t seed) {
    Rng rng(seed);
    auto plan = s->ConfigureFit(1, Vec({0}), available, rng);
    EXPECT_TRUE(plan.ok()) << plan.status().ToString();
    std::vector<ClientId> out;
    if (plan.ok()) {
      for (const FitTask& t : plan->tasks) out.push_back(t.client);
    }
    return out;
  };
  EXPECT_EQ(clients_for_seed(11), clients_for_seed(11));
  EXPECT_EQ(clients_for_seed(11).size(), 15u);
  // 15 of 50 drawn twice: two different seeds agreeing is vanishingly unlikely.
  EXPECT_NE(clients_for_seed(11), clients_for_seed(12));
}

TEST(FedAvgTest, ConfigureFitFailsWithTooFewClients) {
  FedAvgOptions o;
  o.sampling.min_available_clients = 3;
  auto s = MakeFedAvg(o);
  Rng rng(1);
  const std::vector<ClientId> two = Ids(2);
  EXPECT_EQ(s->ConfigureFit(1, Vec({0}), two, rng).status().code(),
            StatusCode::kFailedPrecondition);
}

TEST(FedAvgTest, ConfigureEvaluate) {
  FedAvgOptions o;
  o.sampling.fraction_evaluate = 0.5;
  auto s = MakeFedAvg(o);
  const std::vector<ClientId> available = Ids(4);
  Rng rng(3);
  auto tasks = s->ConfigureEvaluate(1, Vec({0}), available, rng);
  ASSERT_TRUE(tasks.ok()) << tasks.status().ToString();
  ASSERT_EQ(tasks->size(), 2u);  // ceil(0.5 * 4)
  for (const EvaluateTask& t : *tasks) {
    EXPECT_NE(std::find(available.begin(), available.end(), t.client), available.end());
  }
  EXPECT_NE((*tasks)[0].client, (*tasks)[1].client);

  o.sampling.fraction_evaluate = 0.0;
  auto none = MakeFedAvg(o)->ConfigureEvaluate(1, Vec({0}), available, rng);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST(FedAvgTest, RejectsInvalidOptions) {
  std::vector<FedAvgOptions> bad(12);
  bad[0].sampling.fraction_fit = 0;
  bad[1].sampling.fraction_fit = 1.5;
  bad[2].sampling.fraction_evaluate = -0.1;
  bad[3].sampling.min_fit_clients = 0;
  bad[4].fit.epochs = 0;
  bad[5].fit.batch_size = 0;
  bad[6].fit.learning_rate = NAN;
  bad[7].fit.momentum = 1.0f;
  bad[8].fit.proximal_mu = -1;
  bad[9].fit.weight_decay = -0.5f;
  bad[10].fit.local_steps = -1;
  bad[11].fit.local_steps = kMaxLocalSteps + 1;
  for (size_t i = 0; i < bad.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(ValidateFedAvgOptions(bad[i]).code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(NewFedAvg(bad[i]).status().code(), StatusCode::kInvalidArgument);
  }
  EXPECT_TRUE(ValidateFedAvgOptions({}).ok());
  EXPECT_EQ(NewFedAvgWith({}, nullptr, "x").status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace fedra
