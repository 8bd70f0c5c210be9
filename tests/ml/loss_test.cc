#include "fedra/ml/loss.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "fedra/core/rng.h"

namespace fedra {
namespace {

Matrix Labels(std::initializer_list<float> v) {
  Matrix m(1, static_cast<Eigen::Index>(v.size()));
  Eigen::Index i = 0;
  for (float x : v) m(0, i++) = x;
  return m;
}

// Central differences of the loss value against the returned gradient.
void ExpectGradientMatches(const Loss& loss, Matrix out, const Matrix& targets) {
  Matrix grad;
  loss.Compute(out, targets, &grad);
  const double eps = 1e-3;
  for (Eigen::Index i = 0; i < out.size(); ++i) {
    const float orig = out.data()[i];
    const float hi = orig + static_cast<float>(eps), lo = orig - static_cast<float>(eps);
    out.data()[i] = hi;
    const double lp = loss.Compute(out, targets, nullptr);
    out.data()[i] = lo;
    const double lm = loss.Compute(out, targets, nullptr);
    out.data()[i] = orig;
    // Divide by the step actually taken in float32, not the nominal 2 * eps.
    const double numeric = (lp - lm) / (double{hi} - double{lo});
    EXPECT_NEAR(numeric, grad.data()[i], 1e-4 * std::max(1.0, std::abs(numeric)))
        << loss.Name() << " element " << i;
  }
}

TEST(SoftmaxCrossEntropyTest, HandWorkedValues) {
  auto loss = NewSoftmaxCrossEntropy();
  // Two equal logits: p = 1/2 each, loss = ln 2, gradient (p - onehot) / batch.
  Matrix out = Matrix::Zero(2, 1);
  Matrix grad;
  EXPECT_NEAR(loss->Compute(out, Labels({0}), &grad), std::log(2.0), 1e-7);
  EXPECT_NEAR(grad(0, 0), -0.5, 1e-7);
  EXPECT_NEAR(grad(1, 0), 0.5, 1e-7);
  // Logits (1, 2, 3), label 2: loss = log(e + e^2 + e^3) - 3.
  out = Matrix(3, 1);
  out << 1, 2, 3;
  const double expected = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0)) - 3.0;
  EXPECT_NEAR(loss->Compute(out, Labels({2}), nullptr), expected, 1e-6);
}

TEST(SoftmaxCrossEntropyTest, LargeLogitsDoNotOverflow) {
  auto loss = NewSoftmaxCrossEntropy();
  Matrix out(2, 1);
  out << 1000.0f, 0.0f;
  Matrix grad;
  EXPECT_NEAR(loss->Compute(out, Labels({1}), &grad), 1000.0, 1e-3);
  EXPECT_TRUE(grad.allFinite());
}

TEST(SoftmaxCrossEntropyTest, GradientMatchesFiniteDifferences) {
  Rng rng(1);
  Matrix out(5, 4);
  for (Eigen::Index i = 0; i < out.size(); ++i)
    out.data()[i] = static_cast<float>(2 * rng.Normal());
  ExpectGradientMatches(*NewSoftmaxCrossEntropy(), out, Labels({0, 3, 4, 3}));
}

TEST(MeanSquaredErrorTest, HandWorkedValuesAndGradient) {
  auto loss = NewMeanSquaredError();
  Matrix out(2, 2), target(2, 2);
  out << 1, 2, 3, 4;
  target << 0, 2, 5, 4;
  Matrix grad;
  // Errors 1, 0, -2, 0: mean of squares = 5 / 4.
  EXPECT_NEAR(loss->Compute(out, target, &grad), 1.25, 1e-7);
  EXPECT_NEAR(grad(0, 0), 0.5, 1e-7);   // 2 * 1 / 4
  EXPECT_NEAR(grad(1, 0), -1.0, 1e-7);  // 2 * -2 / 4
  Rng rng(2);
  for (Eigen::Index i = 0; i < out.size(); ++i) out.data()[i] = static_cast<float>(rng.Normal());
  ExpectGradientMatches(*loss, out, target);
}

TEST(CountCorrectTest, CountsArgMaxMatches) {
  Matrix out(3, 3);
  out << 0.1f, 5, 0, 0.9f, 1, 0, 0.2f, 2, 7;
  EXPECT_EQ(CountCorrect(out, Labels({1, 0, 2})), 3u);
  EXPECT_EQ(CountCorrect(out, Labels({0, 0, 1})), 1u);
}

}  // namespace
}  // namespace fedra
