#include "fedra/fl/local_trainer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "fedra/fl/round_driver.h"
#include "fedra/fl/simulation.h"
#include "fedra/fl/strategy_config.h"
#include "fedra/ml/model_zoo.h"

namespace fedra {
namespace {

// A trainer that is not made of fedra layers: it estimates the mean of its own numbers by
// gradient steps on 0.5 (w - mean)^2, applied to every coordinate of whatever layout the
// server sends. The step count and learning rate come from the strategy's open config.
class MeanTrainer final : public LocalTrainer {
 public:
  explicit MeanTrainer(std::vector<double> values) : values_(std::move(values)) {}

  StatusOr<FitResult> Fit(const Parameters& global, const FitConfig& config,
                          const std::map<std::string, Parameters>&, Rng&) override {
    FEDRA_ASSIGN_OR_RETURN(const int64_t steps, ConfigInt(config.extra, "steps", 0));
    FEDRA_ASSIGN_OR_RETURN(const double lr, ConfigDouble(config.extra, "lr", 0));
    FitResult r{.update = Parameters::ZerosLike(global), .num_examples = values_.size()};
    for (size_t i = 0; i < global.size(); ++i) {
      double w = global.data()[i];
      for (int64_t k = 0; k < steps; ++k) w -= lr * (w - Mean());
      r.update.data()[i] = static_cast<float>(w - global.data()[i]);
    }
    r.local_steps = steps;
    r.metrics["local_mean"] = Mean();
    return r;
  }

  StatusOr<EvaluateResult> Evaluate(const Parameters& global, const EvaluateTask& task) override {
    FEDRA_ASSIGN_OR_RETURN(const double scale, ConfigDouble(task.extra, "scale", 1));
    const double err = global.data()[0] - Mean();
    return EvaluateResult{.num_examples = values_.size(),
                          .loss = 0.5 * err * err,
                          .accuracy = 1.0,
                          .metrics = {{"scaled_error", scale * err}}};
  }

 private:
  double Mean() const {
    double s = 0;
    for (double v : values_) s += v;
    return s / static_cast<double>(values_.size());
  }
  std::vector<double> values_;
};

Parameters Layout() {
  return Parameters::ZerosLike((*NewLinearRegression({2}, 1, 1))->parameters());
}

// FedAvg with lr 1 and one step makes every client jump to its own mean, and the example-
// weighted average of the means is the pooled mean: the config reached the trainers (without
// it they would not move) and the simulation folded their results like any other.
TEST(LocalTrainerTest, SimulationFederatesACustomTrainerWithTheStrategysOpenConfig) {
  const std::vector<std::vector<double>> data = {{1, 2, 3}, {10}, {4, 4, 4, 4, 4, 4}};
  auto sim = *Simulation::Create(
      data.size(),
      [&](ClientId c, size_t) -> StatusOr<std::unique_ptr<LocalTrainer>> {
        return std::unique_ptr<LocalTrainer>(std::make_unique<MeanTrainer>(data[c]));
      },
      {.threads = 2, .seed = 1});
  StrategyConfig sc{.name = "fedavg"};
  sc.base.fit.extra = {{"steps", int64_t{1}}, {"lr", 1.0}};
  sc.base.sampling = {.fraction_fit = 1.0, .min_fit_clients = 3, .fraction_evaluate = 0};
  auto strategy = *NewStrategy(sc);
  // No influence bound: it would (rightly) clip the outlying client's jump to its mean.
  RoundDriver driver(*strategy, *sim,
                     {.num_rounds = 1, .seed = 2, .influence = {.enabled = false}});
  auto global = driver.Run(Layout());
  ASSERT_TRUE(global.ok()) << global.status().ToString();
  const double pooled = (1 + 2 + 3 + 10 + 6 * 4.0) / 10;
  for (size_t i = 0; i < global->size(); ++i) EXPECT_NEAR(global->data()[i], pooled, 1e-5);
}

TEST(LocalTrainerTest, EvaluationConfigAndMetricsPassThroughTheSimulation) {
  auto sim = *Simulation::Create(
      1,
      [](ClientId, size_t) -> StatusOr<std::unique_ptr<LocalTrainer>> {
        return std::unique_ptr<LocalTrainer>(std::make_unique<MeanTrainer>(std::vector{2.0}));
      },
      {});
  const std::vector<EvaluateTask> tasks = {{.client = 0, .extra = {{"scale", 3.0}}}};
  std::vector<StatusOr<EvaluateResult>> got;
  sim->RunEvaluate(Layout(), tasks, [&](size_t, StatusOr<EvaluateResult> r) { got.push_back(r); });
  ASSERT_EQ(got.size(), 1u);
  ASSERT_TRUE(got[0].ok()) << got[0].status().ToString();
  EXPECT_DOUBLE_EQ(got[0]->metrics.at("scaled_error"), -6.0);  // 3 * (0 - 2)
}

// The client's DP stage wraps any trainer: the update of a custom trainer is clipped, and
// its raw norm reported.
TEST(LocalTrainerTest, DpClippingWrapsACustomTrainer) {
  MeanTrainer trainer({3.0});
  Rng rng(1);
  FitConfig config{.clip_norm = 1.0f};
  config.extra = {{"steps", int64_t{1}}, {"lr", 1.0}};
  auto r = RunClientFit(trainer, Layout(), config, {}, rng);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_NEAR(r->metrics.at("update_norm"), std::sqrt(3 * 9.0), 1e-5);  // (3, 3, 3)
  EXPECT_NEAR(r->update.L2Norm(), 1.0, 1e-6);
  EXPECT_EQ(r->metrics.at("local_mean"), 3.0);
}

// A trainer is user code: what it returns is checked before it leaves the client.
class BrokenTrainer final : public LocalTrainer {
 public:
  enum Fault { kWrongLayout, kNaN, kNoExamples, kInfiniteMetric, kWholeEpochs };
  explicit BrokenTrainer(Fault f) : fault_(f) {}
  StatusOr<FitResult> Fit(const Parameters& global, const FitConfig&,
                          const std::map<std::string, Parameters>&, Rng&) override {
    FitResult r{.update = Parameters::ZerosLike(global), .num_examples = 4};
    if (fault_ == kWrongLayout) r.update = (*NewLinearRegression({3}, 1, 1))->parameters();
    if (fault_ == kNaN) r.update.data()[1] = std::numeric_limits<float>::quiet_NaN();
    if (fault_ == kNoExamples) r.num_examples = 0;
    if (fault_ == kInfiniteMetric) r.metrics["x"] = std::numeric_limits<double>::infinity();
    if (fault_ == kWholeEpochs) r.local_steps = 7;  // whatever the round asked for
    return r;
  }
  StatusOr<EvaluateResult> Evaluate(const Parameters&, const EvaluateTask&) override {
    return EvaluateResult{.num_examples = 1, .loss = 0, .accuracy = 2.0};
  }

 private:
  Fault fault_;
};

TEST(LocalTrainerTest, BadTrainerResultsAreRefusedWithAMessage) {
  Rng rng(1);
  const std::pair<BrokenTrainer::Fault, const char*> cases[] = {
      {BrokenTrainer::kWrongLayout, "the trainer's update"},
      {BrokenTrainer::kNaN, "NaN or Inf"},
      {BrokenTrainer::kNoExamples, "no examples"},
      {BrokenTrainer::kInfiniteMetric, "metric 'x' is not finite"}};
  for (const auto& [fault, says] : cases) {
    BrokenTrainer trainer(fault);
    auto r = RunClientFit(trainer, Layout(), {}, {}, rng);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find(says), std::string::npos) << r.status().ToString();
  }
  BrokenTrainer trainer(BrokenTrainer::kNaN);
  EXPECT_FALSE(RunClientEvaluate(trainer, Layout(), {}).ok());  // accuracy 2
  // A trainer that ignores local_steps is refused when the round asks for them, not before.
  BrokenTrainer epochs(BrokenTrainer::kWholeEpochs);
  EXPECT_TRUE(RunClientFit(epochs, Layout(), {}, {}, rng).ok());
  auto r = RunClientFit(epochs, Layout(), {.local_steps = 2}, {}, rng);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("took 7 local steps where the round asked for 2"),
            std::string::npos)
      << r.status().ToString();
}

}  // namespace
}  // namespace fedra
