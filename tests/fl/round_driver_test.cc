#include "fedra/fl/round_driver.h"

#include <gtest/gtest.h>
#include <malloc.h>

#include <cmath>
#include <deque>
#include <limits>
#include <numbers>

#include "fedra/fl/fed_avg.h"
#include "fedra/fl/fed_median.h"
#include "fedra/fl/tiers.h"
#include "testing/fl_fixtures.h"

namespace fedra {
namespace {

using testing::MakeFitResult;
using testing::Values;
using testing::Vec;

// A result with train_loss = 1.
FitResult Result(ClientId c, Parameters update, size_t n) {
  FitResult r = MakeFitResult(c, std::move(update), n);
  r.train_loss = 1.0;
  return r;
}

// A pool whose clients return whatever the test scripted, keyed by client id.
class ScriptedPool final : public ClientPool {
 public:
  std::map<ClientId, StatusOr<FitResult>> script;
  std::vector<ClientId> AvailableClients() override {
    std::vector<ClientId> ids;
    for (const auto& [id, r] : script) ids.push_back(id);
    return ids;
  }
  std::vector<float> learning_rates;  // of every task, in the order sent
  void RunFit(const Parameters&, const RoundPlan& plan, const FitCallback& on_result) override {
    for (const FitTask& t : plan.tasks) learning_rates.push_back(t.config.learning_rate);
    for (size_t i = 0; i < plan.tasks.size(); ++i) on_result(i, script.at(plan.tasks[i].client));
  }
  void RunEvaluate(const Parameters&, std::span<const EvaluateTask> tasks,
                   const EvaluateCallback& cb) override {
    for (size_t i = 0; i < tasks.size(); ++i) {
      cb(i, EvaluateResult{.client = tasks[i].client,
                           .num_examples = tasks[i].client + 1,
                           .loss = 1.0 * static_cast<double>(tasks[i].client),
                           .accuracy = 0.5});
    }
  }
  bool deterministic_order() const override { return true; }
};

std::unique_ptr<Strategy> FedAvgAll() {
  return *NewFedAvg({.sampling = {.fraction_evaluate = 0.0}});
}

TEST(RoundDriverTest, BadResultsAreCountedAndNeverAggregated) {
  ScriptedPool pool;
  pool.script.emplace(0, Result(0, Vec({1, 2}), 1));
  pool.script.emplace(1, Result(1, Vec({5, 6}), 3));
  pool.script.emplace(2, Result(2, Vec({NAN, 0}), 100));        // NaN update
  pool.script.emplace(3, Result(3, Vec({1, 1, 1}), 100));       // wrong shape
  pool.script.emplace(4, UnavailableError("connection lost"));  // transport failure
  pool.script.emplace(5, Result(5, Vec({9, 9}), 0));            // zero examples
  pool.script.emplace(6, Result(99, Vec({9, 9}), 100));         // answers for another client
  auto strategy = FedAvgAll();
  RoundMetrics seen;
  RoundDriver driver(*strategy, pool,
                     {.num_rounds = 1,
                      .max_failure_fraction = 0.9,
                      .on_round_end = [&](const RoundMetrics& m) { seen = m; },
                      .influence = {.enabled = false}});
  Parameters global = Vec({10, 10});
  RoundMetrics m = driver.RunRound(1, global);
  EXPECT_TRUE(m.aggregated) << m.error;
  EXPECT_EQ(m.fit_clients, 7u);
  EXPECT_EQ(m.fit_failures, 5u);
  // Only clients 0 and 1: global + (1 * {1,2} + 3 * {5,6}) / 4 = {10 + 4, 10 + 5}.
  EXPECT_FLOAT_EQ(global.data()[0], 14.0f);
  EXPECT_FLOAT_EQ(global.data()[1], 15.0f);
  EXPECT_EQ(seen.round, 1);
  EXPECT_EQ(m.bytes_down, 7u * 8u);
  EXPECT_EQ(m.bytes_up, 2u * 8u);
}

// A client that reports other step counts than the round asked for (one that predates
// local_steps trains whole epochs) is a failure; a result without a count (secure rounds) is not.
TEST(RoundDriverTest, ResultsOfOtherLocalStepCountsAreRefused) {
  ScriptedPool pool;
  FitResult asked = Result(0, Vec({1, 1}), 1), epochs = Result(1, Vec({7, 7}), 1),
            unreported = Result(2, Vec({3, 3}), 2);
  asked.local_steps = 2;
  epochs.local_steps = 40;
  unreported.local_steps = 0;
  pool.script.emplace(0, asked);
  pool.script.emplace(1, epochs);
  pool.script.emplace(2, unreported);
  auto strategy = *NewFedAvg({.sampling = {.fraction_evaluate = 0.0}, .fit = {.local_steps = 2}});
  RoundDriver driver(
      *strategy, pool,
      {.num_rounds = 1, .max_failure_fraction = 0.5, .influence = {.enabled = false}});
  Parameters global = Vec({0, 0});
  RoundMetrics m = driver.RunRound(1, global);
  EXPECT_TRUE(m.aggregated) << m.error;
  EXPECT_EQ(m.fit_failures, 1u);
  EXPECT_FLOAT_EQ(global.data()[0], (1.0f + 2 * 3.0f) / 3);  // clients 0 and 2 only
}

// A linear decay over 4 rounds sends lr x 1, 3/4, 1/2, 1/4; cosine x (1 + cos(pi r / 4)) / 2.
TEST(RoundDriverTest, ClientLearningRateDecaysOverTheRounds) {
  for (auto decay : {LrSchedule::Decay::kLinear, LrSchedule::Decay::kCosine}) {
    ScriptedPool pool;
    pool.script.emplace(0, Result(0, Vec({1}), 1));
    auto strategy =
        *NewFedAvg({.sampling = {.fraction_evaluate = 0.0}, .fit = {.learning_rate = 0.2f}});
    RoundDriver driver(
        *strategy, pool,
        {.num_rounds = 4, .influence = {.enabled = false}, .client_lr_decay = decay});
    Parameters global = Vec({0});
    for (int r = 3; r <= 4; ++r) driver.RunRound(r, global);  // as a run resumed at round 3
    for (int r = 1; r <= 2; ++r) driver.RunRound(r, global);
    ASSERT_EQ(pool.learning_rates.size(), 4u);
    for (int r = 1; r <= 4; ++r) {
      const double f = decay == LrSchedule::Decay::kLinear
                           ? 1 - (r - 1) / 4.0
                           : (1 + std::cos(std::numbers::pi * (r - 1) / 4.0)) / 2;
      EXPECT_NEAR(pool.learning_rates[(r + 1) % 4], 0.2 * f, 1e-7) << "round " << r;
    }
  }
}

TEST(RoundDriverTest, TooManyFailuresLeaveTheModelUnchanged) {
  ScriptedPool pool;
  pool.script.emplace(0, Result(0, Vec({1, 2}), 1));
  pool.script.emplace(1, InternalError("boom"));
  pool.script.emplace(2, InternalError("boom"));
  auto strategy = FedAvgAll();
  RoundDriver driver(*strategy, pool, {.num_rounds = 1, .max_failure_fraction = 0.5});
  Parameters global = Vec({10, 10});
  RoundMetrics m = driver.RunRound(1, global);
  EXPECT_FALSE(m.aggregated);
  EXPECT_NE(m.error.find("2 of 3"), std::string::npos) << m.error;
  EXPECT_EQ(global.data()[0], 10.0f);
}

TEST(RoundDriverTest, RunStopsWhenTooFewClientsAreAvailable) {
  ScriptedPool pool;
  pool.script.emplace(0, Result(0, Vec({1}), 1));
  auto strategy = *NewFedAvg({.sampling = {.min_fit_clients = 2}});
  RoundDriver driver(*strategy, pool, {.num_rounds = 3});
  auto out = driver.Run(Vec({0}));
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("1 clients available"), std::string::npos)
      << out.status().ToString();
}

// FedAvg that ends the run (ResourceExhausted) when asked to plan round `last + 1`.
class StopAfter final : public Strategy {
 public:
  explicit StopAfter(int last) : inner_(FedAvgAll()), last_(last) {}
  std::string Name() const override { return "stop-after"; }
  AggregationMode mode() const override { return inner_->mode(); }
  StatusOr<RoundPlan> ConfigureFit(int round, const Parameters& g, std::span<const ClientId> a,
                                   Rng& rng) override {
    if (round > last_) return ResourceExhaustedError("budget spent");
    return inner_->ConfigureFit(round, g, a, rng);
  }
  StatusOr<Parameters> AggregateFit(int round, const Parameters& g,
                                    const AggregateInput& in) override {
    return inner_->AggregateFit(round, g, in);
  }
  StatusOr<std::vector<EvaluateTask>> ConfigureEvaluate(int round, const Parameters& g,
                                                        std::span<const ClientId> a,
                                                        Rng& rng) override {
    return inner_->ConfigureEvaluate(round, g, a, rng);
  }

 private:
  std::unique_ptr<Strategy> inner_;
  int last_;
};

TEST(RoundDriverTest, AStrategyThatEndsTheRunEndsItWithTheModelSoFar) {
  ScriptedPool pool;
  pool.script.emplace(0, Result(0, Vec({1}), 1));
  StopAfter strategy(2);
  int callbacks = 0;
  RoundDriver driver(strategy, pool,
                     {.num_rounds = 5, .on_round_end = [&](const RoundMetrics&) { ++callbacks; }});
  auto out = driver.Run(Vec({0}));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->data()[0], 2.0f);  // two rounds of +1, then the stop
  EXPECT_EQ(callbacks, 2);
  Parameters g = Vec({0});
  RoundMetrics m = driver.RunRound(3, g);
  EXPECT_TRUE(m.stop);
  EXPECT_NE(m.error.find("budget spent"), std::string::npos);
}

TEST(RoundDriverTest, FederatedAndServerEvaluation) {
  ScriptedPool pool;
  for (ClientId c = 0; c < 3; ++c) pool.script.emplace(c, Result(c, Vec({0}), 1));
  auto strategy = *NewFedAvg({.sampling = {.fraction_evaluate = 1.0}});
  int server_calls = 0;
  RoundDriver driver(*strategy, pool,
                     {.num_rounds = 1, .server_evaluate = [&](int, const Parameters&) {
                        ++server_calls;
                        return StatusOr<EvaluateResult>(
                            EvaluateResult{.num_examples = 7, .loss = 0.25, .accuracy = 0.75});
                      }});
  Parameters global = Vec({0});
  RoundMetrics m = driver.RunRound(1, global);
  EXPECT_EQ(m.eval_clients, 3u);
  // Clients 0, 1, 2 report losses 0, 1, 2 on 1, 2, 3 examples: (0 + 2 + 6) / 6.
  EXPECT_DOUBLE_EQ(m.eval_loss, 8.0 / 6.0);
  EXPECT_EQ(server_calls, 1);
  EXPECT_DOUBLE_EQ(*m.server_eval_accuracy, 0.75);
}

// Heap bytes in use, counting large blocks that malloc maps on their own.
size_t HeapInUse() {
  const struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd;
}

// A pool that makes each update on demand, so nothing but the driver can hold results, and
// records how many heap bytes are in use after each result is handed over.
class StreamingPool final : public ClientPool {
 public:
  StreamingPool(size_t clients, size_t params) : clients_(clients), params_(params) {}
  size_t peak_bytes = 0;
  std::vector<ClientId> AvailableClients() override {
    std::vector<ClientId> ids(clients_);
    for (size_t i = 0; i < clients_; ++i) ids[i] = i;
    return ids;
  }
  void RunFit(const Parameters&, const RoundPlan& plan, const FitCallback& on_result) override {
    for (size_t i = 0; i < plan.tasks.size(); ++i) {
      FitResult r = Result(plan.tasks[i].client, Parameters(), 1);
      r.update.Add("w", {static_cast<int64_t>(params_)});
      r.update.Flat().setConstant(static_cast<float>(i % 7));
      on_result(i, std::move(r));
      peak_bytes = std::max(peak_bytes, HeapInUse());
    }
  }
  void RunEvaluate(const Parameters&, std::span<const EvaluateTask>,
                   const EvaluateCallback&) override {}
  bool deterministic_order() const override { return true; }

 private:
  size_t clients_, params_;
};

// GCC says __SANITIZE_ADDRESS__, clang __has_feature(address_sanitizer).
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FEDRA_TEST_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(FEDRA_TEST_ASAN)
constexpr bool kPlainMalloc = false;
#else
constexpr bool kPlainMalloc = true;
#endif

size_t PeakGrowth(Strategy& strategy, size_t clients, size_t params,
                  InfluenceBoundOptions influence = {.enabled = false}) {
  StreamingPool pool(clients, params);
  Parameters global;
  global.Add("w", {static_cast<int64_t>(params)});
  const size_t before = HeapInUse();
  RoundDriver driver(strategy, pool,
                     {.num_rounds = 1, .evaluate_every = 0, .influence = influence});
  EXPECT_TRUE(driver.RunRound(1, global).aggregated);
  return pool.peak_bytes > before ? pool.peak_bytes - before : 0;
}

TEST(RoundDriverTest, SumStrategiesStreamIndividualStrategiesHoldEveryUpdate) {
  if (!kPlainMalloc) GTEST_SKIP() << "heap accounting is not meaningful under ASan";
  const size_t clients = 200, params = 50000, update_bytes = params * sizeof(float);
  auto fedavg = FedAvgAll();
  // FedAvg: between results only the running sum, whatever the number of clients (a fold
  // checks in place: no spare buffer).
  EXPECT_LT(PeakGrowth(*fedavg, clients, params), update_bytes * 3 / 2);
  // The influence bound's first round holds 8 results to calibrate: in memory by default...
  const InfluenceBoundOptions bound;
  EXPECT_GT(PeakGrowth(*fedavg, clients, params, bound), 6 * update_bytes);
  // ... and in a temporary file beyond its memory budget, here none.
  InfluenceBoundOptions spill = bound;
  spill.calibration_memory_bytes = 0;
  EXPECT_LT(PeakGrowth(*fedavg, clients, params, spill), update_bytes * 3 / 2);
  // FedMedian keeps all 200 (which shows that the measurement sees retained updates).
  auto median = *NewFedMedian({.sampling = {.fraction_evaluate = 0.0}});
  EXPECT_GT(PeakGrowth(*median, clients, params), 150 * update_bytes);
}

// Held results that wait on disk come back with the same bits: the round's model is the same
// whatever the calibration memory.
TEST(RoundDriverTest, SpilledCalibrationResultsGiveTheSameModel) {
  auto run = [](size_t memory) {
    StreamingPool pool(20, 3000);
    Parameters global;
    global.Add("w", {3000});
    auto strategy = FedAvgAll();
    InfluenceBoundOptions bound;
    bound.calibration_memory_bytes = memory;
    RoundDriver driver(*strategy, pool, {.num_rounds = 1, .evaluate_every = 0, .influence = bound});
    EXPECT_TRUE(driver.RunRound(1, global).aggregated);
    return global;
  };
  const Parameters in_memory = run(size_t{1} << 30), some = run(3 * 3000 * 4), none = run(0);
  EXPECT_GT(in_memory.L2Norm(), 0.0);
  EXPECT_EQ(some.Flat(), in_memory.Flat());
  EXPECT_EQ(none.Flat(), in_memory.Flat());
}

// A StreamingPool that, like the gRPC server, makes each next update in the memory the
// driver gave back (ClientPool::Recycle) when there is some.
class RecyclingPool final : public ClientPool {
 public:
  RecyclingPool(size_t clients, size_t params) : clients_(clients), params_(params) {}
  size_t recycled = 0, reused = 0, taken_back = 0, recycled_after_fit = 0;
  std::vector<ClientId> AvailableClients() override {
    std::vector<ClientId> ids(clients_);
    for (size_t i = 0; i < clients_; ++i) ids[i] = i;
    return ids;
  }
  void RunFit(const Parameters&, const RoundPlan& plan, const FitCallback& on_result) override {
    in_fit_ = true;
    for (size_t i = 0; i < plan.tasks.size(); ++i) {
      FitResult r = Result(plan.tasks[i].client, std::exchange(spare_, Parameters()), 1);
      if (r.update.size() == params_) {
        ++reused;
      } else {
        r.update = Parameters();
        r.update.Add("w", {static_cast<int64_t>(params_)});
      }
      r.update.Flat().setConstant(static_cast<float>(i % 7));
      on_result(i, std::move(r));
    }
    spare_ = Parameters();  // as the server does: no spare beside the aggregation
    in_fit_ = false;
  }
  void Recycle(Parameters&& done) override {
    if (done.size() == 0) return;
    ++recycled;
    if (!in_fit_) ++recycled_after_fit;
    spare_ = std::move(done);
  }
  Parameters TakeRecycled() override {
    if (spare_.size() > 0) ++taken_back;
    return std::exchange(spare_, Parameters());
  }
  void RunEvaluate(const Parameters&, std::span<const EvaluateTask>,
                   const EvaluateCallback&) override {}
  bool deterministic_order() const override { return true; }

 private:
  size_t clients_, params_;
  Parameters spare_;
  bool in_fit_ = false;
};

// The driver gives every folded (or spilled) update back to the pool, and takes the pool's
// spare to read held results back into; the model is the one of a pool that never reuses.
TEST(RoundDriverTest, UpdatesGoBackToThePoolForReuseWithoutChangingTheModel) {
  for (const size_t memory : {size_t{1} << 30, size_t{0}}) {
    InfluenceBoundOptions bound;
    bound.calibration_memory_bytes = memory;
    auto run = [&](ClientPool& pool) {
      Parameters global;
      global.Add("w", {3000});
      auto strategy = FedAvgAll();
      RoundDriver driver(*strategy, pool,
                         {.num_rounds = 1, .evaluate_every = 0, .influence = bound});
      EXPECT_TRUE(driver.RunRound(1, global).aggregated);
      return global;
    };
    StreamingPool fresh(20, 3000);
    RecyclingPool reusing(20, 3000);
    EXPECT_EQ(run(reusing).Flat(), run(fresh).Flat());
    if (memory > 0) {  // the 8 held results stay in memory; the other 12 are folded at once
      EXPECT_EQ(reusing.recycled, 13u);  // 12 folded and, after the release, the last held
      EXPECT_EQ(reusing.taken_back, 0u);
    } else {  // each held result is spilled and its memory given back at once
      EXPECT_EQ(reusing.recycled, 8u + 1 + 12);
      EXPECT_EQ(reusing.taken_back, 1u);  // the release reads the 8 back into it
    }
    EXPECT_GE(reusing.reused, 11u);
    EXPECT_EQ(reusing.recycled_after_fit, 0u);
  }
  // Fewer results than the bound calibrates on: they are released after the fit, when the
  // pool must not be handed memory to keep through the aggregation.
  InfluenceBoundOptions spill;
  spill.calibration_memory_bytes = 0;
  RecyclingPool few(5, 3000);
  Parameters global;
  global.Add("w", {3000});
  auto strategy = FedAvgAll();
  RoundDriver driver(*strategy, few, {.num_rounds = 1, .evaluate_every = 0, .influence = spill});
  EXPECT_TRUE(driver.RunRound(1, global).aggregated);
  EXPECT_EQ(few.recycled, 5u);  // the spilled ones, during the fit
  EXPECT_EQ(few.recycled_after_fit, 0u);
}

// One client of five claims 2^64 - 1 examples and sends values of 1e6: without the bound the
// next model is the attacker's; with the defaults (count <= 2 x median, norm <= median) it
// weighs two typical clients and moves the model one typical norm. The first round holds its
// results to find the medians; the second bounds as results arrive, from round 1's medians.
TEST(RoundDriverTest, OneClientCannotTakeOverTheModelWithTheDefaultInfluenceBound) {
  ScriptedPool pool;
  for (ClientId c = 0; c < 4; ++c) pool.script.emplace(c, Result(c, Vec({1, 1}), 100));
  pool.script.emplace(4, Result(4, Vec({-1e6f, 1e6f}), std::numeric_limits<size_t>::max()));
  auto strategy = FedAvgAll();

  RoundDriver unbounded(*strategy, pool, {.num_rounds = 1, .influence = {.enabled = false}});
  Parameters taken = Vec({0, 0});
  ASSERT_TRUE(unbounded.RunRound(1, taken).aggregated);
  EXPECT_LT(taken.data()[0], -9e5f);  // the attacker's model, give or take

  RoundDriver driver(*strategy, pool, {.num_rounds = 2});
  Parameters global = Vec({0, 0});
  for (int round = 1; round <= 2; ++round) {
    const Parameters before = global;
    RoundMetrics m = driver.RunRound(round, global);
    ASSERT_TRUE(m.aggregated) << m.error;
    EXPECT_EQ(m.extras["influence_weight_capped"], 1);
    EXPECT_EQ(m.extras["influence_norm_clipped"], 1);
    // Attacker: weight 200, update (-1, 1) (norm sqrt 2, the median).
    // (400 * (1, 1) + 200 * (-1, 1)) / 600 = (1/3, 1).
    EXPECT_NEAR(global.data()[0] - before.data()[0], 1.0 / 3, 1e-6);
    EXPECT_NEAR(global.data()[1] - before.data()[1], 1.0, 1e-6);
  }
}

// The first round's medians come from the first `calibration_results` results only; the
// rest of the round is bounded by them as it arrives.
TEST(RoundDriverTest, TheFirstRoundCalibratesOnItsFirstResults) {
  ScriptedPool pool;
  pool.script.emplace(0, Result(0, Vec({1, 0}), 10));
  pool.script.emplace(1, Result(1, Vec({3, 0}), 30));
  pool.script.emplace(2, Result(2, Vec({100, 0}), 1000));  // after calibration: bounded
  auto strategy = FedAvgAll();
  RoundDriver driver(*strategy, pool, {.num_rounds = 1, .influence = {.calibration_results = 2}});
  Parameters global = Vec({0, 0});
  RoundMetrics m = driver.RunRound(1, global);
  ASSERT_TRUE(m.aggregated) << m.error;
  // Medians of clients 0 and 1: 20 examples, norm 2. Client 1's update becomes (2, 0);
  // client 2's weight 40 and update (2, 0). (10 * 1 + 30 * 2 + 40 * 2) / 80 = 1.875.
  EXPECT_NEAR(global.data()[0], 1.875, 1e-6);
  EXPECT_EQ(m.extras["influence_weight_capped"], 1);
  EXPECT_EQ(m.extras["influence_norm_clipped"], 2);
}

}  // namespace
}  // namespace fedra

namespace fedra {
namespace {

using testing::Values;

// An aggregator's result: FedAvg's fold over `members` (as an edge computes it).
FitResult Folded(ClientId c, const std::vector<FitResult>& members) {
  FitResult r;
  r.client = c;
  r.folded.emplace();
  double loss = 0;
  for (const FitResult& m : members) {
    EXPECT_TRUE(FoldSpec::FedAvg().Apply(m, *r.folded).ok());
    r.num_examples += m.num_examples;
    loss += m.train_loss * static_cast<double>(m.num_examples);
  }
  r.train_loss = loss / static_cast<double>(r.num_examples);
  return r;
}

// Two edges of two clients each give the model of the four clients folded flat, and an edge
// does not count against the influence bound's weight cap although it carries many examples.
TEST(RoundDriverTest, FoldedSumsOfAggregatorsEqualTheFlatFold) {
  const std::vector<FitResult> members = {Result(10, Vec({1, 2}), 1), Result(11, Vec({5, 6}), 3),
                                          Result(12, Vec({-2, 0}), 2), Result(13, Vec({4, 4}), 4)};
  ScriptedPool flat, tiers;
  for (const FitResult& m : members) flat.script.emplace(m.client, m);
  tiers.script.emplace(0, Folded(0, {members[0], members[1]}));
  tiers.script.emplace(1, Folded(1, {members[2], members[3]}));
  auto s1 = FedAvgAll(), s2 = FedAvgAll();
  RoundDriver d1(*s1, flat, {.num_rounds = 1, .influence = {.enabled = false}});
  RoundDriver d2(*s2, tiers, {.num_rounds = 1});  // the bound on: edges are not capped
  Parameters g1 = Vec({10, 10}), g2 = Vec({10, 10});
  const RoundMetrics m1 = d1.RunRound(1, g1), m2 = d2.RunRound(1, g2);
  ASSERT_TRUE(m1.aggregated && m2.aggregated) << m1.error << m2.error;
  EXPECT_FLOAT_EQ(g2.data()[0], g1.data()[0]);
  EXPECT_FLOAT_EQ(g2.data()[1], g1.data()[1]);
  EXPECT_DOUBLE_EQ(m2.train_loss, m1.train_loss);
  EXPECT_EQ(m2.fit_failures, 0u);
}

// FedAvg that keeps the AggregateInput::max_tier_rate it was given.
class RateProbe final : public Strategy {
 public:
  double seen = -1;
  std::string Name() const override { return "rate-probe"; }
  AggregationMode mode() const override { return AggregationMode::kWeightedSum; }
  StatusOr<RoundPlan> ConfigureFit(int, const Parameters&, std::span<const ClientId> available,
                                   Rng& rng) override {
    return PlanFitRound({}, {}, available, rng);
  }
  StatusOr<Parameters> AggregateFit(int, const Parameters& global,
                                    const AggregateInput& in) override {
    seen = in.max_tier_rate;
    return global;
  }
  StatusOr<std::vector<EvaluateTask>> ConfigureEvaluate(int, const Parameters&,
                                                        std::span<const ClientId>, Rng&) override {
    return std::vector<EvaluateTask>{};
  }
};

// Each aggregator says which share of its connected clients it asked (fedra/fl/tiers.h); the
// strategy hears the largest, and 1 once a client of the server itself took part.
TEST(RoundDriverTest, AggregateFitHearsTheLargestShareAnAggregatorAsked) {
  const std::vector<FitResult> members = {Result(10, Vec({1, 2}), 1), Result(11, Vec({5, 6}), 3)};
  auto edge = [&](ClientId c, double planned, double available) {
    FitResult r = Folded(c, {members[0]});
    r.folded->AddScalar(kTierPlannedScalar, planned);
    r.folded->AddScalar(kTierAvailableScalar, available);
    return r;
  };
  ScriptedPool edges;
  edges.script.emplace(0, edge(0, 2, 8));
  edges.script.emplace(1, edge(1, 3, 4));
  RateProbe probe;
  RoundDriver driver(probe, edges, {.num_rounds = 1, .evaluate_every = 0});
  Parameters global = Vec({0, 0});
  ASSERT_TRUE(driver.RunRound(1, global).aggregated);
  EXPECT_DOUBLE_EQ(probe.seen, 0.75);
  edges.script.emplace(2, Result(2, Vec({5, 6}), 3));  // a client of the root itself: rate 1
  ASSERT_TRUE(driver.RunRound(2, global).aggregated);
  EXPECT_DOUBLE_EQ(probe.seen, 1.0);
}

// What a hostile aggregator can send is refused and never reaches the model: sums the strategy
// does not fold, scalars it does not fold, NaN sums, sums of another layout, folded sums plus an
// update, a missing sum, a negative weight; and a strategy that needs every update refuses
// folded sums altogether.
TEST(RoundDriverTest, BadFoldedSumsAreRefused) {
  const FitResult good = Folded(0, {Result(10, Vec({1, 1}), 2)});
  std::vector<FitResult> bad(7, good);
  bad[0].folded->Add("other", 1, Vec({1, 1}));
  bad[1].folded->AddScalar("dp.below", 3);
  bad[2].folded = UpdateAccumulator();
  bad[2].folded->Add("update", 1, Vec({NAN, 1}));
  bad[2].folded->AddScalar("weight", 2);
  bad[3].folded = UpdateAccumulator();
  bad[3].folded->Add("update", 1, Vec({1, 1, 1}));
  bad[4].update = Vec({1, 1});
  bad[5].folded = UpdateAccumulator();  // the weight without the sum it weighs
  bad[5].folded->AddScalar("weight", 2);
  bad[6].folded->AddScalar("weight", -4);  // a negative weight
  ScriptedPool pool;
  pool.script.emplace(0, good);
  for (size_t i = 0; i < bad.size(); ++i) {
    bad[i].client = i + 1;
    pool.script.emplace(i + 1, bad[i]);
  }
  auto strategy = FedAvgAll();
  RoundDriver driver(
      *strategy, pool,
      {.num_rounds = 1, .max_failure_fraction = 0.9, .influence = {.enabled = false}});
  Parameters global = Vec({10, 10});
  const RoundMetrics m = driver.RunRound(1, global);
  ASSERT_TRUE(m.aggregated) << m.error;
  EXPECT_EQ(m.fit_failures, 7u);
  EXPECT_EQ(Values(global), std::vector<float>({11, 11}));  // the good edge's mean update only
  auto median = *NewFedMedian({.sampling = {.fraction_evaluate = 0.0}});
  ScriptedPool one;
  one.script.emplace(0, good);
  RoundDriver individual(*median, one, {.num_rounds = 1, .influence = {.enabled = false}});
  Parameters g = Vec({10, 10});
  EXPECT_FALSE(individual.RunRound(1, g).aggregated);
  EXPECT_EQ(Values(g), std::vector<float>({10, 10}));
}

// An edge's half of a round: the sums of its clients' fold, their examples and loss, without
// AggregateFit; too many failures fail it.
TEST(RoundDriverTest, FoldRoundReturnsTheSumsWithoutAggregating) {
  ScriptedPool pool;
  pool.script.emplace(0, Result(0, Vec({1, 2}), 1));
  pool.script.emplace(1, Result(1, Vec({5, 6}), 3));
  auto strategy = FedAvgAll();
  RoundDriver driver(*strategy, pool, {.influence = {.enabled = false}});
  RoundPlan plan{.round = 1, .tasks = {{.client = 0}, {.client = 1}}};
  RoundMetrics m;
  auto folded = driver.FoldRound(plan, Vec({0, 0}), m);
  ASSERT_TRUE(folded.ok()) << folded.status().ToString();
  EXPECT_EQ(folded->examples, 4u);
  EXPECT_EQ(Values(folded->sums.sum("update")), std::vector<float>({16, 20}));
  EXPECT_EQ(folded->sums.scalar("weight"), 4.0);
  EXPECT_EQ(m.fit_clients, 2u);
  pool.script.at(1) = UnavailableError("gone");
  pool.script.emplace(2, UnavailableError("gone"));
  plan.tasks.push_back({.client = 2});
  RoundMetrics failed;
  EXPECT_EQ(driver.FoldRound(plan, Vec({0, 0}), failed).status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace fedra
