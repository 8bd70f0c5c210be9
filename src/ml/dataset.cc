#include "fedra/ml/dataset.h"

#include <cmath>
#include <numeric>

#include "fedra/core/rng.h"

namespace fedra {

std::vector<int> Dataset::Labels() const {
  FEDRA_CHECK(is_classification());
  std::vector<int> labels(size());
  for (size_t i = 0; i < labels.size(); ++i) labels[i] = Label(i);
  return labels;
}

void Dataset::Gather(std::span<const size_t> indices, Matrix* x, Matrix* y) const {
  const auto n = static_cast<Eigen::Index>(indices.size());
  x->resize(features.rows(), n);
  y->resize(targets.rows(), n);
  for (Eigen::Index j = 0; j < n; ++j) {
    const auto src = static_cast<Eigen::Index>(indices[static_cast<size_t>(j)]);
    FEDRA_CHECK(src < features.cols());
    x->col(j) = features.col(src);
    y->col(j) = targets.col(src);
  }
}

Dataset Dataset::Subset(std::span<const size_t> indices) const {
  Dataset out;
  out.example_shape = example_shape;
  out.num_classes = num_classes;
  Gather(indices, &out.features, &out.targets);
  return out;
}

Status Dataset::Validate() const {
  if (features.rows() != NumElements(example_shape)) {
    return InvalidArgumentError("features have " + std::to_string(features.rows()) +
                                " rows but example shape " + ShapeToString(example_shape) +
                                " needs " + std::to_string(NumElements(example_shape)));
  }
  if (targets.cols() != features.cols()) {
    return InvalidArgumentError("features hold " + std::to_string(features.cols()) +
                                " examples but targets hold " + std::to_string(targets.cols()));
  }
  if (!features.allFinite()) return InvalidArgumentError("features hold NaN or Inf");
  if (!targets.allFinite()) return InvalidArgumentError("targets hold NaN or Inf");
  if (is_classification()) {
    if (targets.rows() != 1) return InvalidArgumentError("classification targets must be one row");
    for (Eigen::Index i = 0; i < targets.cols(); ++i) {
      const float t = targets(0, i);
      if (t < 0 || t >= static_cast<float>(num_classes) || t != std::floor(t)) {
        return InvalidArgumentError("example " + std::to_string(i) + " has label " +
                                    std::to_string(t) + ", expected an integer in [0, " +
                                    std::to_string(num_classes) + ")");
      }
    }
  }
  return OkStatus();
}

TrainTestSplit SplitTrainTest(const Dataset& data, double test_fraction, Rng& rng) {
  FEDRA_CHECK(test_fraction >= 0 && test_fraction <= 1);
  std::vector<size_t> idx(data.size());
  std::iota(idx.begin(), idx.end(), size_t{0});
  rng.Shuffle(idx);
  const auto n_test =
      static_cast<size_t>(std::floor(test_fraction * static_cast<double>(idx.size())));
  std::span<const size_t> all(idx);
  return {data.Subset(all.subspan(n_test)), data.Subset(all.first(n_test))};
}

}  // namespace fedra
