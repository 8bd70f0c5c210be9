// fedra-client: one federated participant. Loads its share of a dataset (the same seeded
// partition every client computes, so N processes get N disjoint parts), connects to
// fedra-server and trains whenever the server asks, until the run is finished.
#include <csignal>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include <CLI/CLI.hpp>

#include "apps/json_config.h"
#include "apps/plugin_flags.h"
#include "apps/text_task.h"
#include "apps/thread_flags.h"
#include "apps/token_file.h"
#include "fedra/core/logging.h"
#include "fedra/fl/federated_data.h"
#include "fedra/ml/csv_loader.h"
#include "fedra/ml/idx_loader.h"
#include "fedra/ml/model_zoo.h"
#include "fedra/ml/synthetic.h"
#include "fedra/net/client.h"

namespace {

fedra::Client* g_client = nullptr;
void OnSignal(int) {
  if (g_client) g_client->Stop();
}

struct Flags {
  fedra::apps::PluginFlags plugins;
  fedra::ClientOptions client;
  std::string token_file;
  std::string kill_at_stage;
  std::string model = "cnn";
  int threads = 1;
  std::string data = "fashion-mnist";
  std::string data_dir = fedra::kFashionMnistDir;
  std::string csv_train;
  int csv_classes = 0;
  fedra::PartitionConfig partition;
  fedra::apps::TextFlags text;
  size_t num_partitions = 1;
  size_t partition_index = 0;
  uint64_t seed = 1;
  std::string log_level = "info";
};

fedra::Status Run(Flags f) {
  FEDRA_RETURN_IF_ERROR(fedra::SetLogLevel(f.log_level));
  if (f.partition_index >= f.num_partitions) {
    return fedra::InvalidArgumentError("--partition-index must be below --num-partitions");
  }
  if (f.client.name.empty()) f.client.name = "client-" + std::to_string(f.partition_index + 1);
  if (!f.token_file.empty()) {
    FEDRA_ASSIGN_OR_RETURN(f.client.token, fedra::apps::ReadToken(f.token_file, f.client.name));
  }
  fedra::Rng rng = fedra::Rng(f.seed).Split(0xda7a);
  fedra::SimulatedClient mine;
  if (f.data == "synthetic") {
    fedra::FedProxSyntheticOptions o{.num_clients = f.num_partitions};
    FEDRA_ASSIGN_OR_RETURN(auto parts, fedra::MakeFedProxSynthetic(o, rng));
    fedra::Rng split_rng = rng.Split(f.partition_index);
    auto split = fedra::SplitTrainTest(parts[f.partition_index], 0.2, split_rng);
    mine = {std::move(split.train), std::move(split.test)};
  } else {
    fedra::Dataset all;
    if (f.data == "spam-assassin") {
      FEDRA_ASSIGN_OR_RETURN(auto text, fedra::apps::LoadSpamAssassinTokens(f.data_dir, f.text));
      if (f.partition.kind == "group") {
        FEDRA_ASSIGN_OR_RETURN(auto parts,
                               fedra::apps::PartitionTextByGroup(text, f.num_partitions));
        fedra::Rng split_rng = rng.Split(f.partition_index);
        auto split = fedra::SplitTrainTest(parts[f.partition_index],
                                           f.partition.local_test_fraction, split_rng);
        mine = {std::move(split.train), std::move(split.test)};
      }
      all = std::move(text.train);
    } else if (f.data == "fashion-mnist") {
      FEDRA_ASSIGN_OR_RETURN(all, fedra::LoadFashionMnist(fedra::Split::kTrain, f.data_dir));
    } else if (f.data == "csv") {
      if (f.csv_train.empty()) return fedra::InvalidArgumentError("--data csv needs --csv-train");
      FEDRA_ASSIGN_OR_RETURN(all, fedra::LoadCsv(f.csv_train, {.num_classes = f.csv_classes}));
    } else {
      return fedra::InvalidArgumentError(
          "unknown --data '" + f.data +
          "' (expected fashion-mnist, spam-assassin, csv or synthetic)");
    }
    if (mine.train.size() == 0) {
      FEDRA_ASSIGN_OR_RETURN(auto parts,
                             fedra::PartitionClients(all, f.num_partitions, f.partition, rng));
      mine = std::move(parts[f.partition_index]);
    }
  }
  FEDRA_ASSIGN_OR_RETURN(
      auto model, fedra::apps::NewModelFromFlags(f.model, f.text, mine.train.example_shape,
                                                 std::max(1, mine.train.num_classes), f.seed));
  FEDRA_RETURN_IF_ERROR(model->SetThreads(fedra::apps::CapModelThreads(f.threads)));
  auto loss = mine.train.is_classification() ? fedra::NewSoftmaxCrossEntropy()
                                             : fedra::NewMeanSquaredError();
  fedra::Logger("client")->info("{}: {} training and {} test examples, model {}", f.client.name,
                                mine.train.size(), mine.test.size(), f.model);
  if (!f.kill_at_stage.empty()) {
    f.client.on_stage = [at = f.kill_at_stage](const std::string& protocol, uint32_t stage) {
      if (protocol + "/" + std::to_string(stage) == at) {
        fedra::Logger("client")->warn("--kill-at-stage {}: killing this process", at);
        std::raise(SIGKILL);
      }
    };
  }
  // --trainer-plugin: the plugin's trainer, offered this client's data and model.
  FEDRA_ASSIGN_OR_RETURN(auto plugin, fedra::apps::LoadTrainerPlugin(f.plugins));
  std::unique_ptr<fedra::LocalTrainer> trainer;
  if (plugin) {
    FEDRA_ASSIGN_OR_RETURN(trainer, plugin->NewTrainer({.args = f.plugins.plugin_args,
                                                        .train = &mine.train,
                                                        .test = &mine.test,
                                                        .model = model.get(),
                                                        .seed = f.seed}));
    fedra::Logger("client")->info("training with {} from {}", plugin->name(), plugin->path());
  }
  fedra::Client client = trainer ? fedra::Client(*trainer, f.client)
                                 : fedra::Client(*model, *loss, mine.train, mine.test, f.client);
  g_client = &client;
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  fedra::Status s = client.Run();
  g_client = nullptr;
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"fedra-client: a federated-learning participant talking to fedra-server"};
  Flags f;
  f.partition.local_test_fraction = 0.1;
  fedra::apps::AddConfigOption(app);
  fedra::ClientOptions& c = f.client;
  app.add_option("--server", c.server, "server address host:port")->capture_default_str();
  app.add_option("--name", c.name, "client name (default client-<partition index + 1>)");
  app.add_flag("--insecure", c.insecure, "plaintext, no TLS (testing only)");
  app.add_option("--ca", c.ca_file, "CA certificate that signed the server's (PEM)");
  app.add_option("--cert", c.cert_file, "client certificate for mTLS (PEM)");
  app.add_option("--key", c.key_file, "client private key for mTLS (PEM)");
  app.add_option("--token-file", f.token_file,
                 "bearer token: a file with the token, or '<name> <token>' lines");
  app.add_option("--server-name", c.server_name_override,
                 "TLS name to verify instead of the address's host");
  app.add_option("--give-up-seconds", c.give_up_seconds,
                 "stop after this long without reaching the server")
      ->capture_default_str();
  app.add_option("--model", f.model, "must match the server's --model")->capture_default_str();
  fedra::apps::AddModelThreadsOption(app, &f.threads);
  app.add_option("--data", f.data, "fashion-mnist, spam-assassin, csv or synthetic")
      ->capture_default_str();
  fedra::apps::AddTextFlags(app, f.text);
  app.add_option("--data-dir", f.data_dir, "Fashion-MNIST directory")->capture_default_str();
  app.add_option("--csv-train", f.csv_train, "training CSV (features..., label)");
  app.add_option("--csv-classes", f.csv_classes, "classes in the CSV label column (0: regression)");
  app.add_option("--partition", f.partition.kind,
                 "iid, dirichlet, shards, quantity, or group (spam-assassin: one part per mail "
                 "group and mailbox)")
      ->capture_default_str();
  app.add_option("--alpha", f.partition.alpha, "Dirichlet concentration")->capture_default_str();
  app.add_option("--classes-per-client", f.partition.classes_per_client,
                 "classes per client (shards)")
      ->capture_default_str();
  app.add_option("--local-test-fraction", f.partition.local_test_fraction,
                 "fraction of the local data kept for federated evaluation")
      ->capture_default_str();
  app.add_option("--num-partitions", f.num_partitions, "how many parts the dataset is split into")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--partition-index", f.partition_index, "which part is this client's (from 0)")
      ->capture_default_str();
  app.add_option("--seed", f.seed, "partition seed (the same on every client)")
      ->capture_default_str();
  app.add_option("--train-seed", c.seed, "training randomness (0: from the OS)")
      ->capture_default_str();
  app.add_option("--log-level", f.log_level, "trace, debug, info, warn, error")
      ->capture_default_str();
  app.add_option("--paillier-secret-key", c.paillier_secret_key_file,
                 "Paillier secret key (mode 0600) for servers running --secure-sum paillier");
  fedra::apps::AddTrainerPluginFlag(app, f.plugins);
  app.add_option("--kill-at-stage", f.kill_at_stage,
                 "fault injection for tests: SIGKILL this process when the given secure-round "
                 "stage arrives, e.g. secagg/2 or paillier/0");
  CLI11_PARSE(app, argc, argv);
  const fedra::Status s = Run(f);
  if (!s.ok()) {
    std::fprintf(stderr, "fedra-client: %s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}
