#include "fedra/ml/metrics.h"

#include <algorithm>
#include <numeric>
#include <vector>

namespace fedra {

namespace {

// True/false positives and false negatives of class `positive` for arg-max predictions.
struct ClassCounter {
  int positive;
  int64_t tp = 0, fp = 0, fn = 0;

  void Add(const Matrix& out, const Matrix& y) {
    for (Eigen::Index c = 0; c < out.cols(); ++c) {
      Eigen::Index predicted = 0;
      out.col(c).maxCoeff(&predicted);
      const bool truth = static_cast<int>(y(0, c)) == positive;
      const bool said = predicted == positive;
      tp += truth && said, fp += !truth && said, fn += truth && !said;
    }
  }
  ClassScores Scores() const {
    ClassScores s;
    if (tp + fp > 0) s.precision = static_cast<double>(tp) / static_cast<double>(tp + fp);
    if (tp + fn > 0) s.recall = static_cast<double>(tp) / static_cast<double>(tp + fn);
    if (s.precision + s.recall > 0) s.f1 = 2 * s.precision * s.recall / (s.precision + s.recall);
    return s;
  }
};

Status CheckPositive(const Dataset& data, int positive) {
  if (!data.is_classification() || positive < 0 || positive >= data.num_classes)
    return InvalidArgumentError("scores need classification data and one of its classes");
  return OkStatus();
}

}  // namespace

StatusOr<ClassScores> ScoreClass(Model& model, const Dataset& data, int positive, int batch_size) {
  FEDRA_RETURN_IF_ERROR(CheckPositive(data, positive));
  if (data.features.rows() != NumElements(model.InputShape()) || batch_size < 1)
    return InvalidArgumentError("scores: the data does not fit the model");
  model.SetTraining(false);
  ClassCounter counter{positive};
  std::vector<size_t> idx;
  Matrix x, y;
  for (size_t begin = 0; begin < data.size(); begin += batch_size) {
    const size_t end = std::min(data.size(), begin + static_cast<size_t>(batch_size));
    idx.resize(end - begin);
    std::iota(idx.begin(), idx.end(), begin);
    data.Gather(idx, &x, &y);
    counter.Add(model.Forward(x), y);
  }
  model.SetTraining(true);  // as Evaluate leaves it
  return counter.Scores();
}

StatusOr<ClassEvaluation> EvaluateAndScoreClass(Model& model, const Loss& loss, const Dataset& data,
                                                int positive, int batch_size) {
  FEDRA_RETURN_IF_ERROR(CheckPositive(data, positive));
  ClassCounter counter{positive};
  FEDRA_ASSIGN_OR_RETURN(
      EvalResult eval, Evaluate(model, loss, data, batch_size,
                                [&](const Matrix& out, const Matrix& y) { counter.Add(out, y); }));
  return ClassEvaluation{.eval = eval, .scores = counter.Scores()};
}

}  // namespace fedra
