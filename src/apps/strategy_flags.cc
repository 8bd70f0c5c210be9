#include "apps/strategy_flags.h"

namespace fedra::apps {

void AddStrategyFlags(CLI::App& app, StrategyConfig& s) {
  app.add_option("--strategy", s.name,
                 "fedavg, fedprox, fedavgm, fedadam, fedyogi, fedadagrad, fedmedian, "
                 "fedtrimmedavg, krum, multikrum, scaffold or fednova")
      ->capture_default_str();
  app.add_option("--fraction-fit", s.base.sampling.fraction_fit,
                 "fraction of clients training each round")
      ->capture_default_str();
  app.add_option("--min-fit-clients", s.base.sampling.min_fit_clients, "at least this many train")
      ->capture_default_str();
  app.add_option("--fraction-evaluate", s.base.sampling.fraction_evaluate,
                 "fraction of clients evaluating each round (needs --local-test-fraction)")
      ->capture_default_str();
  app.add_option("--epochs", s.base.fit.epochs, "local epochs per round")->capture_default_str();
  app.add_option("--batch-size", s.base.fit.batch_size, "local batch size")->capture_default_str();
  app.add_option("--lr", s.base.fit.learning_rate, "local SGD learning rate")
      ->capture_default_str();
  app.add_option("--momentum", s.base.fit.momentum, "local SGD momentum")->capture_default_str();
  app.add_option("--weight-decay", s.base.fit.weight_decay, "local L2 weight decay")
      ->capture_default_str();
  app.add_option("--mu", s.proximal_mu, "FedProx proximal coefficient")->capture_default_str();
  app.add_option("--server-lr", s.server_learning_rate, "server learning rate (fedavgm, scaffold)")
      ->capture_default_str();
  app.add_option("--server-momentum", s.server_momentum, "server momentum (fedavgm)")
      ->capture_default_str();
  app.add_option("--eta", s.adaptive.eta, "server learning rate (fedadam, fedyogi, fedadagrad)")
      ->capture_default_str();
  app.add_option("--beta1", s.adaptive.beta1, "server first-moment decay")->capture_default_str();
  app.add_option("--beta2", s.adaptive.beta2, "server second-moment decay")->capture_default_str();
  app.add_option("--tau", s.adaptive.tau, "server adaptivity (fedadam, fedyogi, fedadagrad)")
      ->capture_default_str();
  app.add_option("--trim-beta", s.trim_beta, "fraction trimmed from each end (fedtrimmedavg)")
      ->capture_default_str();
  app.add_option("--byzantine", s.num_byzantine, "tolerated Byzantine clients f (krum, multikrum)")
      ->capture_default_str();
  app.add_option("--krum-selected", s.krum_selected, "updates averaged by multikrum")
      ->capture_default_str();
}

}  // namespace fedra::apps
