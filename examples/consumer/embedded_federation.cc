// Embeds fedra's network layer in an application (built against the installed package):
// starts a fedra::Server on a free loopback port, runs three fedra::Client participants with
// their own data on threads, trains three FedAvg rounds over gRPC, and exits non-zero unless
// every round aggregated all three clients and the global model's loss on the clients' data
// went down.
// (Plaintext for brevity; real deployments use TLS, see fedra-server --help.)
#include <cstdio>
#include <future>
#include <memory>
#include <vector>

#include "fedra/fl/fed_avg.h"
#include "fedra/fl/round_driver.h"
#include "fedra/ml/model_zoo.h"
#include "fedra/ml/synthetic.h"
#include "fedra/ml/trainer.h"
#include "fedra/net/client.h"
#include "fedra/net/server.h"

int main() {
  constexpr int kClients = 3;
  fedra::Rng rng(3);
  auto parts = fedra::MakeFedProxSynthetic({.num_clients = kClients}, rng);
  if (!parts.ok()) return std::fprintf(stderr, "%s\n", parts.status().ToString().c_str()), 1;
  auto server =
      fedra::Server::Start({.address = "127.0.0.1:0", .insecure = true, .poll_seconds = 0.5});
  if (!server.ok()) return std::fprintf(stderr, "%s\n", server.status().ToString().c_str()), 1;

  auto prototype = fedra::NewModelByName("logreg", (*parts)[0].example_shape, 10, 1);
  std::vector<std::unique_ptr<fedra::Model>> models;
  std::vector<std::unique_ptr<fedra::Loss>> losses;
  std::vector<std::unique_ptr<fedra::Client>> clients;
  std::vector<std::future<fedra::Status>> runs;
  const fedra::Dataset no_test;
  for (int i = 0; i < kClients; ++i) {
    models.push_back((*prototype)->Clone());
    losses.push_back(fedra::NewSoftmaxCrossEntropy());
    clients.push_back(std::make_unique<fedra::Client>(
        *models.back(), *losses.back(), (*parts)[i], no_test,
        fedra::ClientOptions{.server = "127.0.0.1:" + std::to_string((*server)->port()),
                             .name = "participant-" + std::to_string(i),
                             .insecure = true,
                             .seed = static_cast<uint64_t>(i + 1)}));
    runs.push_back(std::async(std::launch::async, [c = clients.back().get()] { return c->Run(); }));
  }
  (*server)->WaitForClients(kClients, std::chrono::seconds(30));

  fedra::FedAvgOptions options;
  options.sampling.min_fit_clients = kClients;
  options.sampling.fraction_evaluate = 0;
  options.fit = {.epochs = 2, .batch_size = 16, .learning_rate = 0.05f};
  auto strategy = fedra::NewFedAvg(options);
  std::vector<fedra::RoundMetrics> rounds;
  fedra::RoundDriver driver(
      **strategy, (*server)->pool(),
      {.num_rounds = 3, .evaluate_every = 0, .on_round_end = [&](const auto& m) {
         std::printf("round %d: %zu clients, train loss %.4f\n", m.round,
                     m.fit_clients - m.fit_failures, m.train_loss);
         rounds.push_back(m);
       }});
  const fedra::Parameters initial = (*prototype)->parameters();
  auto global = driver.Run(initial);
  (*server)->Finish();
  bool ok = global.ok() && rounds.size() == 3;
  for (auto& r : runs) ok = r.get().ok() && ok;
  for (const auto& m : rounds) ok = ok && m.aggregated && m.fit_failures == 0;
  // The global model's mean loss over every client's data, before and after.
  auto mean_loss = [&](const fedra::Parameters& p) {
    double sum = 0;
    if (!(*prototype)->SetParameters(p).ok()) return 1e30;
    for (const auto& d : *parts) sum += fedra::Evaluate(**prototype, *losses[0], d)->loss;
    return sum / kClients;
  };
  const double before = mean_loss(initial);
  const double after = global.ok() ? mean_loss(*global) : 1e30;
  std::printf("global model loss on the clients' data: %.4f before, %.4f after\n", before, after);
  ok = ok && after < before;
  std::printf("fedra embedded federation: %s\n", ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
