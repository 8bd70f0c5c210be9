#include "fedra/fl/federated_run.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "fedra/fl/federated_data.h"
#include "fedra/fl/simulation.h"
#include "fedra/fl/strategy_config.h"
#include "fedra/ml/model_zoo.h"
#include "testing/fl_fixtures.h"

namespace fedra {
namespace {

class FederatedRunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("federated_run_" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::remove_all(dir_);
    model_ = std::move(NewMlp({2}, 4, 3, {8})).value();
  }

  // A fresh simulation and SCAFFOLD strategy each time: what a restarted process has.
  struct Parts {
    std::unique_ptr<Strategy> strategy;
    std::unique_ptr<Simulation> sim;
  };
  Parts Make() {
    Rng rng(4);
    Dataset all = testing::FourBlobs(600, rng);
    auto clients =
        *PartitionClients(all, 6, {.kind = "dirichlet", .alpha = 0.3, .min_size = 5}, rng);
    StrategyConfig sc;
    sc.name = "scaffold";
    sc.base.fit = {.epochs = 1, .batch_size = 16, .learning_rate = 0.05f};
    sc.base.sampling = {.fraction_fit = 0.5, .fraction_evaluate = 0};
    return {*NewStrategy(sc), *Simulation::Create(*model_, NewSoftmaxCrossEntropy(),
                                                  std::move(clients), {.threads = 2, .seed = 9})};
  }

  FederatedRunOptions Options(const std::string& sub, Simulation& sim) {
    FederatedRunOptions o{.num_rounds = 4,
                          .run_dir = (dir_ / sub).string(),
                          .metrics_path = (dir_ / (sub + ".jsonl")).string(),
                          .fingerprint = "test run",
                          .run_id = "r",
                          .seed = 7};
    o.export_clients = [&sim] { return sim.ExportClientState(); };
    o.import_clients = [&sim](const auto& s) { return sim.ImportClientState(s); };
    return o;
  }

  // The simulation runs without the influence bound unless asked (bound_ = true: with it, its
  // reference travels in the checkpoint).
  RoundDriverOptions Driver() const {
    return {.influence = {.enabled = bound_, .calibration_results = 2}};
  }
  bool bound_ = false;

  void ExpectResumeEqualsStraightRun();

  std::filesystem::path dir_;
  std::unique_ptr<Model> model_;
};

size_t Lines(const std::filesystem::path& p) {
  std::ifstream in(p);
  size_t n = 0;
  for (std::string line; std::getline(in, line);) ++n;
  return n;
}

// Stopped after round 2 and opened again by a "new process", the run ends bit-identical to
// an uninterrupted one: model, SCAFFOLD's server and client control variates, sampling, and
// (second pass) the influence bound's reference.
TEST_F(FederatedRunTest, AResumedRunEqualsAnUninterruptedOne) {
  for (bool bound : {false, true}) {
    SCOPED_TRACE(bound ? "influence bound on" : "influence bound off");
    bound_ = bound;
    dir_ /= bound ? "bound" : "plain";
    ExpectResumeEqualsStraightRun();
    dir_ = dir_.parent_path();
  }
}

void FederatedRunTest::ExpectResumeEqualsStraightRun() {
  Parts a = Make();
  auto straight = FederatedRun::Open(Options("straight", *a.sim), model_->parameters());
  ASSERT_TRUE(straight.ok()) << straight.status().ToString();
  const Status done = straight->Run(*a.strategy, *a.sim, Driver());
  ASSERT_TRUE(done.ok()) << done.ToString();
  ASSERT_EQ(straight->history().size(), 4u);

  std::atomic<bool> stop{false};
  Parts b = Make();
  FederatedRunOptions o = Options("stopped", *b.sim);
  o.stop = &stop;
  o.on_round = [&](const RoundMetrics& m) { stop = m.round == 2; };
  auto first = FederatedRun::Open(o, model_->parameters());
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(first->Run(*b.strategy, *b.sim, Driver()).ok());
  EXPECT_TRUE(first->stopped_by_flag());
  EXPECT_EQ(first->history().size(), 2u);

  Parts c = Make();
  auto second = FederatedRun::Open(Options("stopped", *c.sim), model_->parameters());
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_TRUE(second->resumed());
  EXPECT_EQ(second->next_round(), 3);
  ASSERT_TRUE(second->Run(*c.strategy, *c.sim, Driver()).ok());
  ASSERT_EQ(second->history().size(), 4u);
  const Parameters& x = straight->global();
  const Parameters& y = second->global();
  ASSERT_TRUE(x.SameLayout(y));
  EXPECT_EQ(std::memcmp(x.data(), y.data(), x.num_bytes()), 0);
  EXPECT_EQ(second->history().back().train_loss, straight->history().back().train_loss);
  EXPECT_EQ(Lines(dir_ / "stopped.jsonl"), 4u);  // the log holds every round once
  if (bound_) {  // the bound acted after the restart, so a wrong reference would show
    double clipped = 0;
    for (const RoundMetrics& m : straight->history()) {
      if (m.round >= 3 && m.extras.contains("influence_norm_clipped")) {
        clipped += m.extras.at("influence_norm_clipped");
      }
    }
    EXPECT_GT(clipped, 0);
  }
}

TEST_F(FederatedRunTest, ACheckpointOfAnotherRunIsRefused) {
  Parts a = Make();
  FederatedRunOptions o = Options("other", *a.sim);
  o.num_rounds = 1;
  auto run = FederatedRun::Open(o, model_->parameters());
  ASSERT_TRUE(run.ok());
  ASSERT_TRUE(run->Run(*a.strategy, *a.sim, Driver()).ok());
  o.fingerprint = "another run";
  auto again = FederatedRun::Open(o, model_->parameters());
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.status().message().find("holds a checkpoint of another run (test run)"),
            std::string::npos);
}

TEST_F(FederatedRunTest, AFailedBeforeRoundEndsTheRunWithItsError) {
  Parts a = Make();
  FederatedRunOptions o = Options("before", *a.sim);
  o.before_round = [](int round) {
    return round == 2 ? UnavailableError("too few clients") : OkStatus();
  };
  auto run = FederatedRun::Open(o, model_->parameters());
  ASSERT_TRUE(run.ok());
  const Status s = run->Run(*a.strategy, *a.sim, Driver());
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(run->history().size(), 1u);
}

}  // namespace
}  // namespace fedra
