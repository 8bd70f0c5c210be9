// fedra-train: centralized (non-federated) training on Fashion-MNIST, CSV or synthetic data.
// The baseline every federated run is compared against.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>

#include "apps/text_task.h"
#include "apps/thread_flags.h"
#include "fedra/core/logging.h"
#include "fedra/ml/backend.h"
#include "fedra/ml/csv_loader.h"
#include "fedra/ml/fine_tuning.h"
#include "fedra/ml/idx_loader.h"
#include "fedra/ml/metrics.h"
#include "fedra/ml/model_zoo.h"
#include "fedra/ml/safetensors.h"
#include "fedra/ml/text_model.h"
#include "fedra/ml/trainer.h"

namespace {

struct Flags {
  std::string model = "cnn";
  std::string data = "fashion-mnist";
  std::string data_dir = fedra::kFashionMnistDir;
  std::string csv_train, csv_test;
  int csv_classes = 0;
  int epochs = 10;
  int batch_size = 64;
  std::string optimizer = "sgd";
  float lr = 0.01f;
  float momentum = 0.9f;
  float weight_decay = 0.0f;
  double max_grad_norm = 0;
  double warmup_fraction = 0;
  size_t bow_buckets = 4096;
  fedra::apps::TextFlags text;
  size_t limit = 0;
  uint64_t seed = 1;
  int threads = 1;
  std::string save;
  std::string log_level = "info";
};

struct Data {
  fedra::Dataset train, test;
};

fedra::StatusOr<Data> LoadData(const Flags& f) {
  Data d;
  if (f.data == "fashion-mnist") {
    FEDRA_ASSIGN_OR_RETURN(d.train, fedra::LoadFashionMnist(fedra::Split::kTrain, f.data_dir));
    FEDRA_ASSIGN_OR_RETURN(d.test, fedra::LoadFashionMnist(fedra::Split::kTest, f.data_dir));
  } else if (f.data == "csv") {
    if (f.csv_train.empty() || f.csv_test.empty()) {
      return fedra::InvalidArgumentError("--data csv needs --csv-train and --csv-test");
    }
    const fedra::CsvOptions o{.num_classes = f.csv_classes};
    FEDRA_ASSIGN_OR_RETURN(d.train, fedra::LoadCsv(f.csv_train, o));
    FEDRA_ASSIGN_OR_RETURN(d.test, fedra::LoadCsv(f.csv_test, o));
  } else if (f.data == "spam-assassin") {
    FEDRA_ASSIGN_OR_RETURN(auto text, fedra::apps::LoadSpamAssassinTokens(f.data_dir, f.text));
    d.train = std::move(text.train);
    d.test = std::move(text.test);
    if (f.model == "logreg") {  // the linear baseline reads hashed token counts
      FEDRA_ASSIGN_OR_RETURN(d.train, fedra::HashedBagOfTokens(d.train, f.bow_buckets));
      FEDRA_ASSIGN_OR_RETURN(d.test, fedra::HashedBagOfTokens(d.test, f.bow_buckets));
    }
  } else {
    return fedra::InvalidArgumentError("unknown --data '" + f.data +
                                       "' (expected fashion-mnist, spam-assassin or csv)");
  }
  if (f.limit > 0 && f.limit < d.train.size()) {
    std::vector<size_t> first(f.limit);
    for (size_t i = 0; i < f.limit; ++i) first[i] = i;
    d.train = d.train.Subset(first);
  }
  return d;
}

fedra::StatusOr<std::unique_ptr<fedra::Optimizer>> MakeOptimizer(const Flags& f,
                                                                 const fedra::Model& model) {
  if (f.optimizer == "sgd") {
    return fedra::NewSgd(
        {.learning_rate = f.lr, .momentum = f.momentum, .weight_decay = f.weight_decay});
  }
  if (f.optimizer == "adam")
    return fedra::NewAdam({.learning_rate = f.lr, .weight_decay = f.weight_decay});
  if (f.optimizer == "adamw")
    return fedra::NewAdamW({.learning_rate = f.lr,
                            .weight_decay = f.weight_decay,
                            .decay_mask = fedra::WeightDecayMask(model.parameters())});
  return fedra::InvalidArgumentError("unknown --optimizer '" + f.optimizer +
                                     "' (expected sgd, adam or adamw)");
}

fedra::Status Run(const Flags& f) {
  FEDRA_RETURN_IF_ERROR(fedra::SetLogLevel(f.log_level));
  auto log = fedra::Logger("train");
  FEDRA_ASSIGN_OR_RETURN(Data data, LoadData(f));
  const bool regression = data.train.num_classes == 0;
  const int outputs =
      regression ? static_cast<int>(data.train.targets.rows()) : data.train.num_classes;
  FEDRA_ASSIGN_OR_RETURN(
      auto model,
      fedra::apps::NewModelFromFlags(f.model, f.text, data.train.example_shape, outputs, f.seed));
  const int threads = fedra::apps::CapModelThreads(f.threads);
  FEDRA_RETURN_IF_ERROR(model->SetThreads(threads));
  FEDRA_ASSIGN_OR_RETURN(auto optimizer, MakeOptimizer(f, *model));
  auto loss = regression ? fedra::NewMeanSquaredError() : fedra::NewSoftmaxCrossEntropy();
  log->info("model {} ({} parameters), {} train / {} test examples, {} lr {} batch {}",
            model->Name(), model->parameters().size(), data.train.size(), data.test.size(),
            f.optimizer, f.lr, f.batch_size);
  log->info("{} thread(s); {}", threads, fedra::MlBackendInfo());
  fedra::Rng rng(f.seed);
  fedra::TrainOptions options{
      .epochs = f.epochs, .batch_size = f.batch_size, .max_grad_norm = f.max_grad_norm};
  if (f.warmup_fraction > 0) {  // linear warm-up, then linear decay to 0 over the run
    const int64_t steps =
        f.epochs * ((static_cast<int64_t>(data.train.size()) + f.batch_size - 1) / f.batch_size);
    options.schedule = fedra::LrSchedule{
        .peak = f.lr,
        .warmup_steps = static_cast<int64_t>(f.warmup_fraction * static_cast<double>(steps)),
        .total_steps = std::max<int64_t>(steps, 1)};
  }
  fedra::Status eval_status;
  options.on_epoch_end = [&](const fedra::EpochStats& s) {
    // On spam-assassin accuracy and spam F1 come from one pass over the test set.
    const bool spam = f.data == "spam-assassin";
    auto test = [&]() -> fedra::StatusOr<fedra::ClassEvaluation> {
      if (spam) return fedra::EvaluateAndScoreClass(*model, *loss, data.test, 1);
      FEDRA_ASSIGN_OR_RETURN(auto e, fedra::Evaluate(*model, *loss, data.test));
      return fedra::ClassEvaluation{.eval = e};
    }();
    if (!test.ok()) {
      eval_status = test.status();
      return;
    }
    std::string f1;
    if (spam) f1 = "  spam F1 " + std::to_string(test->scores.f1).substr(0, 6);
    std::printf("epoch %2d/%d  train loss %.4f acc %.4f  test loss %.4f acc %.4f%s  %.1f s\n",
                s.epoch, f.epochs, s.loss, s.accuracy, test->eval.loss, test->eval.accuracy,
                f1.c_str(), s.seconds);
    std::fflush(stdout);
  };
  FEDRA_ASSIGN_OR_RETURN(auto fit, fedra::Fit(*model, *loss, *optimizer, data.train, options, rng));
  FEDRA_RETURN_IF_ERROR(eval_status);
  if (!f.save.empty()) {
    FEDRA_RETURN_IF_ERROR(fedra::SaveSafetensors(
        f.save, model->parameters(), {{"model", f.model}, {"epochs", std::to_string(f.epochs)}}));
    log->info("saved parameters to {}", f.save);
  }
  return fedra::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"fedra-train: centralized training (the baseline for federated runs)"};
  Flags f;
  app.add_option("--model", f.model,
                 "linear, logreg, mlp, cnn (LeNet-5 style), simple-cnn (NIID-Bench's), or text "
                 "(a classifier on --encoder; logreg on spam-assassin reads hashed token counts)")
      ->check(CLI::IsMember({"linear", "logreg", "mlp", "cnn", "simple-cnn", "text"}))
      ->capture_default_str();
  app.add_option("--data", f.data, "fashion-mnist, spam-assassin or csv")->capture_default_str();
  fedra::apps::AddTextFlags(app, f.text);
  app.add_option("--bow-buckets", f.bow_buckets, "hash buckets of the logreg baseline on text")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--max-grad-norm", f.max_grad_norm, "clip gradients to this L2 norm (0: off)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--warmup-fraction", f.warmup_fraction,
                 "> 0: warm the learning rate up over this fraction of the steps, then decay "
                 "it linearly to 0")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  fedra::apps::AddModelThreadsOption(app, &f.threads);
  app.add_option("--data-dir", f.data_dir, "directory holding the Fashion-MNIST .gz files")
      ->capture_default_str();
  app.add_option("--csv-train", f.csv_train, "training CSV (features..., label), with --data csv");
  app.add_option("--csv-test", f.csv_test, "test CSV, with --data csv");
  app.add_option("--csv-classes", f.csv_classes,
                 "number of classes in the CSV label column (0: regression)");
  app.add_option("--epochs", f.epochs, "passes over the training data")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--batch-size", f.batch_size, "examples per step")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--optimizer", f.optimizer, "sgd, adam or adamw")->capture_default_str();
  app.add_option("--lr", f.lr, "learning rate")->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--momentum", f.momentum, "SGD momentum")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--weight-decay", f.weight_decay,
                 "L2 (sgd, adam) or decoupled (adamw) weight decay")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--limit", f.limit, "use only the first N training examples (0: all)")
      ->capture_default_str();
  app.add_option("--seed", f.seed, "seed for initialisation and shuffling")->capture_default_str();
  app.add_option("--save", f.save, "write the trained parameters to this .safetensors file");
  app.add_option("--log-level", f.log_level, "trace, debug, info, warn, error")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  const fedra::Status s = Run(f);
  if (!s.ok()) {
    std::fprintf(stderr, "fedra-train: %s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}
