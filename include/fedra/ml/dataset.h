// Dataset: examples held in memory, one column per example.
//
// `features` is (feature_dim x n); `targets` is (1 x n) holding the class index as a float
// for classification (num_classes > 0), or (target_dim x n) real values for regression
// (num_classes == 0). `example_shape` is the per-example tensor shape of a feature column,
// e.g. {1, 28, 28} for Fashion-MNIST.
//
// Thread-safety: like a value type; concurrent const access is safe.
#ifndef FEDRA_ML_DATASET_H_
#define FEDRA_ML_DATASET_H_

#include <cstddef>
#include <span>
#include <vector>

#include "fedra/core/status.h"
#include "fedra/ml/tensor.h"

namespace fedra {

struct Dataset {
  Matrix features;
  Matrix targets;
  Shape example_shape;
  int num_classes = 0;

  size_t size() const { return static_cast<size_t>(features.cols()); }
  bool is_classification() const { return num_classes > 0; }
  // REQUIRES: is_classification(), i < size().
  int Label(size_t i) const { return static_cast<int>(targets(0, static_cast<Eigen::Index>(i))); }
  std::vector<int> Labels() const;

  // The examples at `indices`, in that order (copies). REQUIRES: every index < size().
  Dataset Subset(std::span<const size_t> indices) const;
  // Copies the examples at `indices` into `x` and `y` (resized as needed); used by the
  // Trainer to assemble mini-batches without reallocating.
  void Gather(std::span<const size_t> indices, Matrix* x, Matrix* y) const;

  // OK iff shapes agree (features rows == NumElements(example_shape), targets cols ==
  // features cols), every value is finite and labels lie in [0, num_classes).
  Status Validate() const;
};

// Splits `data` into (train, test) with `test_fraction` of the examples (rounded down) in
// test, after a seeded shuffle. REQUIRES: 0 <= test_fraction <= 1.
struct TrainTestSplit {
  Dataset train;
  Dataset test;
};
class Rng;
TrainTestSplit SplitTrainTest(const Dataset& data, double test_fraction, Rng& rng);

}  // namespace fedra

#endif  // FEDRA_ML_DATASET_H_
