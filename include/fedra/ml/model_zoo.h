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
// LeNet-5-style CNN ("cnn") for {1, 28, 28} images: conv 6@5x5 pad 2 - ReLU - maxpool 2 -
// conv 16@5x5 - ReLU - maxpool 2 - dense 120 - ReLU - dense 84 - ReLU - dense num_classes
// (400 inputs to the first dense layer). Takes any {C, H, W} input with H, W >= 16.
StatusOr<std::unique_ptr<Model>> NewLeNet(const Shape& input, int num_classes, uint64_t seed);
// NIID-Bench's "simple-cnn" (Li et al., ICDE 2022; SimpleCNNMNIST in its model.py):
// the same stack without padding, so 16 x 4 x 4 = 256 inputs reach dense 120 for 28 x 28
// images. Takes any {C, H, W} input with H, W >= 16.
StatusOr<std::unique_ptr<Model>> NewSimpleCnn(const Shape& input, int num_classes, uint64_t seed);

// By name: "linear", "logreg", "mlp", "cnn" or "simple-cnn" (for command-line tools). For
// "linear", `num_classes` is the number of outputs.
StatusOr<std::unique_ptr<Model>> NewModelByName(const std::string& name, const Shape& input,
                                                int num_classes, uint64_t seed);

}  // namespace fedra

#endif  // FEDRA_ML_MODEL_ZOO_H_
