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
