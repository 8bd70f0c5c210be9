// A custom strategy in ~30 lines: FedAvg whose server learning rate decays each round
// (lr_r = lr_0 / sqrt(r)), run in the stock simulation with the stock round driver.
//
//   build/release/examples/custom_strategy
#include <cmath>
#include <cstdio>

#include "fedra/fl/federated_data.h"
#include "fedra/fl/round_driver.h"
#include "fedra/ml/model_zoo.h"
#include "fedra/ml/synthetic.h"

namespace {

// --- the strategy -------------------------------------------------------------------------
class DecayingFedAvg final : public fedra::Strategy {
 public:
  DecayingFedAvg(fedra::FitConfig fit, float lr0) : fit_(fit), lr0_(lr0) {}
  std::string Name() const override { return "decaying-fedavg"; }
  fedra::AggregationMode mode() const override { return fedra::AggregationMode::kWeightedSum; }

  fedra::StatusOr<fedra::RoundPlan> ConfigureFit(int, const fedra::Parameters&,
                                                 std::span<const fedra::ClientId> available,
                                                 fedra::Rng& rng) override {
    FEDRA_ASSIGN_OR_RETURN(auto clients, fedra::SampleClients(available, 0.5, 2, 2, rng));
    fedra::RoundPlan plan;
    for (fedra::ClientId c : clients) plan.tasks.push_back({c, fit_});
    return plan;
  }
  // Fold() is inherited: sums num_examples * update and num_examples.
  fedra::StatusOr<fedra::Parameters> AggregateFit(int round, const fedra::Parameters& global,
                                                  const fedra::AggregateInput& in) override {
    fedra::Parameters next = global;
    const double lr = lr0_ / std::sqrt(static_cast<double>(round));
    next.Axpy(static_cast<float>(lr / in.sums->scalar("weight")), in.sums->sum("update"));
    return next;
  }
  fedra::StatusOr<std::vector<fedra::EvaluateTask>> ConfigureEvaluate(
      int, const fedra::Parameters&, std::span<const fedra::ClientId> available,
      fedra::Rng&) override {
    std::vector<fedra::EvaluateTask> tasks;
    for (fedra::ClientId c : available) tasks.push_back({.client = c});
    return tasks;
  }

 private:
  fedra::FitConfig fit_;
  float lr0_;
};
// --- end of the strategy ------------------------------------------------------------------

}  // namespace

int main() {
  fedra::Rng rng(1);
  auto data = fedra::MakeFedProxSynthetic({.alpha = 0.5, .beta = 0.5, .num_clients = 20}, rng);
  std::vector<fedra::SimulatedClient> clients;
  for (auto& d : *data) {
    auto split = fedra::SplitTrainTest(d, 0.2, rng);
    clients.push_back({std::move(split.train), std::move(split.test)});
  }
  auto model = *fedra::NewSoftmaxRegression({60}, 10, 1);
  auto sim = *fedra::Simulation::Create(*model, fedra::NewSoftmaxCrossEntropy(), std::move(clients),
                                        {.threads = 2});
  DecayingFedAvg strategy({.epochs = 2, .batch_size = 10, .learning_rate = 0.05f}, 1.5f);
  double first = -1, last = 0;
  fedra::RoundDriver driver(strategy, *sim,
                            {.num_rounds = 15, .on_round_end = [&](const fedra::RoundMetrics& m) {
                               std::printf("round %2d  federated accuracy %.3f\n", m.round,
                                           m.eval_accuracy);
                               if (first < 0) first = m.eval_accuracy;
                               last = m.eval_accuracy;
                             }});
  auto final_model = driver.Run(model->parameters());
  if (!final_model.ok())
    return std::fprintf(stderr, "%s\n", final_model.status().ToString().c_str()), 1;
  return last > first + 0.1 ? 0 : 1;  // the example checks that it learned
}
