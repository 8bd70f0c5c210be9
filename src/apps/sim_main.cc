// fedra-sim: federated learning with N virtual clients in one process (or spread over the
// ranks of an MPI job: mpirun -n R fedra-sim ..., with fedra::mpi). The same strategies and
// round driver as fedra-server; clients train in parallel on a thread pool.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include <CLI/CLI.hpp>

#include "apps/plugin_flags.h"
#include "apps/round_line.h"
#include "apps/secure_sum_flags.h"
#include "apps/strategy_flags.h"
#include "apps/text_task.h"
#include "fedra/core/logging.h"
#include "fedra/fl/checkpoint.h"
#include "fedra/fl/federated_data.h"
#include "fedra/fl/federated_run.h"
#include "fedra/fl/metrics_log.h"
#include "fedra/fl/round_driver.h"
#include "fedra/fl/simulation.h"
#include "fedra/fl/strategy_config.h"
#include "fedra/ml/csv_loader.h"
#include "fedra/ml/idx_loader.h"
#include "fedra/ml/metrics.h"
#include "fedra/ml/model_zoo.h"
#include "fedra/ml/safetensors.h"
#include "fedra/ml/synthetic.h"
#include "fedra/ml/trainer.h"
#ifdef FEDRA_HAVE_MPI
#include "fedra/mpi/mpi_simulation.h"
#else
namespace fedra {
class MpiWorld;  // fedra-sim built without fedra::mpi: never created
}  // namespace fedra
#endif

namespace {

struct Flags {
  fedra::apps::PluginFlags plugins;
  size_t clients = 10;
  int rounds = 10;
  std::string model = "cnn";
  std::string data = "fashion-mnist";
  std::string data_dir = fedra::kFashionMnistDir;
  std::string csv_train, csv_test;
  int csv_classes = 0;
  double synthetic_alpha = 1.0, synthetic_beta = 1.0;
  fedra::PartitionConfig partition;
  fedra::StrategyConfig strategy;
  fedra::InfluenceBoundOptions influence{.enabled =
                                             false};  // in-process clients are the user's own
  fedra::apps::SecureSumFlags secure_sum;
  fedra::apps::TextFlags text;
  size_t threads = std::max(1u, std::thread::hardware_concurrency());
  uint64_t seed = 1;
  double max_failure_fraction = 0.5;
  int evaluate_every = 1;
  std::string metrics_out, plot_out, save, run_dir;
  std::string log_level = "info";
};

struct Data {
  fedra::Dataset train, test;  // test may be empty (synthetic data)
  std::vector<fedra::SimulatedClient> clients;
};

fedra::Status LoadData(const Flags& f, Data& d) {
  fedra::Rng rng = fedra::Rng(f.seed).Split(0xda7a);
  if (f.data == "synthetic") {
    fedra::FedProxSyntheticOptions o{
        .alpha = f.synthetic_alpha, .beta = f.synthetic_beta, .num_clients = f.clients};
    FEDRA_ASSIGN_OR_RETURN(auto per_client, fedra::MakeFedProxSynthetic(o, rng));
    for (auto& ds : per_client) {
      fedra::Rng split_rng = rng.Split(d.clients.size());
      auto split = fedra::SplitTrainTest(ds, 0.2, split_rng);
      d.clients.push_back({std::move(split.train), std::move(split.test)});
    }
    return fedra::OkStatus();
  }
  if (f.data == "fashion-mnist") {
    FEDRA_ASSIGN_OR_RETURN(d.train, fedra::LoadFashionMnist(fedra::Split::kTrain, f.data_dir));
    FEDRA_ASSIGN_OR_RETURN(d.test, fedra::LoadFashionMnist(fedra::Split::kTest, f.data_dir));
  } else if (f.data == "csv") {
    if (f.csv_train.empty()) return fedra::InvalidArgumentError("--data csv needs --csv-train");
    const fedra::CsvOptions o{.num_classes = f.csv_classes};
    FEDRA_ASSIGN_OR_RETURN(d.train, fedra::LoadCsv(f.csv_train, o));
    if (!f.csv_test.empty()) {
      FEDRA_ASSIGN_OR_RETURN(d.test, fedra::LoadCsv(f.csv_test, o));
    }
  } else if (f.data == "spam-assassin") {
    FEDRA_ASSIGN_OR_RETURN(auto text, fedra::apps::LoadSpamAssassinTokens(f.data_dir, f.text));
    if (f.partition.kind == "group") {
      FEDRA_ASSIGN_OR_RETURN(auto parts, fedra::apps::PartitionTextByGroup(text, f.clients));
      for (auto& p : parts) d.clients.push_back({.train = std::move(p), .test = {}});
    }
    d.train = std::move(text.train);
    d.test = std::move(text.test);
    if (!d.clients.empty()) return fedra::OkStatus();
  } else {
    return fedra::InvalidArgumentError(
        "unknown --data '" + f.data +
        "' (expected fashion-mnist, spam-assassin, csv or synthetic)");
  }
  FEDRA_ASSIGN_OR_RETURN(d.clients, fedra::PartitionClients(d.train, f.clients, f.partition, rng));
  return fedra::OkStatus();
}

// What a resumed run must share with its checkpoint: model, strategy, data and seed.
std::string SimFingerprint(const Flags& f, const fedra::Parameters& params,
                           const std::string& strategy) {
  const fedra::PartitionConfig& p = f.partition;
  return fedra::CheckpointFingerprint(f.model, params, strategy) + "; fedra-sim data " + f.data +
         " clients " + std::to_string(f.clients) + " partition " + p.kind + " alpha " +
         std::to_string(p.alpha) + " classes-per-client " + std::to_string(p.classes_per_client) +
         " local-test " + std::to_string(p.local_test_fraction) + " seed " + std::to_string(f.seed);
}

// The settings that cannot be spread over MPI ranks (they need every update in one place, or
// a protocol between the clients), or "".
std::string NotForMpi(const Flags& f, const fedra::Strategy& strategy) {
  if (f.secure_sum.kind != "none") return "--secure-sum " + f.secure_sum.kind;
  if (f.influence.enabled) return "--influence-bound";
  if (strategy.mode() == fedra::AggregationMode::kIndividual)
    return "--strategy " + strategy.Name();
  return "";
}

// `world` is the MPI job this process is a rank of, or null for a one-process run.
fedra::Status Run(Flags f, const fedra::MpiWorld* world) {
  int rank = 0, ranks = 1;
#ifdef FEDRA_HAVE_MPI
  if (world != nullptr) {
    rank = world->rank(), ranks = world->size();
    FEDRA_RETURN_IF_ERROR(fedra::MpiSimulation::CheckWorldSize(*world));
  }
#endif
  // Rank 0 speaks for the job: the other ranks log only warnings and errors.
  if (rank > 0 && f.log_level == "info") f.log_level = "warn";
  FEDRA_RETURN_IF_ERROR(fedra::SetLogLevel(f.log_level));
  auto log = fedra::Logger("sim");
  // Check the flags before the (slow) data loading.
  if (f.partition.kind == "group" && f.data != "spam-assassin")
    return fedra::InvalidArgumentError("--partition group is for --data spam-assassin");
  if (f.strategy.num_total_clients == 0) f.strategy.num_total_clients = f.clients;
  FEDRA_RETURN_IF_ERROR(fedra::apps::CalibrateDpNoise(f.strategy, f.clients, f.rounds));
#ifdef FEDRA_HAVE_MPI
  // Every rank computes the next model itself, so the server's DP noise must be the same on
  // all of them: rank 0 draws its seed from the OS and tells the others.
  if (world != nullptr && f.strategy.dp.mode != fedra::DpMode::kNone && !f.strategy.dp.seed) {
    f.strategy.dp.seed = world->SharedRandomSeed();
  }
#endif
  FEDRA_RETURN_IF_ERROR(fedra::ValidateInfluenceBoundOptions(f.influence));
  FEDRA_RETURN_IF_ERROR(fedra::apps::CheckRobustnessPreconditions(f.strategy, f.clients));
  std::unique_ptr<fedra::LoadedPlugin> strategy_plugin;
  FEDRA_ASSIGN_OR_RETURN(auto strategy, fedra::apps::NewStrategyFromFlags(
                                            f.plugins, f.strategy, f.rounds, &strategy_plugin));
  if (world != nullptr) {
    const std::string no = NotForMpi(f, *strategy);
    if (!no.empty()) {
      return fedra::InvalidArgumentError(
          no +
          " cannot run over MPI ranks: each rank folds its clients' updates into partial "
          "sums, so only plain rounds of sum-based strategies (fedavg, fedprox, scaffold, "
          "fednova, ...) spread; run it in one process");
    }
  }
  FEDRA_ASSIGN_OR_RETURN(auto trainer_plugin, fedra::apps::LoadTrainerPlugin(f.plugins));
  FEDRA_ASSIGN_OR_RETURN(auto secure,
                         fedra::apps::MakeSecureSum(f.secure_sum, *strategy, f.threads, f.seed));
  Data data;
  FEDRA_RETURN_IF_ERROR(LoadData(f, data));
  const fedra::Dataset& shape_src = data.clients.front().train;
  FEDRA_ASSIGN_OR_RETURN(
      auto model, fedra::apps::NewModelFromFlags(f.model, f.text, shape_src.example_shape,
                                                 std::max(1, shape_src.num_classes), f.seed));
  auto make_loss = [&] {
    return shape_src.is_classification() ? fedra::NewSoftmaxCrossEntropy()
                                         : fedra::NewMeanSquaredError();
  };
  const size_t clients = data.clients.size();
  std::unique_ptr<fedra::Simulation> sim;
  const fedra::SimulationOptions sim_options{.threads = f.threads, .seed = f.seed};
  if (trainer_plugin) {
    // The plugin's trainers get each client's share of the data and the model, to use or not.
    fedra::TrainerFactory factory =
        [&](fedra::ClientId c,
            size_t worker) -> fedra::StatusOr<std::unique_ptr<fedra::LocalTrainer>> {
      return trainer_plugin->NewTrainer({.args = f.plugins.plugin_args,
                                         .client = c,
                                         .num_clients = clients,
                                         .train = &data.clients[c].train,
                                         .test = &data.clients[c].test,
                                         .model = model.get(),
                                         .seed = f.seed,
                                         .worker = worker});
    };
    FEDRA_ASSIGN_OR_RETURN(sim, fedra::Simulation::Create(clients, factory, sim_options));
  } else {
    FEDRA_ASSIGN_OR_RETURN(
        sim, fedra::Simulation::Create(*model, make_loss(), std::move(data.clients), sim_options));
  }
  const fedra::Parameters initial = model->parameters();
  // Rank r > 0 checkpoints its own clients' state into run-dir/rank-r; only rank 0 writes the
  // metrics and the outputs.
  std::string fingerprint = SimFingerprint(f, initial, strategy->Name());
  if (world != nullptr) fingerprint += " mpi-ranks " + std::to_string(ranks);
  if (rank > 0) {
    if (!f.run_dir.empty()) f.run_dir += "/rank-" + std::to_string(rank);
    f.metrics_out.clear(), f.plot_out.clear(), f.save.clear();
  }
  fedra::FederatedRunOptions ro{.num_rounds = f.rounds,
                                .run_dir = f.run_dir,
                                .metrics_path = f.metrics_out,
                                .fingerprint = fingerprint,
                                .run_id = "fedra-sim",
                                .seed = f.seed};
  ro.export_clients = [&] { return sim->ExportClientState(); };
  ro.import_clients = [&](const std::map<std::string, std::vector<float>>& state) {
    return sim->ImportClientState(state);
  };
  fedra::RoundDriverOptions o{.max_failure_fraction = f.max_failure_fraction,
                              .evaluate_every = f.evaluate_every,
                              .secure_sum = secure->sum.get()};
  o.influence = f.influence;
  o.client_lr_decay = fedra::apps::ClientLrDecay(f.strategy);
  auto eval_model = model->Clone();
  auto eval_loss = make_loss();
  std::optional<double> spam_f1;  // of the last server evaluation, on spam-assassin
  if (data.test.size() > 0 && rank == 0) {
    o.server_evaluate =
        [&](int, const fedra::Parameters& params) -> fedra::StatusOr<fedra::EvaluateResult> {
      FEDRA_RETURN_IF_ERROR(eval_model->SetParameters(params));
      fedra::EvalResult e;
      if (f.data == "spam-assassin") {  // accuracy and spam F1 from one pass
        FEDRA_ASSIGN_OR_RETURN(auto both,
                               fedra::EvaluateAndScoreClass(*eval_model, *eval_loss, data.test, 1));
        e = both.eval;
        spam_f1 = both.scores.f1;
      } else {
        FEDRA_ASSIGN_OR_RETURN(e, fedra::Evaluate(*eval_model, *eval_loss, data.test));
      }
      return fedra::EvaluateResult{
          .num_examples = e.num_examples, .loss = e.loss, .accuracy = e.accuracy};
    };
  }
  const auto start = std::chrono::steady_clock::now();
  int first_round = 1;
  ro.annotate = [&](fedra::RoundMetrics& m) {
    if (spam_f1) m.extras["spam_f1"] = *std::exchange(spam_f1, std::nullopt);
  };
  ro.on_round = [&](const fedra::RoundMetrics& m) {
    if (rank > 0) return;
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double eta = elapsed / (m.round - first_round + 1) * (f.rounds - m.round);
    std::printf("%s\n", fedra::apps::FormatRoundLine(m, f.rounds, eta).c_str());
    std::fflush(stdout);
  };
  FEDRA_ASSIGN_OR_RETURN(auto run, fedra::FederatedRun::Open(ro, initial));
  first_round = run.next_round();
  if (run.resumed()) {
    log->info("resuming from {} after round {} of {}", f.run_dir, first_round - 1, f.rounds);
  }
  log->info("{} clients, strategy {}, model {} ({} parameters), {} threads, {} rounds", clients,
            strategy->Name(), model->Name(), model->parameters().size(), f.threads, f.rounds);
  fedra::ClientPool* pool = sim.get();
#ifdef FEDRA_HAVE_MPI
  std::unique_ptr<fedra::MpiSimulation> spread;
  if (world != nullptr) {
    // Each rank resumes from its own checkpoint: all must stand at the same round and model.
    const bool same_round = world->AllEqual(static_cast<uint64_t>(first_round));
    if (!same_round || !world->AllEqual(run.global().span())) {
      return fedra::FailedPreconditionError(
          "the ranks' checkpoints (--run-dir and its rank-* folders) are at different rounds or "
          "models: resume them together, or start the run again");
    }
    FEDRA_ASSIGN_OR_RETURN(spread, fedra::MpiSimulation::Create(*sim, *world));
    pool = spread.get();
    log->info("spread over {} MPI ranks, {} threads each", ranks, f.threads);
  }
#endif
  FEDRA_RETURN_IF_ERROR(run.Run(*strategy, *pool, o));
  if (rank > 0) return fedra::OkStatus();
  const std::vector<fedra::RoundMetrics>& history = run.history();
  const fedra::Parameters& final_model = run.global();
  if (run.strategy_stop()) {
    std::printf("stopped after %zu rounds: %s\n", history.size(), run.strategy_stop()->c_str());
  }
  if (!history.empty() && history.back().extras.contains("dp_epsilon")) {
    std::printf("privacy: epsilon %.4f at delta %g after %zu rounds\n",
                history.back().extras.at("dp_epsilon"), f.strategy.dp.delta, history.size());
  }
  if (!f.plot_out.empty()) FEDRA_RETURN_IF_ERROR(fedra::WriteMetricsPlot(f.plot_out, history));
  if (!f.save.empty())
    FEDRA_RETURN_IF_ERROR(fedra::SaveSafetensors(f.save, final_model, {{"model", f.model}}));
  return fedra::OkStatus();
}

void AddFlags(CLI::App& app, Flags& f) {
  app.set_config("--config", "",
                 "read options from a TOML/INI file (keys are the long option names)");
  app.add_option("--clients", f.clients, "number of virtual clients")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--rounds", f.rounds, "federated rounds")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--model", f.model,
                 "linear, logreg, mlp, cnn, simple-cnn, or text (a classifier on --encoder)")
      ->capture_default_str();
  app.add_option("--data", f.data,
                 "fashion-mnist, spam-assassin, csv or synthetic (FedProx Synthetic(alpha, beta))")
      ->capture_default_str();
  app.add_option("--data-dir", f.data_dir,
                 "Fashion-MNIST directory (for spam-assassin the default is data/spam-assassin)")
      ->capture_default_str();
  app.add_option("--csv-train", f.csv_train, "training CSV (features..., label)");
  app.add_option("--csv-test", f.csv_test, "test CSV for server-side evaluation");
  app.add_option("--csv-classes", f.csv_classes, "classes in the CSV label column (0: regression)");
  app.add_option("--synthetic-alpha", f.synthetic_alpha,
                 "Synthetic(alpha, beta): model heterogeneity")
      ->capture_default_str();
  app.add_option("--synthetic-beta", f.synthetic_beta, "Synthetic(alpha, beta): data heterogeneity")
      ->capture_default_str();
  app.add_option(
         "--partition", f.partition.kind,
         "iid, dirichlet, shards, quantity, or group (spam-assassin: clients per mail group)")
      ->capture_default_str();
  app.add_option("--alpha", f.partition.alpha, "Dirichlet concentration (dirichlet, quantity)")
      ->capture_default_str();
  app.add_option("--classes-per-client", f.partition.classes_per_client,
                 "classes per client (shards)")
      ->capture_default_str();
  app.add_option("--local-test-fraction", f.partition.local_test_fraction,
                 "fraction of each client's data kept for federated evaluation (0: none)")
      ->capture_default_str();
}

void AddRunFlags(CLI::App& app, Flags& f) {
  app.add_option("--threads", f.threads, "worker threads (results do not depend on it)")
      ->capture_default_str();
  app.add_option("--seed", f.seed, "seed for data split, initialisation, sampling and training")
      ->capture_default_str();
  app.add_option("--max-failure-fraction", f.max_failure_fraction,
                 "a round with more failed clients than this fraction leaves the model unchanged")
      ->capture_default_str();
  app.add_option("--evaluate-every", f.evaluate_every, "evaluate every N rounds (0: never)")
      ->capture_default_str();
  app.add_option("--metrics-out", f.metrics_out,
                 "write per-round metrics as JSON lines to this file");
  app.add_option("--plot-out", f.plot_out,
                 "write an SVG plot of accuracy and loss per round to this file");
  app.add_option("--save", f.save, "write the final global model to this .safetensors file");
  app.add_option("--run-dir", f.run_dir,
                 "checkpoint after every round into this directory; a checkpoint found there is "
                 "resumed (the same flags continue the run bit for bit, DP noise aside)");
  app.add_option("--log-level", f.log_level, "trace, debug, info, warn, error")
      ->capture_default_str();
}

}  // namespace

int main(int argc, char** argv) {
#ifdef FEDRA_HAVE_MPI
  std::unique_ptr<fedra::MpiWorld> world;
  if (fedra::MpiWorld::Launched()) {
    auto init = fedra::MpiWorld::Init(&argc, &argv);
    if (!init.ok()) {
      std::fprintf(stderr, "fedra-sim: %s\n", init.status().ToString().c_str());
      return 1;
    }
    world = std::move(init).value();
  }
  const fedra::MpiWorld* in_world = world.get();
#else
  const fedra::MpiWorld* in_world = nullptr;
  // Any launcher's environment (Open MPI, PMIx, PMI: mpirun, srun).
  const bool launched = std::getenv("OMPI_COMM_WORLD_SIZE") || std::getenv("PMIX_RANK") ||
                        std::getenv("PMI_RANK") || std::getenv("PMI_SIZE");
  if (launched) {
    std::fprintf(stderr,
                 "fedra-sim: started by mpirun, but built without MPI: every rank would run the "
                 "whole simulation (install libopenmpi-dev and rebuild for fedra::mpi)\n");
    return 1;
  }
#endif
  CLI::App app{"fedra-sim: federated learning with virtual clients in one process or over MPI"};
  Flags f;
  AddFlags(app, f);
  fedra::apps::AddStrategyFlags(app, f.strategy);
  fedra::apps::AddStrategyPluginFlag(app, f.plugins);
  fedra::apps::AddTrainerPluginFlag(app, f.plugins);
  fedra::apps::AddInfluenceFlags(app, f.influence);
  fedra::apps::AddSecureSumFlags(app, f.secure_sum);
  fedra::apps::AddTextFlags(app, f.text);
  AddRunFlags(app, f);
  CLI11_PARSE(app, argc, argv);
  const fedra::Status s = Run(f, in_world);
  if (!s.ok()) {
#ifdef FEDRA_HAVE_MPI
    // One rank's error ends the job: the others would wait for it forever.
    if (world != nullptr) world->Abort("fedra-sim: " + s.ToString());
#endif
    std::fprintf(stderr, "fedra-sim: %s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}
