#include "fedra/ml/loss.h"

#include <cmath>

namespace fedra {
namespace {

class SoftmaxCrossEntropy final : public Loss {
 public:
  std::string Name() const override { return "softmax_cross_entropy"; }
  bool is_classification() const override { return true; }

  double Compute(const Matrix& output, const Matrix& targets, Matrix* grad) const override {
    FEDRA_CHECK(targets.rows() == 1 && targets.cols() == output.cols());
    const Eigen::Index k = output.rows(), n = output.cols();
    if (grad != nullptr) grad->resize(k, n);
    double total = 0.0;
    for (Eigen::Index j = 0; j < n; ++j) {
      const auto label = static_cast<Eigen::Index>(targets(0, j));
      FEDRA_CHECK(label >= 0 && label < k);
      const double max = output.col(j).maxCoeff();
      double sum = 0.0;
      for (Eigen::Index i = 0; i < k; ++i) sum += std::exp(double{output(i, j)} - max);
      const double log_z = max + std::log(sum);
      total += log_z - output(label, j);
      if (grad != nullptr) {
        for (Eigen::Index i = 0; i < k; ++i) {
          const double p = std::exp(double{output(i, j)} - log_z);
          (*grad)(i, j) =
              static_cast<float>((p - (i == label ? 1.0 : 0.0)) / static_cast<double>(n));
        }
      }
    }
    return total / static_cast<double>(n);
  }
};

class MeanSquaredError final : public Loss {
 public:
  std::string Name() const override { return "mse"; }
  bool is_classification() const override { return false; }

  double Compute(const Matrix& output, const Matrix& targets, Matrix* grad) const override {
    FEDRA_CHECK(targets.rows() == output.rows() && targets.cols() == output.cols());
    const double count = static_cast<double>(output.size());
    if (grad != nullptr) *grad = (output - targets) * static_cast<float>(2.0 / count);
    return (output.cast<double>() - targets.cast<double>()).squaredNorm() / count;
  }
};

}  // namespace

std::unique_ptr<Loss> NewSoftmaxCrossEntropy() { return std::make_unique<SoftmaxCrossEntropy>(); }
std::unique_ptr<Loss> NewMeanSquaredError() { return std::make_unique<MeanSquaredError>(); }

size_t CountCorrect(const Matrix& output, const Matrix& labels) {
  FEDRA_CHECK(labels.rows() == 1 && labels.cols() == output.cols());
  size_t correct = 0;
  for (Eigen::Index j = 0; j < output.cols(); ++j) {
    Eigen::Index best = 0;
    output.col(j).maxCoeff(&best);
    if (best == static_cast<Eigen::Index>(labels(0, j))) ++correct;
  }
  return correct;
}

}  // namespace fedra
