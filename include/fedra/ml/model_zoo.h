// Ready-made models. Each returns an initialised Sequential (weights from `seed`).
#ifndef FEDRA_ML_MODEL_ZOO_H_
#define FEDRA_ML_MODEL_ZOO_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "fedra/core/status.h"
#include "fedra/ml/model.h"

namespace fedra {

// y = W x + b with `outputs` real outputs (train with MSE).
StatusOr<std::unique_ptr<Model>> NewLinearRegression(const Shape& input, int64_t outputs,
                                                     uint64_t seed);
// Multinomial logistic (softmax) regression: one dense layer producing class logits.
StatusOr<std::unique_ptr<Model>> NewSoftmaxRegression(const Shape& input, int num_classes,
                                                      uint64_t seed);
// Multi-layer perceptron with ReLU hidden layers; the default is the "2NN" of McMahan et al.
// (AISTATS 2017): two hidden layers of 200 units.
StatusOr<std::unique_ptr<Model>> NewMlp(const Shape& input, int num_classes, uint64_t seed,
                                        const std::vector<int64_t>& hidden = {200, 200});
// LeNet-5-style CNN for {1, 28, 28} images (the "simple CNN" of NIID-Bench):
// conv 6@5x5 pad 2 - ReLU - maxpool 2 - conv 16@5x5 - ReLU - maxpool 2 - dense 120 - ReLU -
// dense 84 - ReLU - dense num_classes. Takes any {C, H, W} input with H, W >= 16.
StatusOr<std::unique_ptr<Model>> NewLeNet(const Shape& input, int num_classes, uint64_t seed);

// By name: "linear", "logreg", "mlp" or "cnn" (for command-line tools). For "linear",
// `num_classes` is the number of outputs.
StatusOr<std::unique_ptr<Model>> NewModelByName(const std::string& name, const Shape& input,
                                                int num_classes, uint64_t seed);

}  // namespace fedra

#endif  // FEDRA_ML_MODEL_ZOO_H_
