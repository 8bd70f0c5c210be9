// Classification metrics beyond accuracy, for skewed labels (e.g. spam F1).
//
// Thread-safety: reentrant; the model belongs to the caller.
#ifndef FEDRA_ML_METRICS_H_
#define FEDRA_ML_METRICS_H_

#include "fedra/core/status.h"
#include "fedra/ml/dataset.h"
#include "fedra/ml/model.h"
#include "fedra/ml/trainer.h"

namespace fedra {

struct ClassScores {
  double precision = 0, recall = 0, f1 = 0;  // 0 when undefined (nothing predicted / present)
};

// Precision, recall and F1 of class `positive` for the arg-max predictions of `model` (in
// evaluation mode, left in training mode as Evaluate leaves it) on `data`. InvalidArgument unless
// data is classification data that fits the model and `positive` is one of its classes.
StatusOr<ClassScores> ScoreClass(Model& model, const Dataset& data, int positive,
                                 int batch_size = 256);

struct ClassEvaluation {
  EvalResult eval;     // as Evaluate gives it, bit for bit
  ClassScores scores;  // as ScoreClass gives them
};
// Evaluate and ScoreClass in one pass over `data` (half the forward passes of calling both).
StatusOr<ClassEvaluation> EvaluateAndScoreClass(Model& model, const Loss& loss, const Dataset& data,
                                                int positive, int batch_size = 256);

}  // namespace fedra

#endif  // FEDRA_ML_METRICS_H_
