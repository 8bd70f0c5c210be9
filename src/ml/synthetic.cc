#include "fedra/ml/synthetic.h"

#include <algorithm>
#include <cmath>
#include <string>

#include <Eigen/Core>

namespace fedra {
namespace {

// The reference generator draws floor(lognormal(4, 2)) extra examples per client; its tail is
// unbounded (e^10 ~ 22,000 at 3 sigma), so we cap the extra count.
constexpr double kLogNormalMean = 4.0;
constexpr double kLogNormalSigma = 2.0;
constexpr double kMaxExtraExamples = 1000.0;

// One client's generative model: labels are argmax(w^T x + b) for x ~ N(v, diag(j^-1.2)).
struct ClientModel {
  Eigen::MatrixXd w;  // num_features x num_classes
  Eigen::VectorXd b;  // num_classes
  Eigen::VectorXd v;  // num_features
};

Eigen::MatrixXd NormalMatrix(Eigen::Index rows, Eigen::Index cols, double mean, double stddev,
                             Rng& rng) {
  Eigen::MatrixXd m(rows, cols);
  for (Eigen::Index j = 0; j < cols; ++j) {
    for (Eigen::Index i = 0; i < rows; ++i) m(i, j) = rng.Normal(mean, stddev);
  }
  return m;
}

Status ValidateFedProx(const FedProxSyntheticOptions& o) {
  if (o.num_clients == 0) return InvalidArgumentError("FedProx synthetic: num_clients is 0");
  if (o.num_features == 0) return InvalidArgumentError("FedProx synthetic: num_features is 0");
  if (o.num_classes <= 0) {
    return InvalidArgumentError("FedProx synthetic: num_classes is " +
                                std::to_string(o.num_classes) + ", expected > 0");
  }
  if (o.min_examples == 0) return InvalidArgumentError("FedProx synthetic: min_examples is 0");
  if (!(o.alpha >= 0) || !std::isfinite(o.alpha) || !(o.beta >= 0) || !std::isfinite(o.beta)) {
    return InvalidArgumentError("FedProx synthetic: alpha = " + std::to_string(o.alpha) +
                                " and beta = " + std::to_string(o.beta) +
                                " must be finite and >= 0");
  }
  return OkStatus();
}

std::vector<size_t> SampleCounts(const FedProxSyntheticOptions& o, Rng& rng) {
  std::vector<size_t> counts(o.num_clients);
  for (auto& count : counts) {
    const double extra = std::exp(rng.Normal(kLogNormalMean, kLogNormalSigma));
    count = o.min_examples + static_cast<size_t>(std::min(std::floor(extra), kMaxExtraExamples));
  }
  return counts;
}

// Draws every client's model in the reference generator's order: the priors u_k and B_k for
// all clients, then all v_k, then (W_k, b_k) per client.
std::vector<ClientModel> DrawNonIidModels(const FedProxSyntheticOptions& o, Rng& rng) {
  const auto d = static_cast<Eigen::Index>(o.num_features);
  const auto c = static_cast<Eigen::Index>(o.num_classes);
  std::vector<double> u(o.num_clients), big_b(o.num_clients);
  for (auto& x : u) x = rng.Normal(0.0, o.alpha);
  for (auto& x : big_b) x = rng.Normal(0.0, o.beta);
  std::vector<ClientModel> models(o.num_clients);
  for (size_t k = 0; k < o.num_clients; ++k) models[k].v = NormalMatrix(d, 1, big_b[k], 1.0, rng);
  for (size_t k = 0; k < o.num_clients; ++k) {
    models[k].w = NormalMatrix(d, c, u[k], 1.0, rng);
    models[k].b = NormalMatrix(c, 1, u[k], 1.0, rng);
  }
  return models;
}

// The IID variant (the reference generate_iid.py): one W, b ~ N(0, 1) and v = 0 for all.
std::vector<ClientModel> DrawIidModels(const FedProxSyntheticOptions& o, Rng& rng) {
  const auto d = static_cast<Eigen::Index>(o.num_features);
  const auto c = static_cast<Eigen::Index>(o.num_classes);
  ClientModel shared;
  shared.w = NormalMatrix(d, c, 0.0, 1.0, rng);
  shared.b = NormalMatrix(c, 1, 0.0, 1.0, rng);
  shared.v = Eigen::VectorXd::Zero(d);
  return std::vector<ClientModel>(o.num_clients, shared);
}

Dataset SampleClient(const ClientModel& model, size_t count, int num_classes, Rng& rng) {
  const Eigen::Index d = model.v.size();
  const auto n = static_cast<Eigen::Index>(count);
  Dataset data;
  data.example_shape = {d};
  data.num_classes = num_classes;
  data.features.resize(d, n);
  data.targets.resize(1, n);
  Eigen::VectorXd x(d);
  for (Eigen::Index i = 0; i < n; ++i) {
    // Sigma = diag(j^-1.2) with j from 1, so the standard deviation is j^-0.6.
    for (Eigen::Index j = 0; j < d; ++j) {
      x(j) = model.v(j) + std::pow(static_cast<double>(j + 1), -0.6) * rng.Normal();
    }
    const Eigen::VectorXd logits = model.w.transpose() * x + model.b;
    Eigen::Index label = 0;
    logits.maxCoeff(&label);  // argmax(softmax(z)) == argmax(z)
    data.features.col(i) = x.cast<float>();
    data.targets(0, i) = static_cast<float>(label);
  }
  return data;
}

}  // namespace

StatusOr<LinearRegressionData> MakeLinearRegression(const LinearRegressionOptions& options,
                                                    Rng& rng) {
  if (options.num_examples == 0 || options.num_features == 0) {
    return InvalidArgumentError("linear regression: num_examples and num_features must be > 0");
  }
  if (!(options.noise_stddev >= 0) || !std::isfinite(options.noise_stddev)) {
    return InvalidArgumentError("linear regression: noise_stddev is " +
                                std::to_string(options.noise_stddev) + ", expected finite >= 0");
  }
  const auto d = static_cast<Eigen::Index>(options.num_features);
  const auto n = static_cast<Eigen::Index>(options.num_examples);
  LinearRegressionData out;
  out.w.resize(options.num_features);
  for (auto& wi : out.w) wi = rng.Normal();
  out.b = rng.Normal();
  const Eigen::Map<const Eigen::VectorXd> w(out.w.data(), d);
  const Eigen::MatrixXd x = NormalMatrix(d, n, 0.0, 1.0, rng);
  Eigen::RowVectorXd y = w.transpose() * x;
  for (Eigen::Index i = 0; i < n; ++i) y(i) += out.b + rng.Normal(0.0, options.noise_stddev);
  out.data.features = x.cast<float>();
  out.data.targets = y.cast<float>();
  out.data.example_shape = {d};
  out.data.num_classes = 0;
  return out;
}

StatusOr<std::vector<Dataset>> MakeFedProxSynthetic(const FedProxSyntheticOptions& options,
                                                    Rng& rng) {
  FEDRA_RETURN_IF_ERROR(ValidateFedProx(options));
  const std::vector<size_t> counts = SampleCounts(options, rng);
  const std::vector<ClientModel> models =
      options.iid ? DrawIidModels(options, rng) : DrawNonIidModels(options, rng);
  std::vector<Dataset> clients;
  clients.reserve(options.num_clients);
  for (size_t k = 0; k < options.num_clients; ++k) {
    clients.push_back(SampleClient(models[k], counts[k], options.num_classes, rng));
  }
  return clients;
}

}  // namespace fedra
