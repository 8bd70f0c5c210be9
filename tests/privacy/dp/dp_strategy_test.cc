// The DP strategy wrapper: clipping and uniform weights, the fixed denominator, where the
// noise goes in each mode, accounting, the budget stop, the checkpointed accountant, and DP
// across tiers (edges fold, the root divides and accounts by their clients).
#include "fedra/fl/dp_strategy.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <vector>

#include "fedra/fl/fed_avg.h"
#include "fedra/fl/fed_median.h"
#include "fedra/fl/tiers.h"
#include "fedra/privacy/dp/rdp_accountant.h"
#include "testing/fl_fixtures.h"

namespace fedra {
namespace {

using testing::MakeFitResult;
using testing::Values;
using testing::Vec;

std::unique_ptr<DpStrategy> MakeDp(const DpOptions& o, double fraction_fit = 1.0) {
  auto inner = NewFedAvg({.sampling = {.fraction_fit = fraction_fit}});
  auto dp = NewDpStrategy(std::move(inner).value(), o);
  EXPECT_TRUE(dp.ok()) << dp.status().ToString();
  return std::move(dp).value();
}

std::vector<ClientId> Clients(size_t n) {
  std::vector<ClientId> ids(n);
  std::iota(ids.begin(), ids.end(), 0);
  return ids;
}

// One round: plan among `available`, fold `results` (client ids are rewritten to the
// planned ones), aggregate.
StatusOr<Parameters> Round(DpStrategy& s, int round, const Parameters& global,
                           std::vector<FitResult> results, size_t available,
                           RoundPlan* plan_out = nullptr) {
  Rng rng(round);
  const auto ids = Clients(available);
  FEDRA_ASSIGN_OR_RETURN(RoundPlan plan, s.ConfigureFit(round, global, ids, rng));
  UpdateAccumulator acc;
  for (size_t i = 0; i < results.size(); ++i) {
    results[i].client = plan.tasks[i].client;
    s.Fold(results[i], acc);
  }
  if (plan_out != nullptr) *plan_out = plan;
  return s.AggregateFit(round, global, {.sums = &acc, .num_results = results.size()});
}

TEST(DpStrategyTest, RefusesStrategiesThatAggregateIndividualUpdates) {
  auto dp = NewDpStrategy(*NewFedMedian({}), {.mode = DpMode::kCentral});
  ASSERT_FALSE(dp.ok());
  EXPECT_EQ(dp.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(dp.status().message().find("aggregates individual updates"), std::string::npos);
  EXPECT_FALSE(NewDpStrategy(*NewFedAvg({}), {.mode = DpMode::kNone}).ok());
}

TEST(DpStrategyTest, RejectsBadOptionsWithClearMessages) {
  auto msg = [](const DpOptions& o) { return NewDpStrategy(*NewFedAvg({}), o).status().message(); };
  EXPECT_NE(msg({.mode = DpMode::kCentral, .noise_multiplier = -1}).find("noise multiplier"),
            std::string::npos);
  EXPECT_NE(msg({.mode = DpMode::kCentral, .clip_norm = 0}).find("clip norm"), std::string::npos);
  EXPECT_NE(msg({.mode = DpMode::kCentral, .delta = 1.0}).find("delta must be in (0, 1)"),
            std::string::npos);
  EXPECT_NE(msg({.mode = DpMode::kLocal, .adaptive_quantile = 0.5}).find("central"),
            std::string::npos);
  EXPECT_NE(msg({.mode = DpMode::kCentral, .target_epsilon = -1}).find("target epsilon"),
            std::string::npos);
  EXPECT_FALSE(ParseDpMode("global").ok());
  EXPECT_FALSE(ParseDpBudgetAction("ignore").ok());
}

// Negligible noise: the result is the clipped, uniformly weighted sum over the expected
// number of clients.
TEST(DpStrategyTest, CentralClipsWeighsUniformlyAndDividesByTheExpectedCount) {
  auto dp =
      MakeDp({.mode = DpMode::kCentral, .clip_norm = 1.0, .noise_multiplier = 1e-7, .seed = 1});
  // Two clients with very different example counts; (3, 4) has norm 5 -> (0.6, 0.8).
  std::vector<FitResult> results = {MakeFitResult(0, {3, 4}, 1000), MakeFitResult(1, {0.3f, 0}, 1)};
  RoundPlan plan;
  auto next = Round(*dp, 1, Vec({0, 0}), results, 2, &plan);
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_NEAR(Values(*next)[0], (0.6 + 0.3) / 2, 1e-5);
  EXPECT_NEAR(Values(*next)[1], 0.8 / 2, 1e-5);
  EXPECT_EQ(plan.tasks[0].config.clip_norm, 0.0f);  // server-side clipping
  EXPECT_EQ(plan.tasks[0].config.noise_stddev, 0.0f);
  // Only one of two answered: still divided by 2 (fixed denominator).
  auto half = Round(*dp, 2, Vec({0, 0}), {MakeFitResult(0, {0.3f, 0}, 5)}, 2);
  EXPECT_NEAR(Values(*half)[0], 0.15, 1e-5);
}

TEST(DpStrategyTest, CentralNoiseHasStddevZCOverM) {
  auto dp =
      MakeDp({.mode = DpMode::kCentral, .clip_norm = 2.0, .noise_multiplier = 1.5, .seed = 9});
  Parameters zero;
  zero.Add("w", {50000});
  std::vector<FitResult> results;
  for (int i = 0; i < 4; ++i) results.push_back(MakeFitResult(i, zero, 1));
  auto next = Round(*dp, 1, zero, results, 4);
  ASSERT_TRUE(next.ok());
  double sq = 0;
  for (float v : Values(*next)) sq += double(v) * v;
  EXPECT_NEAR(std::sqrt(sq / 50000), 1.5 * 2.0 / 4, 0.01);  // z C / m
}

TEST(DpStrategyTest, DistributedModeSplitsNoiseAcrossClientsAndTopsUpDropouts) {
  auto dp =
      MakeDp({.mode = DpMode::kDistributed, .clip_norm = 2.0, .noise_multiplier = 1.5, .seed = 3});
  Parameters zero;
  zero.Add("w", {40000});
  std::vector<FitResult> all;
  for (int i = 0; i < 4; ++i) all.push_back(MakeFitResult(i, zero, 1));
  RoundPlan plan;
  auto next = Round(*dp, 1, zero, all, 4, &plan);
  ASSERT_TRUE(next.ok());
  for (const FitTask& t : plan.tasks) {
    EXPECT_FLOAT_EQ(t.config.clip_norm, 2.0f);
    EXPECT_FLOAT_EQ(t.config.noise_stddev, 1.5f * 2.0f / 2.0f);  // z C / sqrt(K), K = 4
  }
  EXPECT_EQ(Values(*next), std::vector<float>(40000, 0.0f));  // all shares came from clients
  // One of four answered: the server adds the three missing shares, variance 3/4 (z C)^2.
  auto dropped = Round(*dp, 2, zero, {all[0]}, 4);
  double sq = 0;
  for (float v : Values(*dropped)) sq += double(v) * v;
  EXPECT_NEAR(std::sqrt(sq / 40000), std::sqrt(0.75) * 3.0 / 4, 0.01);
}

TEST(DpStrategyTest, LocalModeNoisesOnClientsAndAccountsWithoutSampling) {
  auto dp = MakeDp({.mode = DpMode::kLocal, .clip_norm = 1.0, .noise_multiplier = 2.0}, 0.1);
  RoundPlan plan;
  ASSERT_TRUE(Round(*dp, 1, Vec({0}), {MakeFitResult(0, {0.5f}, 3)}, 100, &plan).ok());
  ASSERT_EQ(plan.tasks.size(), 10u);
  EXPECT_FLOAT_EQ(plan.tasks[0].config.noise_stddev, 2.0f);
  EXPECT_FLOAT_EQ(plan.tasks[0].config.clip_norm, 1.0f);
  EXPECT_NEAR(dp->epsilon_spent(),
              *dp::RdpEpsilon({.noise_multiplier = 2.0, .sampling_rate = 1.0, .steps = 1}, 1e-5),
              1e-12);
}

TEST(DpStrategyTest, AccountsEachAggregatedRoundAtTheSamplingRate) {
  auto dp = MakeDp({.mode = DpMode::kCentral, .noise_multiplier = 1.0, .seed = 2}, 0.1);
  EXPECT_EQ(dp->epsilon_spent(), 0.0);
  for (int r = 1; r <= 5; ++r)
    ASSERT_TRUE(Round(*dp, r, Vec({0}), {MakeFitResult(0, {0.1f}, 1)}, 200).ok());
  EXPECT_EQ(dp->rounds_accounted(), 5);
  const double expected =
      *dp::RdpEpsilon({.noise_multiplier = 1.0, .sampling_rate = 20.0 / 200, .steps = 5}, 1e-5);
  EXPECT_NEAR(dp->epsilon_spent(), expected, 1e-12);
}

TEST(DpStrategyTest, StopsBeforeARoundThatWouldExceedTheBudget) {
  const auto per_round = [](int64_t t) {
    return *dp::RdpEpsilon({.noise_multiplier = 1.0, .sampling_rate = 0.5, .steps = t}, 1e-5);
  };
  const double target = 0.5 * (per_round(2) + per_round(3));  // room for two rounds
  auto dp = MakeDp(
      {.mode = DpMode::kCentral, .noise_multiplier = 1.0, .target_epsilon = target, .seed = 4},
      0.5);
  ASSERT_TRUE(Round(*dp, 1, Vec({0}), {MakeFitResult(0, {0.1f}, 1)}, 10).ok());
  ASSERT_TRUE(Round(*dp, 2, Vec({0}), {MakeFitResult(0, {0.1f}, 1)}, 10).ok());
  EXPECT_FALSE(dp->budget_exhausted());
  auto third = Round(*dp, 3, Vec({0}), {MakeFitResult(0, {0.1f}, 1)}, 10);
  EXPECT_EQ(third.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(third.status().message().find("privacy budget spent"), std::string::npos);
  EXPECT_TRUE(dp->budget_exhausted());
  EXPECT_LE(dp->epsilon_spent(), target);
  EXPECT_EQ(dp->rounds_accounted(), 2);

  auto warn = MakeDp({.mode = DpMode::kCentral,
                      .noise_multiplier = 1.0,
                      .target_epsilon = target,
                      .budget_action = DpBudgetAction::kWarn,
                      .seed = 4},
                     0.5);
  for (int r = 1; r <= 3; ++r)
    ASSERT_TRUE(Round(*warn, r, Vec({0}), {MakeFitResult(0, {0.1f}, 1)}, 10).ok());
  EXPECT_TRUE(warn->budget_exhausted());
  EXPECT_GT(warn->epsilon_spent(), target);
}

TEST(DpStrategyTest, ResumedStrategyKeepsCountingFromTheCheckpoint) {
  const DpOptions o{.mode = DpMode::kCentral,
                    .clip_norm = 0.5,
                    .noise_multiplier = 1.1,
                    .adaptive_quantile = 0.5,
                    .adaptive_count_stddev = 1.0,
                    .seed = 8};
  auto first = MakeDp(o, 0.5);
  for (int r = 1; r <= 3; ++r)
    ASSERT_TRUE(Round(*first, r, Vec({0}), {MakeFitResult(0, {2.0f}, 1)}, 8).ok());
  const StrategyState state = first->ExportState();
  auto resumed = MakeDp(o, 0.5);
  ASSERT_TRUE(resumed->ImportState(state).ok());
  EXPECT_EQ(resumed->rounds_accounted(), 3);
  EXPECT_DOUBLE_EQ(resumed->epsilon_spent(), first->epsilon_spent());
  EXPECT_DOUBLE_EQ(resumed->clip_norm(), first->clip_norm());
  ASSERT_TRUE(Round(*first, 4, Vec({0}), {MakeFitResult(0, {2.0f}, 1)}, 8).ok());
  ASSERT_TRUE(Round(*resumed, 4, Vec({0}), {MakeFitResult(0, {2.0f}, 1)}, 8).ok());
  EXPECT_DOUBLE_EQ(resumed->epsilon_spent(), first->epsilon_spent());
  // A corrupt checkpoint is refused.
  StrategyState bad = state;
  bad.scalars["dp.rdp.0"] = -1;
  EXPECT_FALSE(MakeDp(o, 0.5)->ImportState(bad).ok());
  bad = state;
  bad.scalars["dp.rdp.x"] = 1;
  EXPECT_FALSE(MakeDp(o, 0.5)->ImportState(bad).ok());
}

// A checkpoint written before the orders were stored (22 RDP values at fedra 0.1's orders)
// resumes at those orders: its accumulated RDP is valid only there.
TEST(DpStrategyTest, ALegacyCheckpointResumesAtItsOwnOrders) {
  const DpOptions o{.mode = DpMode::kCentral, .noise_multiplier = 1.1, .seed = 8};
  const auto& legacy = dp::LegacyRdpOrders();
  const auto step = *dp::SampledGaussianRdp(0.5, 1.1, legacy);
  StrategyState state = MakeDp(o, 0.5)->ExportState();
  for (auto it = state.scalars.begin(); it != state.scalars.end();) {
    it = it->first.starts_with("dp.rdp.") || it->first.starts_with("dp.order.")
             ? state.scalars.erase(it)
             : std::next(it);
  }
  for (size_t i = 0; i < legacy.size(); ++i)
    state.scalars["dp.rdp." + std::to_string(i)] = 3 * step[i];
  state.scalars["dp.rounds"] = 3;
  auto resumed = MakeDp(o, 0.5);
  ASSERT_TRUE(resumed->ImportState(state).ok());
  dp::RdpAccountant expected(legacy);
  ASSERT_TRUE(expected.Compose(0.5, 1.1, 3).ok());
  EXPECT_DOUBLE_EQ(resumed->epsilon_spent(), *expected.Epsilon(1e-5));
  // Its next export carries the orders, so it round-trips.
  const StrategyState again = resumed->ExportState();
  EXPECT_EQ(again.scalars.at("dp.order.21"), 1024.0);
  auto twice = MakeDp(o, 0.5);
  ASSERT_TRUE(twice->ImportState(again).ok());
  EXPECT_DOUBLE_EQ(twice->epsilon_spent(), resumed->epsilon_spent());
  // Values without orders (other than the legacy count), or a gap, are refused.
  state.scalars.erase("dp.rdp.21");
  EXPECT_FALSE(MakeDp(o, 0.5)->ImportState(state).ok());
  StrategyState gap = again;
  gap.scalars.erase("dp.order.5");
  EXPECT_FALSE(MakeDp(o, 0.5)->ImportState(gap).ok());
  gap = again;
  gap.scalars["dp.order.3"] = 0.5;  // not an order > 1
  EXPECT_FALSE(MakeDp(o, 0.5)->ImportState(gap).ok());
}

TEST(DpStrategyTest, AdaptiveClipNormFollowsTheUnclippedNorms) {
  auto dp = MakeDp({.mode = DpMode::kCentral,
                    .clip_norm = 0.1,
                    .noise_multiplier = 1.0,
                    .adaptive_quantile = 0.5,
                    .adaptive_count_stddev = 1.0,
                    .seed = 5});
  // Every client's norm is 3 >> C: the clip norm must grow round after round.
  double prev = dp->clip_norm();
  for (int r = 1; r <= 5; ++r) {
    std::vector<FitResult> results;
    for (int i = 0; i < 20; ++i) results.push_back(MakeFitResult(i, {3.0f}, 1));
    ASSERT_TRUE(Round(*dp, r, Vec({0}), results, 20).ok());
    EXPECT_GT(dp->clip_norm(), prev);
    prev = dp->clip_norm();
  }
}

// Across tiers the clients of the root are edges: each folds its own clients as DP does and
// reports the clients it planned and had (fedra/fl/tiers.h). Adds one edge's folded sums to
// the root's, as the round driver merges them.
void MergeEdge(UpdateAccumulator& acc, const Parameters& update_sum, double folded, double planned,
               double available) {
  acc.Add("update", 1.0f, update_sum);
  acc.AddScalar("weight", folded);
  acc.AddScalar(kTierPlannedScalar, planned);
  acc.AddScalar(kTierAvailableScalar, available);
}

TEST(DpStrategyTest, AcrossTiersEdgesClipAndTheRootDividesByTheirClients) {
  auto dp = MakeDp({.mode = DpMode::kCentral,
                    .clip_norm = 1.0,
                    .noise_multiplier = 1e-7,
                    .across_tiers = true,
                    .seed = 1},
                   0.5);
  Rng rng(1);
  auto plan = dp->ConfigureFit(1, Vec({0, 0}), Clients(4), rng);
  ASSERT_TRUE(plan.ok());
  ASSERT_EQ(plan->tasks.size(), 2u);  // half of the 4 edges
  for (const FitTask& t : plan->tasks) {
    EXPECT_FLOAT_EQ(t.config.clip_norm, 1.0f);  // the edges clip (and tell their clients to)
    EXPECT_EQ(t.config.noise_stddev, 0.0f);
    EXPECT_EQ(std::get<std::string>(t.config.extra.at(kDpTierModeKey)), "central");
  }
  // Edge A folded 2 of the 3 clients it planned (1 failed) among 6; edge B 1 of 1 among 10.
  UpdateAccumulator acc;
  MergeEdge(acc, Vec({0.9f, 0.8f}), 2, 3, 6);
  MergeEdge(acc, Vec({0.0f, 0.5f}), 1, 1, 10);
  auto next = dp->AggregateFit(1, Vec({0, 0}), {.sums = &acc, .num_results = 2});
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_NEAR(Values(*next)[0], 0.9 / 4, 1e-5);  // over the 4 clients planned, not 2 edges
  EXPECT_NEAR(Values(*next)[1], 1.3 / 4, 1e-5);
}

// q bounds the rate of the most sampled client. When every available edge was asked and
// answered, that is the largest share of its clients an edge asked (the driver's
// AggregateInput::max_tier_rate); otherwise clients of an edge not heard from may have been
// sampled at any rate up to the edge rate, which bounds them all.
TEST(DpStrategyTest, AcrossTiersAccountsAtTheLargestEdgeShareOnlyWhenEveryEdgeAnswered) {
  const auto epsilon_at = [](double q) {
    return *dp::RdpEpsilon({.noise_multiplier = 1.2, .sampling_rate = q, .steps = 1}, 1e-5);
  };
  const auto run = [](double fraction, size_t edges, size_t failures, double max_rate) {
    auto dp =
        MakeDp({.mode = DpMode::kCentral, .noise_multiplier = 1.2, .across_tiers = true, .seed = 1},
               fraction);
    Rng rng(1);
    EXPECT_TRUE(dp->ConfigureFit(1, Vec({0}), Clients(edges), rng).ok());
    UpdateAccumulator acc;
    MergeEdge(acc, Vec({0.1f}), 3, 3, 6);
    MergeEdge(acc, Vec({0.1f}), 1, 1, 10);
    EXPECT_TRUE(
        dp->AggregateFit(
              1, Vec({0}),
              {.sums = &acc, .num_results = 2, .num_failures = failures, .max_tier_rate = max_rate})
            .ok());
    return dp->epsilon_spent();
  };
  EXPECT_NEAR(run(1.0, 2, 0, 0.5), epsilon_at(0.5), 1e-9);  // 3 of 6 at edge A
  EXPECT_NEAR(run(1.0, 3, 1, 0.5), epsilon_at(1.0), 1e-9);  // a third edge failed
  EXPECT_NEAR(run(0.5, 4, 0, 0.2), epsilon_at(0.5), 1e-9);  // 2 of 4 edges asked
  EXPECT_LT(epsilon_at(0.5), epsilon_at(1.0));
}

TEST(DpStrategyTest, AcrossTiersEdgesShareTheDistributedNoiseAndTheRootTopsUpFailedEdges) {
  auto dp = MakeDp({.mode = DpMode::kDistributed,
                    .clip_norm = 2.0,
                    .noise_multiplier = 1.5,
                    .across_tiers = true,
                    .seed = 5});
  Parameters zero;
  zero.Add("w", {40000});
  Rng rng(1);
  auto plan = dp->ConfigureFit(1, zero, Clients(4), rng);
  ASSERT_TRUE(plan.ok());
  // Each of the 4 edges gets a quarter of the variance (z C)^2, to split over its clients.
  EXPECT_FLOAT_EQ(plan->tasks[0].config.noise_stddev, 1.5f * 2.0f / 2.0f);
  EXPECT_EQ(std::get<std::string>(plan->tasks[0].config.extra.at(kDpTierModeKey)), "distributed");
  // One of the four edges answered (5 clients of its 5): the root adds the 3 missing shares.
  UpdateAccumulator acc;
  MergeEdge(acc, zero, 5, 5, 10);
  auto next = dp->AggregateFit(1, zero, {.sums = &acc, .num_results = 1, .num_failures = 3});
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  double sq = 0;
  for (float v : Values(*next)) sq += double(v) * v;
  EXPECT_NEAR(std::sqrt(sq / 40000), std::sqrt(0.75) * 3.0 / 5, 0.01);  // over its 5 clients
}

TEST(DpStrategyTest, AcrossTiersImpossibleCountsLeaveTheModelAlone) {
  auto dp = MakeDp({.mode = DpMode::kCentral, .noise_multiplier = 1.0, .across_tiers = true});
  Rng rng(1);
  ASSERT_TRUE(dp->ConfigureFit(1, Vec({0}), Clients(1), rng).ok());
  UpdateAccumulator more_than_planned, no_counts;
  MergeEdge(more_than_planned, Vec({0.5f}), 7, 2, 10);
  no_counts.Add("update", 1.0f, Vec({0.5f}));
  no_counts.AddScalar("weight", 1);
  for (const UpdateAccumulator* sums : {&more_than_planned, &no_counts}) {
    auto next = dp->AggregateFit(1, Vec({0}), {.sums = sums, .num_results = 1});
    EXPECT_EQ(next.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_NE(next.status().message().find("clients planned"), std::string::npos);
  }
  EXPECT_EQ(dp->rounds_accounted(), 0);
  EXPECT_NE(
      NewDpStrategy(*NewFedAvg({}),
                    {.mode = DpMode::kCentral, .adaptive_quantile = 0.5, .across_tiers = true})
          .status()
          .message()
          .find("across tiers"),
      std::string::npos);
}

}  // namespace
}  // namespace fedra
