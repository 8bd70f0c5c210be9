// fedra::torch against fedra's own layers. The TorchScript file comes from
// examples/torch/export_mlp.py (run by the test fixture): nn.Sequential(Flatten, Linear(8, 16),
// ReLU, Linear(16, 3)), fedra's NewMlp({8}, 3, {16}) layout.
#include "fedra/torch/torchscript_trainer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>

#include "fedra/fl/round_driver.h"
#include "fedra/fl/simulation.h"
#include "fedra/fl/strategy_config.h"
#include "fedra/ml/loss.h"
#include "fedra/ml/model_zoo.h"

namespace fedra::torch {
namespace {

std::string ModuleFile() {
  const char* f = std::getenv("FEDRA_TORCH_MLP");
  return f ? f : "";
}

Dataset Blobs(size_t n, uint64_t seed) {
  Rng rng(seed);
  Dataset d{.features = Matrix(8, static_cast<Eigen::Index>(n)),
            .targets = Matrix(1, static_cast<Eigen::Index>(n)),
            .example_shape = {8},
            .num_classes = 3};
  for (Eigen::Index i = 0; i < d.features.cols(); ++i) {
    const int c = static_cast<int>(rng.UniformInt(3));
    for (Eigen::Index j = 0; j < 8; ++j)
      d.features(j, i) = static_cast<float>((j % 3 == c ? 1.5 : -0.5) + 0.4 * rng.Normal());
    d.targets(0, i) = static_cast<float>(c);
  }
  return d;
}

class TorchScriptTrainerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (ModuleFile().empty()) GTEST_SKIP() << "FEDRA_TORCH_MLP not set";
    SetTorchThreads(1);
    for (uint64_t c = 0; c < 2; ++c) clients_.push_back({Blobs(32, 10 + c), Blobs(16, 20 + c)});
    model_ = std::move(NewMlp({8}, 3, 7, {16})).value();
  }
  std::vector<SimulatedClient> clients_;
  std::unique_ptr<Model> model_;
};

// Same initial weights, same data, full-batch SGD with momentum (no randomness in the batch
// order): two FedAvg rounds of the TorchScript module equal those of fedra's own layers.
TEST_F(TorchScriptTrainerTest, FedAvgRoundsEqualFedrasOwnLayers) {
  StrategyConfig sc;
  sc.name = "fedavg";
  sc.base.fit = {.epochs = 3, .batch_size = 32, .learning_rate = 0.1f, .momentum = 0.9f};
  sc.base.sampling = {.fraction_fit = 1.0, .min_fit_clients = 2, .fraction_evaluate = 0};
  const RoundDriverOptions options{.num_rounds = 2, .seed = 3, .influence = {.enabled = false}};

  auto fedra_sim = *Simulation::Create(*model_, NewSoftmaxCrossEntropy(), clients_, {.seed = 5});
  auto s1 = *NewStrategy(sc);
  auto by_fedra = RoundDriver(*s1, *fedra_sim, options).Run(model_->parameters());
  ASSERT_TRUE(by_fedra.ok()) << by_fedra.status().ToString();

  auto torch_sim = *Simulation::Create(
      clients_.size(),
      [&](ClientId c, size_t) -> StatusOr<std::unique_ptr<LocalTrainer>> {
        FEDRA_ASSIGN_OR_RETURN(
            auto t, TorchScriptTrainer::Load(ModuleFile(), clients_[c].train, clients_[c].test));
        return std::unique_ptr<LocalTrainer>(std::move(t));
      },
      {.seed = 5});
  auto s2 = *NewStrategy(sc);
  auto by_torch = RoundDriver(*s2, *torch_sim, options).Run(model_->parameters());
  ASSERT_TRUE(by_torch.ok()) << by_torch.status().ToString();

  ASSERT_TRUE(by_fedra->SameLayout(*by_torch));
  double moved = 0, diff = 0;
  for (size_t i = 0; i < by_fedra->size(); ++i) {
    moved = std::max(moved, std::abs(double{by_fedra->data()[i]} - model_->parameters().data()[i]));
    diff = std::max(diff, std::abs(double{by_fedra->data()[i]} - by_torch->data()[i]));
  }
  EXPECT_GT(moved, 1e-2);  // the rounds did train
  EXPECT_LT(diff, 2e-5) << "largest difference between fedra and TorchScript";
}

// local_steps replaces epochs: on 32 examples in one batch of 32, 5 steps are 5 epochs.
TEST_F(TorchScriptTrainerTest, LocalStepsReplaceEpochs) {
  auto t = TorchScriptTrainer::Load(ModuleFile(), clients_[0].train, clients_[0].test);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  Rng rng1(1), rng2(1);
  auto steps =
      (*t)->Fit(model_->parameters(),
                {.epochs = 1, .local_steps = 5, .batch_size = 32, .learning_rate = 0.1f}, {}, rng1);
  auto epochs = (*t)->Fit(model_->parameters(),
                          {.epochs = 5, .batch_size = 32, .learning_rate = 0.1f}, {}, rng2);
  ASSERT_TRUE(steps.ok() && epochs.ok());
  EXPECT_EQ(steps->local_steps, 5);
  EXPECT_GT(steps->update.L2Norm(), 0);
  for (size_t i = 0; i < steps->update.size(); ++i)
    ASSERT_FLOAT_EQ(steps->update.data()[i], epochs->update.data()[i]) << i;
}

TEST_F(TorchScriptTrainerTest, EvaluationMatchesFedra) {
  auto t = TorchScriptTrainer::Load(ModuleFile(), clients_[0].train, clients_[0].test);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  auto by_torch = (*t)->Evaluate(model_->parameters(), {});
  ASSERT_TRUE(by_torch.ok()) << by_torch.status().ToString();
  const Dataset no_test;
  auto loss = NewSoftmaxCrossEntropy();
  ModelTrainer fedra_trainer(*model_, *loss, clients_[0].train, clients_[0].test, nullptr);
  auto by_fedra = fedra_trainer.Evaluate(model_->parameters(), {});
  ASSERT_TRUE(by_fedra.ok());
  EXPECT_NEAR(by_torch->loss, by_fedra->loss, 1e-5);
  EXPECT_EQ(by_torch->accuracy, by_fedra->accuracy);
}

TEST_F(TorchScriptTrainerTest, AnotherLayoutIsRefusedWithTheNamesThatDiffer) {
  auto t = TorchScriptTrainer::Load(ModuleFile(), clients_[0].train, clients_[0].test);
  ASSERT_TRUE(t.ok());
  auto other = std::move(NewMlp({8}, 3, 7, {12})).value();
  Rng rng(1);
  auto r = (*t)->Fit(other->parameters(), {}, {}, rng);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("1.weight is {12, 8} on the server, {16, 8} in the module"),
            std::string::npos)
      << r.status().ToString();
  EXPECT_EQ((*t)->parameters().size(), model_->parameters().size());
}

TEST_F(TorchScriptTrainerTest, AFileThatDoesNotLoadIsNamed) {
  auto t = TorchScriptTrainer::Load("/nonexistent/model.pt", clients_[0].train, clients_[0].test);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("/nonexistent/model.pt does not load"), std::string::npos);
}

// The client's DP stage wraps the TorchScript trainer like any other.
TEST_F(TorchScriptTrainerTest, DpClippingWrapsTheTorchScriptTrainer) {
  auto t = TorchScriptTrainer::Load(ModuleFile(), clients_[0].train, clients_[0].test);
  ASSERT_TRUE(t.ok());
  Rng rng(1);
  auto r = RunClientFit(**t, model_->parameters(),
                        {.epochs = 1, .batch_size = 8, .learning_rate = 0.5f, .clip_norm = 0.01f},
                        {}, rng);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_GT(r->metrics.at("update_norm"), 0.01);
  EXPECT_NEAR(r->update.L2Norm(), 0.01, 1e-6);
}

}  // namespace
}  // namespace fedra::torch
