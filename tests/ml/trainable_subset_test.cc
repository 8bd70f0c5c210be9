// NewTrainableSubset: only the chosen tensors are exposed, trained and given gradients; the
// others keep their values through training and cloning.
#include "fedra/ml/trainable_subset.h"

#include <gtest/gtest.h>

#include "fedra/ml/loss.h"
#include "fedra/ml/model_zoo.h"
#include "fedra/ml/optimizer.h"
#include "fedra/ml/synthetic.h"
#include "fedra/ml/trainer.h"

namespace fedra {
namespace {

std::unique_ptr<Model> Mlp() { return *NewMlp({6}, 3, 5, {8}); }  // dense layers 1.* and 3.*

Dataset Blobs() {
  Rng rng(3);
  Dataset d{
      .features = Matrix(6, 40), .targets = Matrix(1, 40), .example_shape = {6}, .num_classes = 3};
  for (int i = 0; i < 40; ++i) {
    d.targets(0, i) = static_cast<float>(i % 3);
    for (int k = 0; k < 6; ++k) d.features(k, i) = static_cast<float>(rng.Normal() + (k == i % 3));
  }
  return d;
}

bool Head(std::string_view name) { return name.starts_with("3."); }

TEST(TrainableSubsetTest, ExposesOnlyTheChosenTensorsAndTheirGradients) {
  auto full = Mlp();
  auto sub = *NewTrainableSubset(full->Clone(), Head);
  ASSERT_EQ(sub->parameters().num_tensors(), 2u);
  EXPECT_EQ(sub->parameters().info(0).name, "3.weight");
  EXPECT_EQ(sub->parameters().info(1).name, "3.bias");
  const Dataset d = Blobs();
  auto loss = NewSoftmaxCrossEntropy();
  Matrix dout;
  full->Forward(d.features);
  const Matrix& y = sub->Forward(d.features);
  EXPECT_EQ(y, full->Forward(d.features));
  loss->Compute(y, d.targets, &dout);
  full->Backward(dout);
  sub->Backward(dout);
  EXPECT_EQ(sub->gradients().Tensor(0),
            full->gradients().Tensor(*full->gradients().Find("3.weight")));
  EXPECT_EQ(sub->gradients().Tensor(1),
            full->gradients().Tensor(*full->gradients().Find("3.bias")));
  EXPECT_FALSE(NewTrainableSubset(Mlp(), [](std::string_view) { return false; }).ok());
}

TEST(TrainableSubsetTest, TrainingLeavesTheFrozenTensorsAlone) {
  auto full = Mlp();
  const Parameters before = full->parameters();
  auto sub = *NewTrainableSubset(full->Clone(), Head);
  const Dataset d = Blobs();
  auto opt = *NewSgd({.learning_rate = 0.5f});
  Rng rng(1);
  auto fit = Fit(*sub, *NewSoftmaxCrossEntropy(), *opt, d, {.epochs = 5, .batch_size = 8}, rng);
  ASSERT_TRUE(fit.ok()) << fit.status().ToString();
  // The model computes with the frozen layer as it was and the trained head.
  Parameters expected = before;
  expected.Tensor(2) = sub->parameters().Tensor(0);
  expected.Tensor(3) = sub->parameters().Tensor(1);
  EXPECT_NE(expected.Tensor(2), before.Tensor(2));
  ASSERT_TRUE(full->SetParameters(expected).ok());
  auto clone = sub->Clone();
  EXPECT_EQ(sub->Forward(d.features), full->Forward(d.features));
  EXPECT_EQ(clone->Forward(d.features), full->Forward(d.features));
  // A wrong layout is refused, and so is NaN.
  EXPECT_FALSE(sub->SetParameters(before).ok());
  Parameters nan = sub->parameters();
  nan.data()[0] = NAN;
  EXPECT_FALSE(sub->SetParameters(nan).ok());
}

}  // namespace
}  // namespace fedra
