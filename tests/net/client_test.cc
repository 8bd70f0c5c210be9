// Real fedra::Client instances (threads of this test) training with a real server on
// 127.0.0.1: full rounds, the server's settings honoured, and a server restart survived.
#include "fedra/net/client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "fedra/fl/fed_avg.h"
#include "fedra/fl/round_driver.h"
#include "fedra/ml/model_zoo.h"
#include "fedra/ml/synthetic.h"
#include "fedra/net/server.h"

namespace fedra {
namespace {

class ClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Rng rng(7);
    auto parts = MakeFedProxSynthetic({.num_clients = kClients}, rng);
    ASSERT_TRUE(parts.ok()) << parts.status().ToString();
    for (auto& p : *parts) {
      Rng split_rng = rng.Split(data_.size());
      auto split = SplitTrainTest(p, 0.2, split_rng);
      data_.push_back({std::move(split.train), std::move(split.test)});
    }
    auto m = NewModelByName("logreg", data_[0].first.example_shape, 10, 1);
    ASSERT_TRUE(m.ok());
    prototype_ = std::move(*m);
  }

  ServerOptions Options(int port = 0) {
    return {.address = "127.0.0.1:" + std::to_string(port),
            .insecure = true,
            .round_deadline_seconds = 30,
            .poll_seconds = 0.3,
            .heartbeat_seconds = 1};
  }

  // Starts kClients clients on threads; they run until the server finishes.
  void StartClients(int port) {
    for (int i = 0; i < kClients; ++i) {
      models_.push_back(prototype_->Clone());
      losses_.push_back(NewSoftmaxCrossEntropy());
      clients_.push_back(std::make_unique<Client>(
          *models_.back(), *losses_.back(), data_[i].first, data_[i].second,
          ClientOptions{.server = "127.0.0.1:" + std::to_string(port),
                        .name = "client-" + std::to_string(i),
                        .insecure = true,
                        .initial_backoff_seconds = 0.1,
                        .max_backoff_seconds = 0.5,
                        .give_up_seconds = 60,
                        .seed = static_cast<uint64_t>(i + 1)}));
      Client* c = clients_.back().get();
      runs_.push_back(std::async(std::launch::async, [c] { return c->Run(); }));
    }
  }

  // FedAvg over all kClients, each also evaluating; `fit` is their local training.
  std::unique_ptr<fedra::Strategy> MakeStrategy(FitConfig fit = {.epochs = 2,
                                                                 .batch_size = 8,
                                                                 .learning_rate = 0.05f}) {
    FedAvgOptions fo;
    fo.sampling.min_fit_clients = kClients;
    fo.sampling.min_available_clients = kClients;
    fo.sampling.fraction_evaluate = 1.0;
    fo.sampling.min_evaluate_clients = kClients;
    fo.fit = fit;
    return std::move(*NewFedAvg(fo));
  }

  // Runs `n` rounds from the prototype's parameters; each round's metrics (the caller asserts
  // how many before reading them).
  std::vector<RoundMetrics> RunRounds(fedra::Strategy& strategy, Server& server, int n) {
    std::vector<RoundMetrics> rounds;
    RoundDriver driver(
        strategy, server.pool(),
        {.num_rounds = n, .on_round_end = [&](const RoundMetrics& m) { rounds.push_back(m); }});
    auto after = driver.Run(prototype_->parameters());
    EXPECT_TRUE(after.ok()) << after.status().ToString();
    return rounds;
  }

  static constexpr int kClients = 3;
  std::vector<std::pair<Dataset, Dataset>> data_;
  std::unique_ptr<Model> prototype_;
  std::vector<std::unique_ptr<Model>> models_;
  std::vector<std::unique_ptr<Loss>> losses_;
  std::vector<std::unique_ptr<Client>> clients_;
  std::vector<std::future<Status>> runs_;
};

TEST_F(ClientTest, ClientsTrainEveryRoundAndStopWhenTheServerFinishes) {
  auto server = Server::Start(Options());
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  StartClients((*server)->port());
  ASSERT_EQ((*server)->WaitForClients(kClients, std::chrono::seconds(20)), size_t{kClients});
  auto strategy = MakeStrategy();
  const auto rounds = RunRounds(*strategy, **server, 3);
  ASSERT_EQ(rounds.size(), 3u);
  for (const auto& m : rounds) {
    EXPECT_TRUE(m.aggregated) << m.error;
    EXPECT_EQ(m.fit_clients, size_t{kClients});
    EXPECT_EQ(m.fit_failures, 0u);
    EXPECT_EQ(m.eval_clients, size_t{kClients});
  }
  EXPECT_LT(rounds.back().train_loss, rounds.front().train_loss);
  EXPECT_GT(rounds.back().eval_accuracy, 0.3);
  (*server)->Finish();
  for (auto& r : runs_) EXPECT_TRUE(r.get().ok());
  for (auto& c : clients_) {
    EXPECT_EQ(c->fits_done(), 3);
    EXPECT_EQ(c->evaluations_done(), 3);
  }
}

// This build's clients list the local-steps feature, so a run that requires it takes them and
// they train exactly the steps asked.
TEST_F(ClientTest, ClientsListTheLocalStepsFeatureARunRequires) {
  ServerOptions o = Options();
  o.required_client_features = {kClientFeatureLocalSteps};
  auto server = Server::Start(o);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  StartClients((*server)->port());
  ASSERT_EQ((*server)->WaitForClients(kClients, std::chrono::seconds(20)), size_t{kClients});
  auto strategy = MakeStrategy({.local_steps = 3, .batch_size = 8, .learning_rate = 0.05f});
  const auto rounds = RunRounds(*strategy, **server, 1);
  ASSERT_EQ(rounds.size(), 1u);
  EXPECT_TRUE(rounds[0].aggregated) << rounds[0].error;
  EXPECT_EQ(rounds[0].fit_failures, 0u);
  EXPECT_EQ((*server)->stats().registrations, size_t{kClients});
  (*server)->Finish();
  for (auto& r : runs_) EXPECT_TRUE(r.get().ok());
  for (auto& c : clients_) EXPECT_EQ(c->fits_done(), 1);
}

// Clients that bring their own trainer object, over channels inside the process (no socket).
TEST_F(ClientTest, ClientsWithTheirOwnTrainersOverInProcessChannels) {
  auto server = Server::Start(Options());
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  std::vector<std::unique_ptr<ModelTrainer>> trainers;
  for (int i = 0; i < kClients; ++i) {
    models_.push_back(prototype_->Clone());
    losses_.push_back(NewSoftmaxCrossEntropy());
    trainers.push_back(std::make_unique<ModelTrainer>(*models_.back(), *losses_.back(),
                                                      data_[i].first, data_[i].second, nullptr));
    clients_.push_back(
        std::make_unique<Client>(*trainers.back(), (*server)->InProcessChannel(),
                                 ClientOptions{.name = "in-process-" + std::to_string(i),
                                               .initial_backoff_seconds = 0.1,
                                               .give_up_seconds = 60,
                                               .seed = static_cast<uint64_t>(i + 1)}));
    Client* c = clients_.back().get();
    runs_.push_back(std::async(std::launch::async, [c] { return c->Run(); }));
  }
  ASSERT_EQ((*server)->WaitForClients(kClients, std::chrono::seconds(20)), size_t{kClients});
  auto strategy = MakeStrategy();
  const auto rounds = RunRounds(*strategy, **server, 2);
  ASSERT_EQ(rounds.size(), 2u);
  for (const auto& m : rounds) {
    EXPECT_TRUE(m.aggregated) << m.error;
    EXPECT_EQ(m.fit_failures, 0u);
  }
  (*server)->Finish();
  for (auto& r : runs_) EXPECT_TRUE(r.get().ok());
  for (auto& c : clients_) EXPECT_EQ(c->fits_done(), 2);
}

TEST_F(ClientTest, ClientsSurviveAServerRestartAndRegisterAgain) {
  auto first = Server::Start(Options());
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  const int port = (*first)->port();
  StartClients(port);
  ASSERT_EQ((*first)->WaitForClients(kClients, std::chrono::seconds(20)), size_t{kClients});
  auto strategy = MakeStrategy();
  Parameters global = prototype_->parameters();
  {
    RoundDriver driver(*strategy, (*first)->pool(), {.num_rounds = 2, .evaluate_every = 0});
    EXPECT_TRUE(driver.RunRound(1, global).aggregated);
  }
  // The server goes away without telling anyone (as after a crash) and comes back.
  auto run_id = (*first)->run_id();
  first->reset();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  ServerOptions o = Options(port);
  o.run_id = run_id;
  auto second = Server::Start(o);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  ASSERT_EQ((*second)->WaitForClients(kClients, std::chrono::seconds(30)), size_t{kClients});
  RoundDriver driver(*strategy, (*second)->pool(), {.num_rounds = 2, .evaluate_every = 0});
  const RoundMetrics m = driver.RunRound(2, global);
  EXPECT_TRUE(m.aggregated) << m.error;
  EXPECT_EQ(m.fit_failures, 0u);
  (*second)->Finish();
  for (auto& r : runs_) EXPECT_TRUE(r.get().ok());
  for (auto& c : clients_) EXPECT_EQ(c->fits_done(), 2);
}

}  // namespace
}  // namespace fedra
