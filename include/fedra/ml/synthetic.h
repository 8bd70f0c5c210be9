// Synthetic data generators with known structure, for tests, benchmarks and experiments.
#ifndef FEDRA_ML_SYNTHETIC_H_
#define FEDRA_ML_SYNTHETIC_H_

#include <cstddef>
#include <vector>

#include "fedra/core/rng.h"
#include "fedra/core/status.h"
#include "fedra/ml/dataset.h"

namespace fedra {

// y = w . x + b + N(0, noise_stddev^2) with x ~ N(0, I). The true w and b are returned too,
// so a test can check that training recovers them.
struct LinearRegressionOptions {
  size_t num_examples = 1000;
  size_t num_features = 10;
  double noise_stddev = 0.1;
};
struct LinearRegressionData {
  Dataset data;            // regression: targets (1 x n), example_shape {num_features}
  std::vector<double> w;   // true weights
  double b = 0.0;          // true bias
};
StatusOr<LinearRegressionData> MakeLinearRegression(const LinearRegressionOptions& options, Rng& rng);

// The non-IID "Synthetic(alpha, beta)" data of FedProx (Li et al., "Federated Optimization in
// Heterogeneous Networks", MLSys 2020, Sec. 5.1): for client k, u_k ~ N(0, alpha),
// B_k ~ N(0, beta); W_k, b_k ~ N(u_k, 1); v_k[j] ~ N(B_k, 1); x ~ N(v_k, Sigma) with
// Sigma = diag(j^-1.2); y = argmax(softmax(W_k x + b_k)). alpha controls how much local
// models differ, beta how much local inputs differ. Sample counts follow a power law
// (lognormal, as in the paper's generator), at least `min_examples` each.
struct FedProxSyntheticOptions {
  double alpha = 1.0;
  double beta = 1.0;
  size_t num_clients = 30;
  size_t num_features = 60;
  int num_classes = 10;
  size_t min_examples = 50;
  // When true (the paper's "IID" variant), all clients share one W, b and one v.
  bool iid = false;
};
// One Dataset per client (classification, example_shape {num_features}).
StatusOr<std::vector<Dataset>> MakeFedProxSynthetic(const FedProxSyntheticOptions& options, Rng& rng);

}  // namespace fedra

#endif  // FEDRA_ML_SYNTHETIC_H_
