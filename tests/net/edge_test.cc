// EdgeTrainer, an edge aggregator's side of a hierarchy, against a scripted pool of clients:
// what it sends its clients, the sums it folds (its strategy's, or DP's in a DP run across
// tiers), the client counts it reports up, and its evaluation.
#include "fedra/net/edge.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <vector>

#include "fedra/fl/fed_avg.h"
#include "fedra/fl/tiers.h"

namespace fedra {
namespace {

// Clients 1..n; client c answers with update c * (3, 4, 0, ...) over `examples` 10 c, or fails
// when listed in `failing`.
class FittingPool final : public ClientPool {
 public:
  FittingPool(size_t n, size_t size) : n_(n), size_(size) {}
  std::set<ClientId> failing;
  std::string secure;
  std::vector<FitTask> asked;
  std::vector<ClientId> AvailableClients() override {
    std::vector<ClientId> ids;
    for (size_t c = 1; c <= n_; ++c) ids.push_back(c);
    return ids;
  }
  void RunFit(const Parameters&, const RoundPlan& plan, const FitCallback& cb) override {
    for (size_t i = 0; i < plan.tasks.size(); ++i) {
      const ClientId c = plan.tasks[i].client;
      asked.push_back(plan.tasks[i]);
      if (failing.contains(c)) {
        cb(i, UnavailableError("gone"));
        continue;
      }
      FitResult r{.client = c, .num_examples = 10 * c};
      r.update.Add("w", {static_cast<int64_t>(size_)});
      r.update.span()[0] = 3.0f * static_cast<float>(c);
      if (size_ > 1) r.update.span()[1] = 4.0f * static_cast<float>(c);
      cb(i, std::move(r));
    }
  }
  void RunEvaluate(const Parameters&, std::span<const EvaluateTask>,
                   const EvaluateCallback&) override {}
  bool deterministic_order() const override { return true; }
  std::string secure_sum_name() const override { return secure; }

 private:
  size_t n_, size_;
};

Parameters Zeros(int64_t n) {
  Parameters p;
  p.Add("w", {n});
  return p;
}

EdgeOptions NoBound() {
  EdgeOptions o;
  o.driver.influence.enabled = false;
  return o;
}

// The FIT config of a DP run across tiers, as the root sends it.
FitConfig DpTask(const std::string& mode, float clip_norm, float noise_stddev = 0) {
  FitConfig config{.clip_norm = clip_norm, .noise_stddev = noise_stddev};
  config.extra[kDpTierModeKey] = mode;
  return config;
}

TEST(EdgeTrainerTest, APlainTaskFoldsWithTheEdgesStrategyAndReportsItsClientCounts) {
  FittingPool pool(6, 2);
  auto fedavg = *NewFedAvg({.sampling = {.fraction_fit = 0.5}});
  EdgeTrainer edge(*fedavg, pool, NoBound());
  Rng rng(1);
  auto r = edge.Fit(Zeros(2), {.learning_rate = 0.5f}, {}, rng);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(pool.asked.size(), 3u);  // half of 6
  double examples = 0, first = 0;
  for (const FitTask& t : pool.asked) {
    EXPECT_FLOAT_EQ(t.config.learning_rate, 0.5f);  // the upper server's settings
    examples += 10.0 * static_cast<double>(t.client);
    first += 10.0 * static_cast<double>(t.client) * 3.0 * static_cast<double>(t.client);
  }
  EXPECT_EQ(r->folded->scalar("weight"), examples);  // FedAvg's weights: the examples
  EXPECT_NEAR(r->folded->sum("update").span()[0], first, 1e-3);
  EXPECT_EQ(r->folded->scalar(kTierPlannedScalar), 3.0);
  EXPECT_EQ(r->folded->scalar(kTierAvailableScalar), 6.0);
  EXPECT_EQ(r->metrics.at("edge_clients"), 3.0);
}

TEST(EdgeTrainerTest, ACentralDpTaskClipsEveryClientAndWeighsItOne) {
  FittingPool pool(4, 2);
  pool.failing = {2};
  auto fedavg = *NewFedAvg({});
  EdgeTrainer edge(*fedavg, pool, NoBound());
  Rng rng(1);
  auto r = edge.Fit(Zeros(2), DpTask("central", 1.0f), {}, rng);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  for (const FitTask& t : pool.asked) EXPECT_FLOAT_EQ(t.config.clip_norm, 1.0f);
  // Clients 1, 3, 4 answered c (3, 4), each clipped to (0.6, 0.8), weight 1 whatever its data.
  EXPECT_EQ(r->folded->scalar("weight"), 3.0);
  EXPECT_NEAR(r->folded->sum("update").span()[0], 3 * 0.6, 1e-5);
  EXPECT_NEAR(r->folded->sum("update").span()[1], 3 * 0.8, 1e-5);
  EXPECT_EQ(r->folded->scalar(kTierPlannedScalar), 4.0);  // the failed client was planned
  EXPECT_EQ(r->metrics.at("edge_failures"), 1.0);
  // The next plain task folds with the strategy's weights again.
  pool.failing.clear();
  auto plain = edge.Fit(Zeros(2), {}, {}, rng);
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ(plain->folded->scalar("weight"), 100.0);  // 10 x (1 + 2 + 3 + 4)
}

TEST(EdgeTrainerTest, ADistributedDpTaskSplitsTheEdgesShareAndTopsUpFailedClients) {
  constexpr int64_t kSize = 40000;
  FittingPool pool(4, kSize);
  pool.failing = {1, 3};
  auto fedavg = *NewFedAvg({});
  EdgeTrainer edge(*fedavg, pool, NoBound());
  Rng rng(1);  // 2: the edge's share of the noise
  auto r = edge.Fit(Zeros(kSize), DpTask("distributed", 1e6f, 2.0f), {}, rng);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(pool.asked.size(), 4u);
  for (const FitTask& t : pool.asked) EXPECT_FLOAT_EQ(t.config.noise_stddev, 1.0f);  // 2 / sqrt 4
  // Clients 2 and 4 answered; the edge adds the two missing shares: variance 4 x 2 / 4.
  const auto sum = r->folded->sum("update").span();
  EXPECT_NEAR(sum[0], 3.0 * (2 + 4), 6.0);
  double sq = 0;
  for (int64_t i = 2; i < kSize; ++i) sq += double(sum[i]) * sum[i];
  EXPECT_NEAR(std::sqrt(sq / (kSize - 2)), std::sqrt(2.0), 0.02);
  EXPECT_EQ(r->folded->scalar("weight"), 2.0);
}

TEST(EdgeTrainerTest, DpTasksAreRefusedByASecureOrMiddleEdgeAndForUnknownModes) {
  FittingPool pool(4, 2);
  auto fedavg = *NewFedAvg({});
  EdgeTrainer edge(*fedavg, pool, NoBound());
  Rng rng(1);
  auto unknown = edge.Fit(Zeros(2), DpTask("global", 1.0f), {}, rng);
  EXPECT_EQ(unknown.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.status().message().find("unknown DP mode"), std::string::npos);
  pool.secure = "secagg";
  auto secure = edge.Fit(Zeros(2), DpTask("central", 1.0f), {}, rng);
  EXPECT_EQ(secure.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(secure.status().message().find("--secure-sum"), std::string::npos);
  pool.secure.clear();
  EXPECT_EQ(edge.Fit(Zeros(2), DpTask("central", 0.0f), {}, rng).status().code(),
            StatusCode::kInvalidArgument);  // no clip norm
  EdgeOptions middle = NoBound();
  middle.has_aggregators = true;  // a third tier below: its counts would mix clients and edges
  EdgeTrainer middle_edge(*fedavg, pool, middle);
  auto three = middle_edge.Fit(Zeros(2), DpTask("central", 1.0f), {}, rng);
  EXPECT_EQ(three.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(three.status().message().find("two tiers"), std::string::npos);
  EXPECT_TRUE(pool.asked.empty());  // no client was asked to train for a refused task
}

// An edge answers the upper server's evaluation with the clients its own strategy picks
// (--fraction-evaluate of its connected clients), weighted by their examples.
class EvaluatingPool final : public ClientPool {
 public:
  std::vector<ClientId> asked;
  std::vector<ClientId> AvailableClients() override { return {1, 2, 3, 4, 5, 6, 7, 8}; }
  void RunFit(const Parameters&, const RoundPlan&, const FitCallback&) override {}
  bool deterministic_order() const override { return true; }
  void RunEvaluate(const Parameters&, std::span<const EvaluateTask> tasks,
                   const EvaluateCallback& cb) override {
    for (size_t i = 0; i < tasks.size(); ++i) {
      asked.push_back(tasks[i].client);
      EXPECT_EQ(tasks[i].batch_size, 17);
      cb(i, EvaluateResult{.client = tasks[i].client,
                           .num_examples = 10 * tasks[i].client,
                           .loss = 1.0,
                           .accuracy = 0.1 * static_cast<double>(tasks[i].client)});
    }
  }
};

TEST(EdgeTrainerTest, EvaluationAsksTheClientsTheEdgesFractionPicks) {
  EvaluatingPool pool;
  auto strategy = *NewFedAvg({.sampling = {.fraction_evaluate = 0.5}});
  EdgeTrainer edge(*strategy, pool, {});
  Parameters global;
  global.Add("w", {2});
  auto r = edge.Evaluate(global, {.client = 99, .batch_size = 17});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(pool.asked.size(), 4u);  // half of 8
  double examples = 0, weighted = 0;
  for (ClientId c : pool.asked) {
    examples += 10.0 * static_cast<double>(c);
    weighted += 10.0 * static_cast<double>(c) * 0.1 * static_cast<double>(c);
  }
  EXPECT_EQ(r->num_examples, static_cast<size_t>(examples));
  EXPECT_NEAR(r->accuracy, weighted / examples, 1e-12);
  auto none = *NewFedAvg({.sampling = {.fraction_evaluate = 0.0}});
  EdgeTrainer silent(*none, pool, {});
  EXPECT_EQ(silent.Evaluate(global, {.client = 99}).status().code(),
            StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace fedra
