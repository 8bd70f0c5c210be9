#include "fedra/fl/simulation.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <map>
#include <stdexcept>

#include "fedra/fl/fed_avg.h"
#include "fedra/fl/federated_data.h"
#include "fedra/fl/round_driver.h"
#include "fedra/fl/strategy_config.h"
#include "fedra/ml/model_zoo.h"
#include "fedra/ml/synthetic.h"
#include "fedra/ml/trainer.h"
#include "testing/fl_fixtures.h"

namespace fedra {
namespace {

std::vector<SimulatedClient> Clients(size_t n, const std::string& partition, Rng& rng) {
  Dataset all = testing::FourBlobs(100 * n, rng);
  return *PartitionClients(
      all, n, {.kind = partition, .alpha = 0.3, .min_size = 5, .local_test_fraction = 0.2}, rng);
}

struct RunOutput {
  Parameters model;
  std::vector<RoundMetrics> rounds;
};

RunOutput RunSim(const std::string& strategy_name, size_t threads, int rounds,
                 const std::string& partition = "iid",
                 std::function<Status(ClientId, int)> fault = nullptr) {
  Rng rng(3);
  auto model = *NewMlp({2}, 4, 1, {16});
  StrategyConfig config{.name = strategy_name};
  config.base.fit = {.epochs = 1, .batch_size = 16, .learning_rate = 0.05f, .momentum = 0.5f};
  config.base.sampling = {.fraction_fit = 0.5, .fraction_evaluate = 0.5};
  config.adaptive.eta = 0.05f;
  auto strategy = *NewStrategy(config);
  auto sim = *Simulation::Create(*model, NewSoftmaxCrossEntropy(), Clients(12, partition, rng),
                                 {.threads = threads, .seed = 9, .fault = fault});
  RunOutput out;
  RoundDriver driver(*strategy, *sim,
                     {.num_rounds = rounds, .seed = 5, .on_round_end = [&](const RoundMetrics& m) {
                        out.rounds.push_back(m);
                      }});
  out.model = *driver.Run(model->parameters());
  return out;
}

bool BitIdentical(const Parameters& a, const Parameters& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.num_bytes()) == 0;
}

TEST(SimulationTest, SameSeedIsBitIdenticalWhateverTheThreadCount) {
  for (const char* name : {"fedavg", "fedprox", "fedadam", "scaffold", "fednova", "fedmedian"}) {
    const RunOutput one = RunSim(name, 1, 3, "dirichlet");
    const RunOutput two = RunSim(name, 2, 3, "dirichlet");
    const RunOutput four = RunSim(name, 4, 3, "dirichlet");
    EXPECT_TRUE(BitIdentical(one.model, two.model)) << name;
    EXPECT_TRUE(BitIdentical(one.model, four.model)) << name;
    EXPECT_EQ(one.rounds.back().train_loss, four.rounds.back().train_loss) << name;
  }
}

TEST(SimulationTest, FedAvgLearnsAndSamplesHalfTheClients) {
  const RunOutput out = RunSim("fedavg", 2, 8);
  ASSERT_EQ(out.rounds.size(), 8u);
  for (const RoundMetrics& m : out.rounds) {
    EXPECT_EQ(m.fit_clients, 6u);
    EXPECT_EQ(m.fit_failures, 0u);
    EXPECT_EQ(m.eval_clients, 6u);
  }
  EXPECT_GT(out.rounds.back().eval_accuracy, 0.95);
  EXPECT_LT(out.rounds.back().train_loss, out.rounds.front().train_loss);
}

TEST(SimulationTest, FailingAndThrowingClientsAreCountedNotFatal) {
  std::atomic<int> calls{0};
  const RunOutput out = RunSim("fedavg", 2, 2, "iid", [&](ClientId c, int) -> Status {
    ++calls;
    if (c == 3) throw std::runtime_error("disk on fire");
    if (c % 4 == 1) return UnavailableError("dropped out");
    return OkStatus();
  });
  EXPECT_GT(calls.load(), 0);
  size_t failures = 0;
  for (const RoundMetrics& m : out.rounds) failures += m.fit_failures;
  EXPECT_GT(failures, 0u);
  EXPECT_TRUE(out.model.CheckFinite().ok());
}

TEST(SimulationTest, CreateRejectsDataThatDoesNotFitTheModel) {
  Rng rng(1);
  auto model = *NewMlp({3}, 4, 1, {4});
  auto sim = Simulation::Create(*model, NewSoftmaxCrossEntropy(), Clients(2, "iid", rng), {});
  EXPECT_EQ(sim.status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(Simulation::Create(*model, NewSoftmaxCrossEntropy(), {}, {}).ok());
}

TEST(SimulationTest, ClientStateRoundTripsAndBadStateIsRefused) {
  Rng rng(2);
  auto model = *NewMlp({2}, 4, 1, {4});
  auto sim = *Simulation::Create(*model, NewSoftmaxCrossEntropy(), Clients(3, "iid", rng), {});
  EXPECT_TRUE(sim->ExportClientState().empty());  // no SCAFFOLD round yet
  const size_t n = model->parameters().size();
  std::map<std::string, std::vector<float>> state{{"2/control", std::vector<float>(n, 0.5f)}};
  ASSERT_TRUE(sim->ImportClientState(state).ok());
  EXPECT_EQ(sim->ExportClientState(), state);
  for (const auto& [name, size] : std::vector<std::pair<std::string, size_t>>{
           {"3/control", n}, {"x/control", n}, {"1/momentum", n}, {"1", n}, {"1/control", n - 1}}) {
    const Status s = sim->ImportClientState({{name, std::vector<float>(size, 1.0f)}});
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << name;
    EXPECT_NE(s.message().find("'" + name + "'"), std::string::npos) << s.message();
  }
  EXPECT_EQ(sim->ExportClientState(), state);  // unchanged by the refused imports
}

}  // namespace
}  // namespace fedra
