#include "fedra/ml/metrics.h"

#include <algorithm>
#include <numeric>
#include <vector>

namespace fedra {

StatusOr<ClassScores> ScoreClass(Model& model, const Dataset& data, int positive, int batch_size) {
  if (!data.is_classification() || positive < 0 || positive >= data.num_classes)
    return InvalidArgumentError("scores need classification data and one of its classes");
  if (data.features.rows() != NumElements(model.InputShape()) || batch_size < 1)
    return InvalidArgumentError("scores: the data does not fit the model");
  model.SetTraining(false);
  int64_t tp = 0, fp = 0, fn = 0;
  std::vector<size_t> idx;
  Matrix x, y;
  for (size_t begin = 0; begin < data.size(); begin += batch_size) {
    const size_t end = std::min(data.size(), begin + static_cast<size_t>(batch_size));
    idx.resize(end - begin);
    std::iota(idx.begin(), idx.end(), begin);
    data.Gather(idx, &x, &y);
    const Matrix& out = model.Forward(x);
    for (Eigen::Index c = 0; c < out.cols(); ++c) {
      Eigen::Index predicted = 0;
      out.col(c).maxCoeff(&predicted);
      const bool truth = static_cast<int>(y(0, c)) == positive;
      const bool said = predicted == positive;
      tp += truth && said, fp += !truth && said, fn += truth && !said;
    }
  }
  model.SetTraining(true);  // as Evaluate leaves it
  ClassScores s;
  if (tp + fp > 0) s.precision = static_cast<double>(tp) / static_cast<double>(tp + fp);
  if (tp + fn > 0) s.recall = static_cast<double>(tp) / static_cast<double>(tp + fn);
  if (s.precision + s.recall > 0) s.f1 = 2 * s.precision * s.recall / (s.precision + s.recall);
  return s;
}

}  // namespace fedra
