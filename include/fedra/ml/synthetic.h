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
// so a test can check that training recovers them. w and b are drawn from N(0, 1).
// InvalidArgument if num_examples or num_features is 0 or noise_stddev is negative.
struct LinearRegressionOptions {
  size_t num_examples = 1000;
  size_t num_features = 10;
  double noise_stddev = 0.1;
};
struct LinearRegressionData {
  Dataset data;           // regression: targets (1 x n), example_shape {num_features}
  std::vector<double> w;  // true weights
  double b = 0.0;         // true bias
};
StatusOr<LinearRegressionData> MakeLinearRegression(const LinearRegressionOptions& options,
                                                    Rng& rng);

// The non-IID "Synthetic(alpha, beta)" data of FedProx (Li et al., "Federated Optimization in
// Heterogeneous Networks", MLSys 2020, Sec. 5.1): for client k, u_k ~ N(0, alpha),
// B_k ~ N(0, beta); W_k, b_k ~ N(u_k, 1); v_k[j] ~ N(B_k, 1); x ~ N(v_k, Sigma) with
// Sigma = diag(j^-1.2); y = argmax(softmax(W_k x + b_k)). alpha controls how much local
// models differ, beta how much local inputs differ. Sample counts follow a power law
// (lognormal, as in the paper's generator), at least `min_examples` each.
//
// As in the reference generate_niid.py: alpha and beta are standard deviations; b_k shares
// W_k's mean u_k; client k has min_examples + min(floor(lognormal(4, 2)), 1000) examples (the
// cap is ours: the reference tail is unbounded). Since u_k shifts every class's logit equally,
// alpha does not change the labels' distribution; beta makes each client's labels concentrate
// on fewer classes. InvalidArgument if num_clients, num_features, num_classes or min_examples
// is 0, or alpha or beta is negative or not finite.
struct FedProxSyntheticOptions {
  double alpha = 1.0;
  double beta = 1.0;
  size_t num_clients = 30;
  size_t num_features = 60;
  int num_classes = 10;
  size_t min_examples = 50;
  // When true (the paper's "IID" variant, generate_iid.py), all clients share one W, b ~ N(0, 1)
  // and v = 0; alpha and beta are then unused.
  bool iid = false;
};
// One Dataset per client (classification, example_shape {num_features}).
StatusOr<std::vector<Dataset>> MakeFedProxSynthetic(const FedProxSyntheticOptions& options,
                                                    Rng& rng);

}  // namespace fedra

#endif  // FEDRA_ML_SYNTHETIC_H_
