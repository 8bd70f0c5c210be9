// fedra-server: runs federated training over gRPC with fedra-client processes (or
// applications embedding fedra::Client). Checkpoints after every round into --run-dir and,
// started again on the same directory, resumes at the next round.
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <CLI/CLI.hpp>

#include "apps/json_config.h"
#include "apps/plugin_flags.h"
#include "apps/round_line.h"
#include "apps/secure_sum_flags.h"
#include "apps/server_edge.h"
#include "apps/strategy_flags.h"
#include "apps/text_task.h"
#include "fedra/core/logging.h"
#include "fedra/fl/checkpoint.h"
#include "fedra/fl/federated_run.h"
#include "fedra/fl/metrics_log.h"
#include "fedra/fl/round_driver.h"
#include "fedra/fl/strategy_config.h"
#include "fedra/ml/csv_loader.h"
#include "fedra/ml/idx_loader.h"
#include "fedra/ml/model_zoo.h"
#include "fedra/ml/safetensors.h"
#include "fedra/ml/trainer.h"
#include "fedra/net/server.h"

namespace {

std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop = true; }

struct Flags {
  fedra::apps::PluginFlags plugins;
  fedra::ServerOptions server;
  std::string run_dir = "fedra-run";
  std::string port_file;
  int rounds = 10;
  std::string model = "cnn";
  std::string data = "fashion-mnist";
  std::string data_dir = fedra::kFashionMnistDir;
  std::string csv_test;
  int csv_classes = 0;
  std::vector<int64_t> input_shape;
  int num_classes = 10;
  fedra::apps::TextFlags text;
  fedra::StrategyConfig strategy;
  fedra::InfluenceBoundOptions influence;
  fedra::apps::SecureSumFlags secure;
  size_t min_clients = 2;
  double wait_seconds = 600;
  double max_failure_fraction = 0.5;
  int evaluate_every = 1;
  uint64_t seed = 1;
  std::string log_level = "info";
  fedra::apps::EdgeFlags edge;
};

fedra::Status Run(Flags f) {
  FEDRA_RETURN_IF_ERROR(fedra::SetLogLevel(f.log_level));
  auto log = fedra::Logger("server");
  if (f.strategy.num_total_clients == 0) f.strategy.num_total_clients = f.min_clients;
  // The root's clients are edges: DP counts and accounts the clients behind them.
  f.strategy.dp.across_tiers = !f.server.aggregators.empty();
  // Calibration assumes the --min-clients clients are the whole population.
  FEDRA_RETURN_IF_ERROR(fedra::apps::CalibrateDpNoise(f.strategy, f.min_clients, f.rounds));
  FEDRA_RETURN_IF_ERROR(fedra::ValidateInfluenceBoundOptions(f.influence));
  FEDRA_RETURN_IF_ERROR(fedra::apps::CheckRobustnessPreconditions(f.strategy, f.min_clients));
  std::unique_ptr<fedra::LoadedPlugin> plugin;
  FEDRA_ASSIGN_OR_RETURN(
      auto strategy, fedra::apps::NewStrategyFromFlags(f.plugins, f.strategy, f.rounds, &plugin));
  FEDRA_ASSIGN_OR_RETURN(f.server.secure,
                         fedra::apps::ServerSecureOptions(f.secure, f.strategy, *strategy));
  // A client from before local steps would train whole epochs: refused when it registers.
  if (f.strategy.base.fit.local_steps > 0)
    f.server.required_client_features.push_back(fedra::kClientFeatureLocalSteps);
  if (!f.server.aggregators.empty() && strategy->Name() == "scaffold") {
    // Its control update divides by its client total, which a root counts in edges.
    return fedra::InvalidArgumentError(
        "--aggregators cannot be combined with scaffold: its control update counts edges, "
        "not clients");
  }
  if (!f.edge.upstream.empty()) {
    if (f.strategy.dp.mode != fedra::DpMode::kNone) {
      return fedra::InvalidArgumentError(
          "--upstream cannot be combined with --dp-mode: DP across tiers is set at the root, "
          "which tells its edges how to clip, weight and noise");
    }
    // An edge holds no model of its own: the upper server sends it every round.
    f.server.model_name = f.model;
    fedra::RoundDriverOptions driver{.max_failure_fraction = f.max_failure_fraction};
    driver.influence = f.influence;
    log->info("edge aggregator for {}: strategy {} folds the rounds of at least {} clients",
              f.edge.upstream, strategy->Name(), f.min_clients);
    f.edge.seed = f.seed;  // the edge's client sampling, reproducible per round
    return fedra::apps::RunEdge(f.edge, f.server, *strategy, driver, f.min_clients, f.wait_seconds,
                                f.port_file, g_stop);
  }

  // The test split gives the model's input shape and the server-side accuracy.
  fedra::Dataset test;
  fedra::Shape shape(f.input_shape.begin(), f.input_shape.end());
  int classes = f.num_classes;
  if (f.data == "fashion-mnist") {
    FEDRA_ASSIGN_OR_RETURN(test, fedra::LoadFashionMnist(fedra::Split::kTest, f.data_dir));
  } else if (f.data == "csv") {
    if (f.csv_test.empty()) return fedra::InvalidArgumentError("--data csv needs --csv-test");
    FEDRA_ASSIGN_OR_RETURN(test, fedra::LoadCsv(f.csv_test, {.num_classes = f.csv_classes}));
  } else if (f.data == "spam-assassin") {
    FEDRA_ASSIGN_OR_RETURN(auto text, fedra::apps::LoadSpamAssassinTokens(f.data_dir, f.text));
    test = std::move(text.test);
  } else if (f.data != "none") {
    return fedra::InvalidArgumentError("unknown --data '" + f.data +
                                       "' (expected fashion-mnist, spam-assassin, csv or none)");
  }
  if (test.size() > 0) {
    shape = test.example_shape;
    classes = std::max(1, test.num_classes);
  } else if (shape.empty()) {
    return fedra::InvalidArgumentError("--data none needs --input-shape (and --classes)");
  }
  FEDRA_ASSIGN_OR_RETURN(auto model,
                         fedra::apps::NewModelFromFlags(f.model, f.text, shape, classes, f.seed));
  const std::string fingerprint =
      fedra::CheckpointFingerprint(f.model, model->parameters(), strategy->Name());

  std::error_code ec;
  std::filesystem::create_directories(f.run_dir, ec);
  if (ec)
    return fedra::InvalidArgumentError("cannot create --run-dir " + f.run_dir + ": " +
                                       ec.message());
  // The round's counters of refusals since the previous round go into its metrics (late
  // results are counted in the round after they arrive).
  std::unique_ptr<fedra::Server> server;
  fedra::ServerStats before;
  fedra::FederatedRunOptions ro{.num_rounds = f.rounds,
                                .run_dir = f.run_dir,
                                .metrics_path = f.run_dir + "/metrics.jsonl",
                                .fingerprint = fingerprint,
                                .run_id = f.server.run_id,
                                .seed = f.seed};
  ro.stop = &g_stop;
  ro.stop_on_empty_round = false;
  ro.before_round = [&](int) -> fedra::Status {
    const size_t live = server->WaitForClients(
        f.min_clients, std::chrono::milliseconds(static_cast<int64_t>(f.wait_seconds * 1000)));
    if (live < f.min_clients && !g_stop) {
      return fedra::UnavailableError("only " + std::to_string(live) + " of " +
                                     std::to_string(f.min_clients) + " clients connected within " +
                                     std::to_string(f.wait_seconds) + " s");
    }
    return fedra::OkStatus();
  };
  ro.annotate = [&](fedra::RoundMetrics& m) {
    const fedra::ServerStats stats = server->stats();
    auto delta = [&](const char* name, uint64_t now, uint64_t then) {
      m.extras[name] = static_cast<double>(now - then);
    };
    delta("late_results", stats.results_late, before.results_late);
    delta("results_rejected", stats.results_rejected, before.results_rejected);
    delta("auth_failures", stats.auth_failures, before.auth_failures);
    delta("uploads_stalled", stats.uploads_stalled, before.uploads_stalled);
    delta("registrations_refused", stats.registrations_refused, before.registrations_refused);
    delta("polls_refused", stats.polls_refused, before.polls_refused);
    delta("uploads_refused", stats.uploads_refused, before.uploads_refused);
    delta("forged_answers", stats.forged_answers, before.forged_answers);
    before = stats;
  };
  ro.on_round = [&](const fedra::RoundMetrics& m) {
    std::printf("%s\n", fedra::apps::FormatRoundLine(m, f.rounds, std::nullopt).c_str());
    std::fflush(stdout);
  };
  FEDRA_ASSIGN_OR_RETURN(auto run, fedra::FederatedRun::Open(ro, model->parameters()));
  if (run.resumed()) {
    f.server.run_id = run.run_id();
    f.seed = run.seed();
    log->info("resuming run {} from {} after round {}", run.run_id(), f.run_dir,
              run.next_round() - 1);
  }
  f.server.model_name = f.model;
  FEDRA_ASSIGN_OR_RETURN(server, fedra::Server::Start(f.server));
  std::printf("fedra-server listening on port %d, run %s\n", server->port(),
              server->run_id().c_str());
  std::fflush(stdout);
  if (!f.port_file.empty()) {
    std::ofstream(f.port_file) << server->port() << "\n";
  }
  auto eval_loss = fedra::NewSoftmaxCrossEntropy();
  fedra::RoundDriverOptions o{.max_failure_fraction = f.max_failure_fraction,
                              .evaluate_every = f.evaluate_every};
  o.influence = f.influence;
  o.client_lr_decay = fedra::apps::ClientLrDecay(f.strategy);
  if (test.size() > 0 && test.is_classification()) {
    o.server_evaluate = [&](int,
                            const fedra::Parameters& p) -> fedra::StatusOr<fedra::EvaluateResult> {
      FEDRA_RETURN_IF_ERROR(model->SetParameters(p));
      FEDRA_ASSIGN_OR_RETURN(auto e, fedra::Evaluate(*model, *eval_loss, test));
      return fedra::EvaluateResult{
          .num_examples = e.num_examples, .loss = e.loss, .accuracy = e.accuracy};
    };
  }
  log->info("strategy {}, model {} ({} parameters), rounds {}..{}, waiting for {} clients",
            strategy->Name(), f.model, model->parameters().size(), run.next_round(), f.rounds,
            f.min_clients);
  FEDRA_RETURN_IF_ERROR(run.Run(*strategy, server->pool(), o));
  if (run.strategy_stop()) {
    std::printf("the strategy ended the run before round %d: %s\n", run.next_round(),
                run.strategy_stop()->c_str());
  }
  const std::vector<fedra::RoundMetrics>& history = run.history();
  const fedra::Parameters& global = run.global();
  if (g_stop) {
    std::printf("stopped by a signal; start again with --run-dir %s to resume\n",
                f.run_dir.c_str());
    server->Shutdown();
    return fedra::OkStatus();
  }
  // Give polling clients time to hear that the run is over.
  server->Shutdown(
      std::chrono::milliseconds(static_cast<int64_t>(f.server.poll_seconds * 1000 + 1000)));
  const auto stats = server->stats();
  log->info(
      "results accepted {}, rejected {}, late {}; tasks timed out {}; auth failures {}; "
      "uploads stalled {}; registrations refused {}; polls refused {}; uploads refused {}; forged "
      "answers {}",
      stats.results_accepted, stats.results_rejected, stats.results_late, stats.tasks_timed_out,
      stats.auth_failures, stats.uploads_stalled, stats.registrations_refused, stats.polls_refused,
      stats.uploads_refused, stats.forged_answers);
  FEDRA_RETURN_IF_ERROR(fedra::WriteMetricsPlot(f.run_dir + "/metrics.svg", history));
  FEDRA_RETURN_IF_ERROR(
      fedra::SaveSafetensors(f.run_dir + "/model.safetensors", global, {{"model", f.model}}));
  if (!history.empty() && history.back().server_eval_accuracy) {
    std::printf("final test accuracy %.4f after %d rounds; model, metrics and plot in %s\n",
                *history.back().server_eval_accuracy, history.back().round, f.run_dir.c_str());
  }
  return fedra::OkStatus();
}

void AddFlags(CLI::App& app, Flags& f) {
  fedra::ServerOptions& s = f.server;
  app.add_option("--address", s.address, "listen address host:port (port 0: any free port)")
      ->capture_default_str();
  app.add_option("--port-file", f.port_file, "write the port listened on to this file");
  app.add_option(
         "--run-dir", f.run_dir,
         "checkpoint, metrics.jsonl, metrics.svg and model.safetensors go here; an existing "
         "checkpoint is resumed")
      ->capture_default_str();
  app.add_option("--rounds", f.rounds, "federated rounds")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--model", f.model,
                 "linear, logreg, mlp, cnn, simple-cnn, or text (a classifier on --encoder)")
      ->capture_default_str();
  app.add_option("--data", f.data,
                 "test data for server-side evaluation and the model's input shape: fashion-mnist, "
                 "spam-assassin, csv or none")
      ->capture_default_str();
  fedra::apps::AddTextFlags(app, f.text);
  app.add_option("--data-dir", f.data_dir, "Fashion-MNIST directory")->capture_default_str();
  app.add_option("--csv-test", f.csv_test, "test CSV (features..., label) for --data csv");
  app.add_option("--csv-classes", f.csv_classes, "classes in the CSV label column (0: regression)");
  app.add_option("--input-shape", f.input_shape, "model input shape for --data none, e.g. 1 28 28");
  app.add_option("--classes", f.num_classes, "model outputs for --data none")
      ->capture_default_str();
  app.add_option("--min-clients", f.min_clients,
                 "wait for this many live clients before each round")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--wait-seconds", f.wait_seconds, "give up if too few clients come within this")
      ->capture_default_str();
  app.add_option("--round-deadline", s.round_deadline_seconds,
                 "seconds a client has to answer a task; later results are dropped")
      ->capture_default_str();
  app.add_option("--liveness", s.liveness_seconds,
                 "a client silent this many seconds is considered gone (its task fails)")
      ->capture_default_str();
  app.add_option("--poll-seconds", s.poll_seconds, "long-poll length")->capture_default_str();
  app.add_option("--chunk-bytes", s.chunk_bytes, "model bytes per gRPC message")
      ->capture_default_str();
  app.add_option("--max-message-bytes", s.max_message_bytes, "larger gRPC messages are refused")
      ->capture_default_str();
  app.add_option("--max-result-groups", s.max_result_groups,
                 "model-sized groups a result may carry (the update and extras such as "
                 "SCAFFOLD's control delta); more is refused before allocating")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  // The server's count caps, each 1 to 10^9.
  auto limit = [&](const std::string& flag, size_t& value, const std::string& help) {
    app.add_option(flag, value, help)->check(CLI::Range(1, 1000000000))->capture_default_str();
  };
  limit("--max-clients", s.max_clients, "live clients registered at once, at most");
  limit("--max-clients-per-peer", s.max_clients_per_peer,
        "live clients registered from one IP address, at most");
  limit("--max-registrations-per-minute", s.max_registrations_per_minute,
        "registrations of one client identity per minute, at most");
  limit("--max-polls-per-client", s.max_polls_per_client,
        "task polls of one client waiting at once, at most");
  limit("--max-waiting-polls", s.max_waiting_polls,
        "task polls waiting at once (each costs memory, no thread), at most");
  limit("--max-uploads-per-client", s.max_uploads_per_client,
        "result uploads of one authenticated client open at once, at most");
  limit("--max-open-uploads", s.max_open_uploads,
        "result uploads open at once (each costs memory), at most");
  app.add_option("--upload-stall-seconds", s.upload_stall_seconds,
                 "cancel an upload that holds a slot and sends nothing for this long (0: never)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--max-inflight-results", s.max_inflight_results,
                 "uploaded updates held in memory at once (memory bound)")
      ->capture_default_str();
  app.add_option_function<size_t>(
         "--download-buffer-mb", [&s](size_t mb) { s.download_buffer_bytes = mb << 20; },
         "chunk memory that concurrent model downloads share (more downloads: smaller chunks)")
      ->check(CLI::Range(size_t{1}, size_t{1} << 20))
      ->default_str(std::to_string(s.download_buffer_bytes >> 20));
  app.add_option_function<size_t>(
         "--max-inflight-result-mb", [&s](size_t mb) { s.max_inflight_result_bytes = mb << 20; },
         "fewer uploads at once when --max-inflight-results of them would need more memory "
         "(at least one)")
      ->check(CLI::Range(size_t{1}, size_t{1} << 30))
      ->default_str(std::to_string(s.max_inflight_result_bytes >> 20));
  app.add_option("--cert", s.cert_file, "TLS server certificate (PEM)");
  app.add_option("--key", s.key_file, "TLS server private key (PEM)");
  app.add_option("--client-ca", s.client_ca_file,
                 "require client certificates signed by this CA (mTLS; identity = common name)");
  app.add_option("--aggregators", s.aggregators,
                 "identities (token names or mTLS common names) allowed to answer with folded "
                 "sums: edge fedra-servers started with --upstream")
      ->delimiter(',');
  fedra::apps::AddEdgeFlags(app, f.edge);
  app.add_option("--tokens", s.tokens_file,
                 "require bearer tokens listed in this file ('<client name> <token>' per line)");
  app.add_flag("--insecure", s.insecure, "plaintext, no TLS (testing only)");
  app.add_option("--max-failure-fraction", f.max_failure_fraction,
                 "a round with more failed clients than this fraction leaves the model unchanged")
      ->capture_default_str();
  app.add_option("--evaluate-every", f.evaluate_every,
                 "federated evaluation every N rounds (0: never)")
      ->capture_default_str();
  app.add_option("--seed", f.seed, "seed for initialisation and client sampling")
      ->capture_default_str();
  app.add_option("--log-level", f.log_level, "trace, debug, info, warn, error")
      ->capture_default_str();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"fedra-server: federated learning over gRPC"};
  Flags f;
  f.strategy.base.sampling.fraction_evaluate = 0.0;  // server-side evaluation by default
  fedra::apps::AddConfigOption(app);
  AddFlags(app, f);
  fedra::apps::AddStrategyFlags(app, f.strategy);
  fedra::apps::AddStrategyPluginFlag(app, f.plugins);
  fedra::apps::AddInfluenceFlags(app, f.influence);
  fedra::apps::AddSecureSumFlags(app, f.secure, /*server=*/true);
  CLI11_PARSE(app, argc, argv);
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  const fedra::Status s = Run(f);
  if (!s.ok()) {
    std::fprintf(stderr, "fedra-server: %s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}
