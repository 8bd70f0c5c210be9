#include "fedra/ml/trainer.h"

#include <gtest/gtest.h>

#include <cmath>

#include "fedra/ml/model_zoo.h"

namespace fedra {
namespace {

// Two Gaussian blobs per class on a line: linearly separable with a wide margin.
Dataset Blobs(size_t n, int classes, Rng& rng) {
  Dataset d;
  d.example_shape = {2};
  d.num_classes = classes;
  d.features.resize(2, static_cast<Eigen::Index>(n));
  d.targets.resize(1, static_cast<Eigen::Index>(n));
  for (Eigen::Index i = 0; i < d.features.cols(); ++i) {
    const int c = static_cast<int>(rng.UniformInt(static_cast<uint64_t>(classes)));
    const double angle = 2 * M_PI * c / classes;
    d.features(0, i) = static_cast<float>(3 * std::cos(angle) + 0.3 * rng.Normal());
    d.features(1, i) = static_cast<float>(3 * std::sin(angle) + 0.3 * rng.Normal());
    d.targets(0, i) = static_cast<float>(c);
  }
  return d;
}

TEST(TrainerTest, SoftmaxRegressionSeparatesBlobs) {
  Rng rng(1);
  const Dataset train = Blobs(600, 3, rng), test = Blobs(300, 3, rng);
  auto model = *NewSoftmaxRegression({2}, 3, 1);
  auto loss = NewSoftmaxCrossEntropy();
  auto opt = *NewSgd({.learning_rate = 0.1f});
  const double before = Evaluate(*model, *loss, test)->accuracy;
  std::vector<int> epochs_seen;
  TrainOptions options{.epochs = 5, .batch_size = 16};
  options.on_epoch_end = [&](const EpochStats& s) { epochs_seen.push_back(s.epoch); };
  auto fit = Fit(*model, *loss, *opt, train, options, rng);
  ASSERT_TRUE(fit.ok()) << fit.status().ToString();
  EXPECT_EQ(fit->steps, 5 * 38);  // ceil(600 / 16) per epoch
  EXPECT_EQ(epochs_seen, std::vector<int>({1, 2, 3, 4, 5}));
  EXPECT_LT(fit->epochs.back().loss, fit->epochs.front().loss);
  auto eval = Evaluate(*model, *loss, test);
  ASSERT_TRUE(eval.ok());
  EXPECT_GT(eval->accuracy, 0.98);
  EXPECT_LT(before, 0.9);
  EXPECT_EQ(eval->num_examples, 300u);
}

// steps > 0 replaces epochs: 20 examples in batches of 8 are 3 steps a pass, so 7 steps are
// two whole passes and one batch of a third, each pass reshuffled; the same run as epochs = 2
// for the first 6 steps.
TEST(TrainerTest, StepsCountMiniBatchesAcrossReshuffledPasses) {
  Rng data_rng(3);
  const Dataset train = Blobs(20, 2, data_rng);
  auto loss = NewSoftmaxCrossEntropy();
  std::vector<size_t> seen_per_pass;
  auto run = [&](TrainOptions options, uint64_t seed) {
    auto model = *NewSoftmaxRegression({2}, 2, 1);
    auto opt = *NewSgd({.learning_rate = 0.1f});
    Rng rng(seed);
    auto fit = Fit(*model, *loss, *opt, train, options, rng);
    EXPECT_TRUE(fit.ok()) << fit.status().ToString();
    return std::make_pair(*fit, model->parameters());
  };
  const auto [seven, seven_params] = run({.epochs = 50, .batch_size = 8, .steps = 7}, 5);
  EXPECT_EQ(seven.steps, 7);
  ASSERT_EQ(seven.epochs.size(), 3u);
  EXPECT_EQ(seven.num_examples, 20u);
  const auto [six, six_params] = run({.epochs = 50, .batch_size = 8, .steps = 6}, 5);
  const auto [two_epochs, two_epoch_params] = run({.epochs = 2, .batch_size = 8}, 5);
  EXPECT_EQ(six.steps, 6);
  EXPECT_EQ(six_params.span()[0], two_epoch_params.span()[0]);
  EXPECT_EQ(six.epochs.back().loss, two_epochs.epochs.back().loss);
  EXPECT_NE(seven_params.span()[0], six_params.span()[0]);
  auto model = *NewSoftmaxRegression({2}, 2, 1);
  auto opt = *NewSgd({.learning_rate = 0.1f});
  Rng rng(1);
  EXPECT_FALSE(Fit(*model, *loss, *opt, train, {.batch_size = 8, .steps = -1}, rng).ok());
}

TEST(TrainerTest, LinearRegressionRecoversTrueWeights) {
  Rng rng(2);
  Dataset d;
  d.example_shape = {3};
  d.features.resize(3, 500);
  d.targets.resize(1, 500);
  const Eigen::Vector3f w(1.5f, -2.0f, 0.5f);
  for (Eigen::Index i = 0; i < 500; ++i) {
    for (int j = 0; j < 3; ++j) d.features(j, i) = static_cast<float>(rng.Normal());
    d.targets(0, i) = w.dot(d.features.col(i)) + 0.7f;
  }
  auto model = *NewLinearRegression({3}, 1, 3);
  auto opt = *NewSgd({.learning_rate = 0.05f, .momentum = 0.9f});
  ASSERT_TRUE(
      Fit(*model, *NewMeanSquaredError(), *opt, d, {.epochs = 30, .batch_size = 25}, rng).ok());
  const Parameters& p = model->parameters();
  for (int j = 0; j < 3; ++j) EXPECT_NEAR(p.Tensor(0)[j], w[j], 1e-3);
  EXPECT_NEAR(p.Tensor(1)[0], 0.7f, 1e-3);
}

TEST(TrainerTest, SameSeedGivesIdenticalModel) {
  auto run = [](uint64_t seed) {
    Rng rng(seed);
    const Dataset d = Blobs(200, 4, rng);
    auto model = *NewMlp({2}, 4, 1, {8});
    auto opt = *NewAdam({});
    EXPECT_TRUE(
        Fit(*model, *NewSoftmaxCrossEntropy(), *opt, d, {.epochs = 2, .batch_size = 10}, rng).ok());
    return Vector(model->parameters().Flat());
  };
  EXPECT_EQ(run(5), run(5));
  EXPECT_NE(run(5), run(6));
}

TEST(TrainerTest, DivergenceIsAnErrorAndLeavesFiniteParameters) {
  Rng rng(3);
  Dataset d;
  d.example_shape = {1};
  d.features = Matrix::Constant(1, 50, 1000.0f);
  d.targets = Matrix::Constant(1, 50, 1.0f);
  auto model = *NewLinearRegression({1}, 1, 1);
  auto opt = *NewSgd({.learning_rate = 10.0f});
  auto fit = Fit(*model, *NewMeanSquaredError(), *opt, d, {.epochs = 50, .batch_size = 5}, rng);
  ASSERT_FALSE(fit.ok());
  EXPECT_EQ(fit.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(fit.status().message().find("diverged"), std::string::npos);
  EXPECT_TRUE(model->parameters().CheckFinite().ok());
}

TEST(TrainerTest, ANonFiniteGradientIsNeverApplied) {
  Rng rng(5);
  const Dataset blobs = Blobs(40, 2, rng);
  auto model = *NewSoftmaxRegression({2}, 2, 1);
  auto opt = *NewSgd({.learning_rate = 0.1f, .momentum = 0.9f});
  int calls = 0;
  Parameters before_bad_step;
  TrainOptions o{.epochs = 1, .batch_size = 10};
  o.gradient_hook = [&](const Parameters& params, Parameters& grads) {
    if (++calls < 3) return;
    before_bad_step = params;
    grads.data()[1] = NAN;
  };
  auto fit = Fit(*model, *NewSoftmaxCrossEntropy(), *opt, blobs, o, rng);
  ASSERT_EQ(fit.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(fit.status().message().find("gradient"), std::string::npos) << fit.status().ToString();
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(model->parameters().Flat(), before_bad_step.Flat());
}

TEST(TrainerTest, RejectsDataThatDoesNotFitTheModel) {
  Rng rng(4);
  auto model = *NewSoftmaxRegression({3}, 2, 1);
  auto opt = *NewSgd({});
  auto loss = NewSoftmaxCrossEntropy();
  const Dataset blobs = Blobs(10, 2, rng);  // 2 features, model wants 3
  auto fit = Fit(*model, *loss, *opt, blobs, {}, rng);
  EXPECT_EQ(fit.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(fit.status().message().find("features"), std::string::npos) << fit.status().ToString();

  auto small = *NewSoftmaxRegression({2}, 2, 1);
  const Dataset five_classes = Blobs(10, 5, rng);
  EXPECT_FALSE(Fit(*small, *loss, *opt, five_classes, {}, rng).ok());
  EXPECT_FALSE(Evaluate(*small, *NewMeanSquaredError(), blobs).ok());

  Dataset nan = Blobs(10, 2, rng);
  nan.features(1, 4) = std::nanf("");
  auto nan_fit = Fit(*small, *loss, *opt, nan, {}, rng);
  EXPECT_NE(nan_fit.status().message().find("NaN"), std::string::npos);
  EXPECT_FALSE(Fit(*small, *loss, *opt, blobs, {.batch_size = 0}, rng).ok());
}

TEST(TrainerTest, GradientHookSeesAndChangesGradients) {
  Rng rng(5);
  const Dataset d = Blobs(40, 2, rng);
  auto model = *NewSoftmaxRegression({2}, 2, 1);
  const Vector start = model->parameters().Flat();
  auto opt = *NewSgd({.learning_rate = 0.1f});
  TrainOptions options{.epochs = 1, .batch_size = 8};
  int calls = 0;
  options.gradient_hook = [&](const Parameters& params, Parameters& grads) {
    EXPECT_TRUE(params.SameLayout(grads));
    grads.SetZero();  // a hook that cancels every update
    ++calls;
  };
  ASSERT_TRUE(Fit(*model, *NewSoftmaxCrossEntropy(), *opt, d, options, rng).ok());
  EXPECT_EQ(calls, 5);
  EXPECT_EQ(Vector(model->parameters().Flat()), start);
}

}  // namespace
}  // namespace fedra
