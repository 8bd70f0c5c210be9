// Loss functions. Compute() returns the mean loss over the batch and writes dL/doutput of
// that mean into *grad (same size as `output`).
//
// Thread-safety: stateless; safe to share.
#ifndef FEDRA_ML_LOSS_H_
#define FEDRA_ML_LOSS_H_

#include <memory>
#include <string>

#include "fedra/core/status.h"
#include "fedra/ml/tensor.h"

namespace fedra {

class Loss {
 public:
  virtual ~Loss() = default;
  virtual std::string Name() const = 0;
  // output: (k x batch); targets: as in Dataset (1 x batch class indices for classification,
  // k x batch values for regression). `grad` may be null when only the value is needed.
  // REQUIRES: shapes agree (the Trainer validates the dataset against the model first).
  virtual double Compute(const Matrix& output, const Matrix& targets, Matrix* grad) const = 0;
  // Whether outputs are class scores (enables accuracy).
  virtual bool is_classification() const = 0;
};

// Softmax over each column followed by cross-entropy with the integer label, computed with
// the log-sum-exp shift so large logits do not overflow.
std::unique_ptr<Loss> NewSoftmaxCrossEntropy();
// Mean over all elements of (output - target)^2, as PyTorch's MSELoss(reduction="mean").
std::unique_ptr<Loss> NewMeanSquaredError();

// Number of columns whose arg-max equals the label (ties go to the lowest index).
size_t CountCorrect(const Matrix& output, const Matrix& labels);

}  // namespace fedra

#endif  // FEDRA_ML_LOSS_H_
