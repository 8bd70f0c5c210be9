// A plugin for the stock programs (fedra/fl/plugin.h), with both halves:
//
// - strategy "scaled-fedavg": FedAvg whose server step is scaled (--plugin-args
//   "server_lr=0.5"), which tells every client the round number and a local learning-rate
//   scale through the open round config, and reports its step size after each round;
// - trainer "eigen-softmax": a softmax regression written directly on Eigen (not fedra's
//   layers or training loop) on the layout of fedra's `logreg` model ("0.weight" {classes,
//   in}, "0.bias" {classes}), so it federates with a stock `fedra-server --model logreg`.
//
//   fedra-server --model logreg --strategy-plugin libexample_plugin.so --plugin-args server_lr=0.5
//   ... fedra-client --model logreg --trainer-plugin libexample_plugin.so ... fedra-sim --model
//   logreg --strategy-plugin libexample_plugin.so --trainer-plugin libexample_plugin.so
#include <cmath>
#include <stdexcept>
#include <string>

#include "fedra/fl/plugin.h"

namespace {

// --- the strategy ---------------------------------------------------------------------------
class ScaledFedAvg final : public fedra::Strategy {
 public:
  ScaledFedAvg(fedra::SamplingOptions sampling, fedra::FitConfig fit, double server_lr)
      : sampling_(sampling), fit_(std::move(fit)), server_lr_(server_lr) {}

  std::string Name() const override { return "scaled-fedavg"; }
  fedra::AggregationMode mode() const override { return fedra::AggregationMode::kWeightedSum; }

  fedra::StatusOr<fedra::RoundPlan> ConfigureFit(int round, const fedra::Parameters&,
                                                 std::span<const fedra::ClientId> available,
                                                 fedra::Rng& rng) override {
    fedra::FitConfig fit = fit_;
    fit.extra["round"] = int64_t{round};
    fit.extra["lr_scale"] = 1.0 / std::sqrt(static_cast<double>(round));
    return fedra::PlanFitRound(sampling_, fit, available, rng);
  }

  // Fold() is inherited (FedAvg's): sum("update") += n * update, scalar("weight") += n.
  fedra::StatusOr<fedra::Parameters> AggregateFit(int, const fedra::Parameters& global,
                                                  const fedra::AggregateInput& in) override {
    FEDRA_ASSIGN_OR_RETURN(const fedra::Parameters* sum, in.sums->Sum("update"));
    fedra::Parameters next = global;
    next.Axpy(static_cast<float>(server_lr_ / in.sums->scalar("weight")), *sum);
    return next;
  }

  fedra::StatusOr<std::vector<fedra::EvaluateTask>> ConfigureEvaluate(
      int round, const fedra::Parameters&, std::span<const fedra::ClientId> available,
      fedra::Rng& rng) override {
    FEDRA_ASSIGN_OR_RETURN(auto tasks, fedra::SampleEvaluateTasks(available, sampling_, rng));
    for (auto& t : tasks) t.extra["round"] = int64_t{round};
    return tasks;
  }

  fedra::MetricMap RoundReport() const override { return {{"server_lr", server_lr_}}; }

 private:
  fedra::SamplingOptions sampling_;
  fedra::FitConfig fit_;
  double server_lr_;
};

// --- the trainer ----------------------------------------------------------------------------
class EigenSoftmax final : public fedra::LocalTrainer {
 public:
  EigenSoftmax(const fedra::Dataset& train, const fedra::Dataset& test)
      : train_(train), test_(test) {}

  fedra::StatusOr<fedra::FitResult> Fit(const fedra::Parameters& global,
                                        const fedra::FitConfig& config,
                                        const std::map<std::string, fedra::Parameters>&,
                                        fedra::Rng& rng) override {
    if (config.scaffold || config.proximal_mu > 0 || config.optimizer != "sgd")
      return fedra::InvalidArgumentError("eigen-softmax trains plain SGD only");
    if (config.local_steps > 0)  // a setting this trainer does not honour is refused
      return fedra::InvalidArgumentError("eigen-softmax trains whole epochs, not local steps");
    // The strategy's open config: required, so a run whose config is lost fails loudly.
    if (!config.extra.contains("lr_scale"))
      return fedra::InvalidArgumentError("eigen-softmax needs round config 'lr_scale'");
    FEDRA_ASSIGN_OR_RETURN(const double scale, fedra::ConfigDouble(config.extra, "lr_scale", 1));
    FEDRA_ASSIGN_OR_RETURN(Weights w, Read(global, train_));
    const float lr = static_cast<float>(config.learning_rate * scale);
    const Eigen::Index n = train_.features.cols();
    const Eigen::Index batch = std::max(1, config.batch_size);
    std::vector<Eigen::Index> order(static_cast<size_t>(n));
    double last_loss = 0;
    for (int epoch = 0; epoch < config.epochs; ++epoch) {
      for (Eigen::Index i = 0; i < n; ++i) order[static_cast<size_t>(i)] = i;
      for (Eigen::Index i = n - 1; i > 0; --i)  // Fisher-Yates with the round's stream
        std::swap(order[static_cast<size_t>(i)],
                  order[rng.UniformInt(static_cast<uint64_t>(i) + 1)]);
      double loss = 0;
      for (Eigen::Index start = 0; start < n; start += batch) {
        const Eigen::Index m = std::min(batch, n - start);
        fedra::Matrix x(train_.features.rows(), m);
        std::vector<int> y(static_cast<size_t>(m));
        for (Eigen::Index j = 0; j < m; ++j) {
          const Eigen::Index e = order[static_cast<size_t>(start + j)];
          x.col(j) = train_.features.col(e);
          y[static_cast<size_t>(j)] = train_.Label(static_cast<size_t>(e));
        }
        fedra::Matrix p = Softmax(w, x);  // {classes, m}
        for (Eigen::Index j = 0; j < m; ++j) {
          loss -= std::log(std::max(p(y[static_cast<size_t>(j)], j), 1e-12f));
          p(y[static_cast<size_t>(j)], j) -= 1.0f;  // dloss/dlogits
        }
        p /= static_cast<float>(m);
        w.weight -= lr * p * x.transpose();
        w.bias -= lr * p.rowwise().sum();
      }
      last_loss = loss / static_cast<double>(n);
    }
    fedra::FitResult r{.update = Write(w, global), .num_examples = static_cast<size_t>(n)};
    r.update.SubInPlace(global);
    r.local_steps = config.epochs * ((n + batch - 1) / batch);
    r.train_loss = last_loss;
    return r;
  }

  fedra::StatusOr<fedra::EvaluateResult> Evaluate(const fedra::Parameters& global,
                                                  const fedra::EvaluateTask& task) override {
    if (test_.size() == 0) return fedra::FailedPreconditionError("no local test data");
    FEDRA_ASSIGN_OR_RETURN(Weights w, Read(global, test_));
    const fedra::Matrix p = Softmax(w, test_.features);
    double loss = 0, correct = 0, top2 = 0;
    for (Eigen::Index j = 0; j < p.cols(); ++j) {
      const int y = test_.Label(static_cast<size_t>(j));
      Eigen::Index best;
      p.col(j).maxCoeff(&best);
      int above = 0;  // classes more probable than the label
      for (Eigen::Index k = 0; k < p.rows(); ++k) above += p(k, j) > p(y, j);
      loss -= std::log(std::max(p(y, j), 1e-12f));
      correct += best == y;
      top2 += above < 2;
    }
    const auto n = static_cast<double>(p.cols());
    FEDRA_ASSIGN_OR_RETURN(const int64_t round, fedra::ConfigInt(task.extra, "round", -1));
    return fedra::EvaluateResult{
        .num_examples = static_cast<size_t>(p.cols()),
        .loss = loss / n,
        .accuracy = correct / n,
        .metrics = {{"top2_accuracy", top2 / n}, {"seen_round", static_cast<double>(round)}}};
  }

 private:
  struct Weights {
    fedra::Matrix weight;  // {classes, in}
    fedra::Vector bias;
  };

  static fedra::StatusOr<Weights> Read(const fedra::Parameters& p, const fedra::Dataset& data) {
    auto wi = p.Find("0.weight");
    auto bi = p.Find("0.bias");
    if (!wi.ok() || !bi.ok() || p.num_tensors() != 2 || p.info(*wi).shape.size() != 2)
      return fedra::InvalidArgumentError("eigen-softmax needs the layout of fedra's logreg model");
    const auto& shape = p.info(*wi).shape;
    if (shape[1] != data.features.rows() || p.info(*bi).size != static_cast<size_t>(shape[0]))
      return fedra::InvalidArgumentError("eigen-softmax: the model does not fit the data");
    Weights w{.weight = fedra::Matrix(shape[0], shape[1]), .bias = p.Tensor(*bi)};
    // fedra stores {out, in} row-major, as PyTorch does.
    w.weight =
        Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
            p.data() + p.info(*wi).offset, shape[0], shape[1]);
    return w;
  }

  static fedra::Parameters Write(const Weights& w, const fedra::Parameters& layout) {
    fedra::Parameters out = fedra::Parameters::ZerosLike(layout);
    const size_t wi = *out.Find("0.weight"), bi = *out.Find("0.bias");
    Eigen::Map<Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
        out.data() + out.info(wi).offset, w.weight.rows(), w.weight.cols()) = w.weight;
    out.Tensor(bi) = w.bias;
    return out;
  }

  static fedra::Matrix Softmax(const Weights& w, const fedra::Matrix& x) {
    fedra::Matrix z = w.weight * x;
    z.colwise() += w.bias;
    for (Eigen::Index j = 0; j < z.cols(); ++j) {
      z.col(j).array() -= z.col(j).maxCoeff();
      z.col(j) = z.col(j).array().exp();
      z.col(j) /= z.col(j).sum();
    }
    return z;
  }

  const fedra::Dataset& train_;
  const fedra::Dataset& test_;
};

// --- the entry point ------------------------------------------------------------------------
fedra::Plugin MakePlugin() {
  return {.name = "example-plugin",
          .new_strategy = [](const fedra::StrategyPluginContext& c)
              -> fedra::StatusOr<std::unique_ptr<fedra::Strategy>> {
            double server_lr = 1.0;
            if (c.args == "throw") throw std::runtime_error("asked to throw");
            if (c.args.rfind("server_lr=", 0) == 0) server_lr = std::stod(c.args.substr(10));
            if (!(server_lr > 0)) return fedra::InvalidArgumentError("server_lr must be > 0");
            return std::unique_ptr<fedra::Strategy>(
                new ScaledFedAvg(c.flags.base.sampling, c.flags.base.fit, server_lr));
          },
          .new_trainer = [](const fedra::TrainerPluginContext& c)
              -> fedra::StatusOr<std::unique_ptr<fedra::LocalTrainer>> {
            if (c.train == nullptr || c.test == nullptr || !c.train->is_classification())
              return fedra::InvalidArgumentError("eigen-softmax needs the program's labelled data");
            return std::unique_ptr<fedra::LocalTrainer>(new EigenSoftmax(*c.train, *c.test));
          }};
}

}  // namespace

FEDRA_PLUGIN(MakePlugin)
