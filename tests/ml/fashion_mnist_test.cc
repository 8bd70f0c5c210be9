// Training on the real Fashion-MNIST files from the Debian package dataset-fashion-mnist
// (installed by scripts/install-deps.sh); skipped where the package is absent.
#include <gtest/gtest.h>

#include <filesystem>

#include "fedra/ml/idx_loader.h"
#include "fedra/ml/model_zoo.h"
#include "fedra/ml/safetensors.h"
#include "fedra/ml/trainer.h"
#include "testing/temp_dir.h"

namespace fedra {
namespace {

TEST(FashionMnistTest, OneEpochOfSoftmaxRegressionLearnsAndSurvivesASaveLoad) {
  if (!std::filesystem::exists(std::filesystem::path(kFashionMnistDir) /
                               "t10k-images-idx3-ubyte.gz")) {
    GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  }
  auto test = LoadFashionMnist(Split::kTest);
  ASSERT_TRUE(test.ok()) << test.status().ToString();
  // Train on the first 8000 test images, evaluate on the other 2000.
  std::vector<size_t> a(8000), b(2000);
  for (size_t i = 0; i < a.size(); ++i) a[i] = i;
  for (size_t i = 0; i < b.size(); ++i) b[i] = 8000 + i;
  const Dataset train = test->Subset(a), held_out = test->Subset(b);
  auto model = *NewSoftmaxRegression(train.example_shape, 10, 1);
  auto opt = *NewSgd({.learning_rate = 0.1f, .momentum = 0.9f});
  auto loss = NewSoftmaxCrossEntropy();
  Rng rng(1);
  ASSERT_TRUE(Fit(*model, *loss, *opt, train, {.epochs = 2, .batch_size = 32}, rng).ok());
  auto eval = Evaluate(*model, *loss, held_out);
  ASSERT_TRUE(eval.ok());
  EXPECT_GT(eval->accuracy, 0.75);  // chance is 0.10

  // The trained weights survive a safetensors round trip bit for bit.
  testing::TempDir dir;
  ASSERT_TRUE(SaveSafetensors(dir.File("m.safetensors"), model->parameters()).ok());
  auto loaded = LoadSafetensors(dir.File("m.safetensors"));
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  auto fresh = *NewSoftmaxRegression(train.example_shape, 10, 2);
  ASSERT_TRUE(fresh->SetParameters(*loaded).ok());
  EXPECT_EQ(Evaluate(*fresh, *loss, held_out)->accuracy, eval->accuracy);
}

}  // namespace
}  // namespace fedra
