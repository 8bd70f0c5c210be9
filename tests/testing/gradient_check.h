// Finite-difference gradient checking for layers and losses.
//
// The scalar checked is L = sum_i r_i * y_i for a fixed random r, so dL/dy = r and every
// output element contributes. L is accumulated in double; central differences with step
// `eps` then carry an error of roughly 1e-6 / eps from float32 forward passes, far below the
// O(0.1) discrepancy that a wrong gradient (a missing term, a transposed index) produces.
#ifndef FEDRA_TESTS_TESTING_GRADIENT_CHECK_H_
#define FEDRA_TESTS_TESTING_GRADIENT_CHECK_H_

#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "fedra/core/rng.h"
#include "fedra/ml/layer.h"

namespace fedra::testing {

// A layer together with storage for its parameters and gradients.
struct BoundLayer {
  std::unique_ptr<Layer> layer;
  std::vector<std::vector<float>> weights, grads;
};
BoundLayer BindLayer(std::unique_ptr<Layer> layer, Rng& rng);

struct GradientReport {
  double max_input_error = 0;  // max over inputs of |numeric - analytic| / max(1, |numeric|)
  double max_param_error = 0;
  int checked = 0;
};

// Checks dL/dx and dL/dparameters of `bound` at input `x`. `corrupt`, when set, is applied to
// the analytic parameter gradients before comparing (used to prove the checker catches bugs).
GradientReport CheckLayerGradients(BoundLayer& bound, const Matrix& x, Rng& rng, double eps,
                                   const std::function<void(BoundLayer&)>& corrupt = nullptr);

}  // namespace fedra::testing

#endif  // FEDRA_TESTS_TESTING_GRADIENT_CHECK_H_
