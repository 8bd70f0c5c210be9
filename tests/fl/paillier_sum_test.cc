// Rounds whose sums go through Paillier encryption give the model plain sums would, within the
// packing's error bound; strategies that need individual updates are refused with a reason;
// out-of-range terms are refused, not wrapped.
#include "fedra/fl/paillier_sum.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "fedra/fl/fed_avg.h"
#include "fedra/fl/fed_median.h"
#include "fedra/fl/round_driver.h"
#include "fedra/fl/simulation.h"
#include "fedra/ml/model_zoo.h"
#include "fedra/ml/synthetic.h"

namespace fedra {
namespace {

using ::testing::HasSubstr;

class PaillierSumTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto k = paillier::GenerateKeyPair({.modulus_bits = 1024, .allow_small_for_testing = true});
    ASSERT_TRUE(k.ok()) << k.status().ToString();
    key_ = new paillier::SecretKey(std::move(*k));
  }
  static void TearDownTestSuite() { delete key_; }

  void SetUp() override {
    Rng rng(5);
    auto parts = MakeFedProxSynthetic({.num_clients = 4}, rng);
    ASSERT_TRUE(parts.ok());
    std::vector<SimulatedClient> clients;
    for (auto& p : *parts) clients.push_back({std::move(p), {}});
    model_ = std::move(*NewModelByName("logreg", clients[0].train.example_shape, 10, 1));
    auto sim =
        Simulation::Create(*model_, NewSoftmaxCrossEntropy(), std::move(clients), {.seed = 3});
    ASSERT_TRUE(sim.ok());
    sim_ = std::move(*sim);
  }

  // Two FedAvg rounds, with `secure` forming the sums (or plain sums if null).
  StatusOr<Parameters> Train(SecureSum* secure, std::vector<RoundMetrics>* rounds = nullptr) {
    FedAvgOptions o;
    o.sampling.fraction_evaluate = 0;
    o.fit = {.epochs = 1, .batch_size = 16, .learning_rate = 0.05f};
    auto strategy = NewFedAvg(o);
    RoundDriver driver(**strategy, *sim_,
                       {.num_rounds = 2,
                        .evaluate_every = 0,
                        .on_round_end =
                            [&](const RoundMetrics& m) {
                              if (rounds) rounds->push_back(m);
                            },
                        .secure_sum = secure});
    return driver.Run(model_->parameters());
  }

  static paillier::SecretKey* key_;
  std::unique_ptr<Model> model_;
  std::unique_ptr<Simulation> sim_;
};
paillier::SecretKey* PaillierSumTest::key_ = nullptr;

TEST_F(PaillierSumTest, EncryptedSumsGiveThePlainModelWithinTheBound) {
  auto plain = Train(nullptr);
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  auto secure = NewPaillierSum(*key_, {});
  ASSERT_TRUE(secure.ok()) << secure.status().ToString();
  std::vector<RoundMetrics> rounds;
  auto encrypted = Train(secure->get(), &rounds);
  ASSERT_TRUE(encrypted.ok()) << encrypted.status().ToString();
  ASSERT_EQ(rounds.size(), 2u);
  for (const auto& m : rounds) {
    EXPECT_TRUE(m.aggregated) << m.error;
    EXPECT_EQ(m.fit_failures, 0u);
  }
  double max_diff = 0;
  for (size_t i = 0; i < plain->size(); ++i) {
    max_diff = std::max(max_diff, std::abs(double{plain->data()[i]} - encrypted->data()[i]));
  }
  // Per round the mean's error is 4 terms x 2^-17 over ~400 examples; float rounding of the
  // weighted terms dominates. The models also moved by far more than this in training.
  EXPECT_LT(max_diff, 1e-4);
  EXPECT_GT(std::abs(plain->data()[0] - model_->parameters().data()[0]) +
                std::abs(plain->data()[1] - model_->parameters().data()[1]),
            1e-3);
}

TEST_F(PaillierSumTest, StrategiesThatNeedEveryUpdateAreRefused) {
  auto secure = NewPaillierSum(*key_, {});
  ASSERT_TRUE(secure.ok());
  auto strategy = NewFedMedian({});
  ASSERT_TRUE(strategy.ok());
  RoundDriver driver(**strategy, *sim_, {.num_rounds = 1, .secure_sum = secure->get()});
  auto r = driver.Run(model_->parameters());
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("needs every client's update"));
}

TEST_F(PaillierSumTest, TermsOutOfRangeAreRefusedAndTheModelIsUnchanged) {
  PaillierSumOptions o;
  o.packing.max_abs_value = 0.5;  // a client's weight alone (its example count) exceeds this
  auto secure = NewPaillierSum(*key_, o);
  ASSERT_TRUE(secure.ok());
  std::vector<RoundMetrics> rounds;
  auto r = Train(secure->get(), &rounds);
  ASSERT_TRUE(r.ok());
  ASSERT_FALSE(rounds.empty());
  EXPECT_FALSE(rounds[0].aggregated);
  EXPECT_EQ(rounds[0].fit_failures, 4u);
  for (size_t i = 0; i < r->size(); ++i) EXPECT_EQ(r->data()[i], model_->parameters().data()[i]);
}

}  // namespace
}  // namespace fedra
