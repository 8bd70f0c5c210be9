// Rounds whose sums go through secure aggregation give the plain model within the quantization
// bound; dropouts before the masked input leave the survivors' weighted mean; too many
// dropouts abort the round without touching the model.
#include "fedra/fl/secagg_sum.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "fedra/fl/fed_avg.h"
#include "fedra/fl/krum.h"
#include "fedra/fl/round_driver.h"
#include "fedra/fl/simulation.h"
#include "fedra/ml/model_zoo.h"
#include "fedra/ml/synthetic.h"

namespace fedra {
namespace {

class SecAggSumTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Rng rng(5);
    auto parts = MakeFedProxSynthetic({.num_clients = 6}, rng);
    ASSERT_TRUE(parts.ok());
    std::vector<SimulatedClient> clients;
    for (auto& p : *parts) clients.push_back({std::move(p), {}});
    model_ = std::move(*NewModelByName("logreg", clients[0].train.example_shape, 10, 1));
    auto sim =
        Simulation::Create(*model_, NewSoftmaxCrossEntropy(), std::move(clients), {.seed = 3});
    ASSERT_TRUE(sim.ok());
    sim_ = std::move(*sim);
  }

  StatusOr<Parameters> Train(SecureSum* secure, std::vector<RoundMetrics>* rounds) {
    FedAvgOptions o;
    o.sampling.fraction_evaluate = 0;
    o.fit = {.epochs = 1, .batch_size = 16, .learning_rate = 0.05f};
    auto strategy = NewFedAvg(o);
    RoundDriver driver(**strategy, *sim_,
                       {.num_rounds = 2,
                        .evaluate_every = 0,
                        .on_round_end = [&](const RoundMetrics& m) { rounds->push_back(m); },
                        .secure_sum = secure});
    return driver.Run(model_->parameters());
  }

  static double MaxDiff(const Parameters& a, const Parameters& b) {
    double d = 0;
    for (size_t i = 0; i < a.size(); ++i)
      d = std::max(d, std::abs(double{a.data()[i]} - b.data()[i]));
    return d;
  }

  std::unique_ptr<Model> model_;
  std::unique_ptr<Simulation> sim_;
};

TEST_F(SecAggSumTest, MaskedSumsGiveThePlainModelWithinTheQuantizationBound) {
  std::vector<RoundMetrics> plain_rounds, secure_rounds;
  auto plain = Train(nullptr, &plain_rounds);
  ASSERT_TRUE(plain.ok());
  auto secure = NewSecAggSum({});
  ASSERT_TRUE(secure.ok());
  auto masked = Train(secure->get(), &secure_rounds);
  ASSERT_TRUE(masked.ok()) << masked.status().ToString();
  for (const auto& m : secure_rounds) EXPECT_TRUE(m.aggregated) << m.error;
  EXPECT_LT(MaxDiff(*plain, *masked), 1e-4);
  EXPECT_GT(MaxDiff(*plain, model_->parameters()), 1e-3);  // training did move the model
}

TEST_F(SecAggSumTest, DropoutsBeforeTheMaskedInputLeaveTheSurvivorsMean) {
  SecAggSumOptions o;
  o.protocol.dropout.fraction = {0, 0, 0.2, 0};  // 1 of 6 drops before the masked input
  auto secure = NewSecAggSum(o);
  ASSERT_TRUE(secure.ok());
  std::vector<RoundMetrics> plain_rounds, rounds;
  auto plain = Train(nullptr, &plain_rounds);
  auto masked = Train(secure->get(), &rounds);
  ASSERT_TRUE(masked.ok());
  for (const auto& m : rounds) {
    EXPECT_TRUE(m.aggregated) << m.error;
    EXPECT_EQ(m.fit_failures, 1u);  // the client the protocol lost counts as failed
  }
  // A mean over 5 of 6 clients: close to, but not the same as, the plain model.
  EXPECT_GT(MaxDiff(*plain, *masked), 1e-4);
  EXPECT_LT(MaxDiff(*plain, *masked), 0.5);
}

TEST_F(SecAggSumTest, TooManyDropoutsAbortTheRoundAndKeepTheModel) {
  SecAggSumOptions o;
  o.protocol.dropout.fraction = {0.5, 0, 0, 0};  // 3 of 6 left: below the threshold of 4
  auto secure = NewSecAggSum(o);
  ASSERT_TRUE(secure.ok());
  std::vector<RoundMetrics> rounds;
  auto r = Train(secure->get(), &rounds);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(rounds.size(), 2u);
  EXPECT_FALSE(rounds[0].aggregated);
  EXPECT_THAT(rounds[0].error, ::testing::HasSubstr("secagg round aborted"));
  EXPECT_EQ(MaxDiff(*r, model_->parameters()), 0.0);
}

TEST_F(SecAggSumTest, KrumIsRefusedBecauseItNeedsEveryUpdate) {
  auto secure = NewSecAggSum({});
  ASSERT_TRUE(secure.ok());
  KrumOptions ko;
  auto strategy = NewKrum(ko);
  ASSERT_TRUE(strategy.ok()) << strategy.status().ToString();
  RoundDriver driver(**strategy, *sim_, {.num_rounds = 1, .secure_sum = secure->get()});
  auto r = driver.Run(model_->parameters());
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), ::testing::HasSubstr("only reveals their sum"));
  EXPECT_FALSE(NewSecAggSum({.protocol = {.clip = -1}}).ok());
}

}  // namespace
}  // namespace fedra
