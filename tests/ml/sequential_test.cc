#include "fedra/ml/sequential.h"

#include <gtest/gtest.h>

#include <cmath>

#include "fedra/ml/loss.h"
#include "fedra/ml/model_zoo.h"

namespace fedra {
namespace {

Matrix RandomMatrix(Eigen::Index r, Eigen::Index c, Rng& rng) {
  Matrix m(r, c);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = static_cast<float>(rng.Normal());
  return m;
}

TEST(SequentialTest, NamesTensorsLikePyTorchSequential) {
  auto model = Sequential::Builder({4}).Dense(3).ReLU().Dense(2).Build("m", 1);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  const Parameters& p = (*model)->parameters();
  ASSERT_EQ(p.num_tensors(), 4u);
  EXPECT_EQ(p.info(0).name, "0.weight");
  EXPECT_EQ(p.info(0).shape, Shape({3, 4}));
  EXPECT_EQ(p.info(1).name, "0.bias");
  EXPECT_EQ(p.info(2).name, "2.weight");
  EXPECT_EQ(p.info(3).shape, Shape({2}));
  EXPECT_EQ((*model)->OutputShape(), Shape({2}));
}

TEST(SequentialTest, BuilderReportsTheFirstBadLayer) {
  auto model = Sequential::Builder({784}).Dense(10).Conv2D({.out_channels = 2}).Build("bad", 1);
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.status().message().find("layer 1"), std::string::npos)
      << model.status().ToString();
  EXPECT_NE(model.status().message().find("conv2d"), std::string::npos);
  EXPECT_FALSE(Sequential::Builder({3}).Build("empty", 1).ok());
}

TEST(SequentialTest, SameSeedSameWeightsOtherSeedOtherWeights) {
  auto a = NewLeNet({1, 28, 28}, 10, 7);
  auto b = NewLeNet({1, 28, 28}, 10, 7);
  auto c = NewLeNet({1, 28, 28}, 10, 8);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ((*a)->parameters().Flat(), (*b)->parameters().Flat());
  EXPECT_NE((*a)->parameters().Flat(), (*c)->parameters().Flat());
}

TEST(SequentialTest, SetParametersRejectsWrongLayoutAndNonFiniteValues) {
  auto model = *NewMlp({8}, 3, 1, {5});
  auto other = *NewMlp({8}, 3, 1, {6});
  const Parameters before = model->parameters();
  Status s = model->SetParameters(other->parameters());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("shape"), std::string::npos) << s.ToString();
  Parameters nan = model->parameters();
  nan.data()[3] = std::nanf("");
  EXPECT_FALSE(model->SetParameters(nan).ok());
  EXPECT_EQ(model->parameters().Flat(), before.Flat());  // unchanged on error
}

TEST(SequentialTest, CloneIsIndependent) {
  auto model = *NewMlp({6}, 2, 3, {4});
  auto copy = model->Clone();
  EXPECT_EQ(copy->parameters().Flat(), model->parameters().Flat());
  Rng rng(1);
  const Matrix x = RandomMatrix(6, 3, rng);
  const Matrix y1 = model->Forward(x);
  EXPECT_TRUE(copy->Forward(x).isApprox(y1));
  copy->mutable_parameters().Scale(2.0f);
  EXPECT_TRUE(model->Forward(x).isApprox(y1));
}

// Whole-model check: chaining of layers in Forward/Backward gives the true gradient of the
// cross-entropy with respect to a sample of parameters in every tensor of the CNN.
TEST(SequentialTest, LeNetGradientMatchesFiniteDifferences) {
  Rng rng(11);
  auto model = *NewLeNet({1, 16, 16}, 4, 5);
  const Matrix x = RandomMatrix(256, 3, rng);
  Matrix labels(1, 3);
  labels << 0, 3, 1;
  auto loss = NewSoftmaxCrossEntropy();
  Matrix dout;
  loss->Compute(model->Forward(x), labels, &dout);
  model->Backward(dout);
  const Parameters grads = model->gradients();
  Parameters& p = model->mutable_parameters();
  const double eps = 1e-3;
  for (size_t t = 0; t < p.num_tensors(); ++t) {
    for (int k = 0; k < 4; ++k) {
      const size_t i = p.info(t).offset + rng.UniformInt(p.info(t).size);
      const float orig = p.data()[i];
      const float hi = orig + static_cast<float>(eps), lo = orig - static_cast<float>(eps);
      p.data()[i] = hi;
      const double lp = loss->Compute(model->Forward(x), labels, nullptr);
      p.data()[i] = lo;
      const double lm = loss->Compute(model->Forward(x), labels, nullptr);
      p.data()[i] = orig;
      EXPECT_NEAR((lp - lm) / (double{hi} - double{lo}), grads.data()[i],
                  2e-3 + 0.02 * std::abs(grads.data()[i]))
          << p.info(t).name;
    }
  }
}

// One step's output and gradients of `model` on a fixed batch.
std::pair<Matrix, Parameters> OutputAndGradients(Model& model, const Matrix& x,
                                                 const Matrix& labels) {
  auto loss = NewSoftmaxCrossEntropy();
  Matrix dout;
  const Matrix out = model.Forward(x);
  loss->Compute(out, labels, &dout);
  model.Backward(dout);
  return {out, model.gradients()};
}

TEST(SequentialTest, ThreadsSplitTheBatchAndSumTheSameGradients) {
  Rng rng(12);
  const Matrix x = RandomMatrix(784, 37, rng);  // an odd batch: shards of 12, 12, 13
  Matrix labels(1, 37);
  for (int i = 0; i < 37; ++i) labels(0, i) = static_cast<float>(i % 10);
  for (const char* name : {"cnn", "simple-cnn", "mlp"}) {
    auto one = *NewModelByName(name, {1, 28, 28}, 10, 3);
    auto three = *NewModelByName(name, {1, 28, 28}, 10, 3);
    ASSERT_TRUE(three->SetThreads(3).ok());
    const auto [out1, grad1] = OutputAndGradients(*one, x, labels);
    const auto [out3, grad3] = OutputAndGradients(*three, x, labels);
    // The same maths on smaller GEMMs (BLAS may block them otherwise), and the gradients
    // summed in another order: equal up to float rounding.
    EXPECT_LT((out1 - out3).cwiseAbs().maxCoeff(), 1e-5 * out1.cwiseAbs().maxCoeff()) << name;
    const double scale = grad1.Flat().cwiseAbs().maxCoeff();
    EXPECT_LT((grad1.Flat() - grad3.Flat()).cwiseAbs().maxCoeff(), 1e-5 * scale) << name;
    // Bit-identical for a fixed thread count, step after step.
    const auto [again_out, again_grad] = OutputAndGradients(*three, x, labels);
    EXPECT_EQ(again_grad.Flat(), grad3.Flat()) << name;
  }
}

TEST(SequentialTest, ThreadsCanChangeAndCloneRunsOnOneThread) {
  Rng rng(13);
  auto model = *NewModelByName("cnn", {1, 28, 28}, 10, 3);
  EXPECT_EQ(model->SetThreads(0).code(), StatusCode::kInvalidArgument);
  const Matrix x = RandomMatrix(784, 8, rng);
  Matrix labels = Matrix::Zero(1, 8);
  ASSERT_TRUE(model->SetThreads(2).ok());
  const auto [out2, grad2] = OutputAndGradients(*model, x, labels);
  ASSERT_TRUE(model->SetThreads(4).ok());
  ASSERT_TRUE(model->SetThreads(1).ok());
  const auto [out1, grad1] = OutputAndGradients(*model, x, labels);
  EXPECT_EQ(out1, out2);
  // A batch of one example uses one shard whatever the thread count.
  ASSERT_TRUE(model->SetThreads(2).ok());
  const Matrix single = model->Forward(x.leftCols(1));
  EXPECT_LT((single - out1.leftCols(1)).cwiseAbs().maxCoeff(), 1e-5);
  auto copy = model->Clone();
  EXPECT_EQ(copy->Forward(x), out1);
}

TEST(ModelZooTest, SimpleCnnIsNiidBenchs) {
  auto model = *NewModelByName("simple-cnn", {1, 28, 28}, 10, 1);
  auto& seq = dynamic_cast<Sequential&>(*model);
  // conv 1->6 5x5 (no padding) 28 -> 24, pool 12, conv 6->16 5x5 -> 8, pool 4: 256 inputs.
  EXPECT_EQ(seq.layer(2).OutputShape(), Shape({6, 12, 12}));
  EXPECT_EQ(seq.layer(7).InputShape(), Shape({256}));
  EXPECT_EQ(model->parameters().size(),
            6u * 25 + 6 + 16 * 150 + 16 + 256 * 120 + 120 + 120 * 84 + 84 + 84 * 10 + 10);
  EXPECT_EQ(model->Name(), "simple-cnn");
}

TEST(ModelZooTest, ShapesAndNames) {
  EXPECT_EQ((*NewModelByName("cnn", {1, 28, 28}, 10, 1))->OutputShape(), Shape({10}));
  EXPECT_EQ((*NewModelByName("mlp", {1, 28, 28}, 10, 1))->parameters().size(),
            784u * 200 + 200 + 200 * 200 + 200 + 200 * 10 + 10);
  EXPECT_EQ((*NewModelByName("logreg", {784}, 10, 1))->parameters().size(), 7850u);
  EXPECT_EQ((*NewModelByName("linear", {3}, 1, 1))->parameters().size(), 4u);
  auto bad = NewModelByName("resnet", {3}, 1, 1);
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("resnet"), std::string::npos);
}

}  // namespace
}  // namespace fedra
