// The fine-tuning helpers: schedule values at known steps and its shape, global-norm clipping,
// AdamW's decay mask, and Fit applying the schedule and the clipping.
#include "fedra/ml/fine_tuning.h"

#include <gtest/gtest.h>

#include <cmath>

#include "fedra/ml/model_zoo.h"
#include "fedra/ml/optimizer.h"
#include "fedra/ml/trainer.h"

namespace fedra {
namespace {

using Decay = LrSchedule::Decay;

TEST(LrScheduleTest, WarmsUpLinearlyThenDecaysToTheFloor) {
  const LrSchedule lin{.peak = 1.0, .warmup_steps = 4, .total_steps = 10, .decay = Decay::kLinear};
  const double want[] = {0.25, 0.5, 0.75, 1.0, 1.0, 5.0 / 6, 4.0 / 6, 0.5, 2.0 / 6, 1.0 / 6, 0.0};
  for (int s = 0; s <= 10; ++s) EXPECT_NEAR(LearningRateAt(lin, s), want[s], 1e-12) << s;
  EXPECT_EQ(LearningRateAt(lin, 1000), 0.0);

  const LrSchedule cosine{.peak = 2.0,
                          .warmup_steps = 0,
                          .total_steps = 8,
                          .decay = Decay::kCosine,
                          .floor_fraction = 0.1};
  EXPECT_NEAR(LearningRateAt(cosine, 0), 2.0, 1e-12);
  EXPECT_NEAR(LearningRateAt(cosine, 4), 0.2 + 1.8 * 0.5, 1e-12);  // half-way: mid-point
  EXPECT_NEAR(LearningRateAt(cosine, 8), 0.2, 1e-12);
  double last = 3;
  for (int s = 0; s < 12; ++s) {  // never increases after the warm-up
    EXPECT_LE(LearningRateAt(cosine, s), last + 1e-15);
    last = LearningRateAt(cosine, s);
  }
  const LrSchedule flat{
      .peak = 0.5, .warmup_steps = 2, .total_steps = 5, .decay = Decay::kConstant};
  EXPECT_EQ(LearningRateAt(flat, 0), 0.25);
  EXPECT_EQ(LearningRateAt(flat, 4), 0.5);
  EXPECT_EQ(LearningRateAt(flat, 100), 0.5);

  EXPECT_TRUE(ValidateLrSchedule(lin).ok());
  EXPECT_FALSE(ValidateLrSchedule({.peak = -1}).ok());
  EXPECT_FALSE(ValidateLrSchedule({.peak = NAN}).ok());
  EXPECT_FALSE(ValidateLrSchedule({.warmup_steps = 5, .total_steps = 4}).ok());
  EXPECT_FALSE(ValidateLrSchedule({.total_steps = 0}).ok());
  EXPECT_FALSE(ValidateLrSchedule({.floor_fraction = 1.5}).ok());
}

TEST(ClipByGlobalNormTest, ScalesOnlyAboveTheLimitAndReturnsTheNormBefore) {
  std::vector<float> g = {3, 0, 4};
  EXPECT_DOUBLE_EQ(ClipByGlobalNorm(g, 1.0), 5.0);
  EXPECT_NEAR(g[0], 0.6f, 1e-7);
  EXPECT_NEAR(g[2], 0.8f, 1e-7);
  std::vector<float> small = {0.1f, 0.2f};
  EXPECT_NEAR(ClipByGlobalNorm(small, 1.0), std::sqrt(0.05), 1e-7);
  EXPECT_EQ(small, (std::vector<float>{0.1f, 0.2f}));
}

TEST(WeightDecayMaskTest, AdamWDecaysMatricesButNotBiasesOrNormWeights) {
  Parameters p;
  p.Add("dense.weight", {2, 3});
  p.Add("dense.bias", {3});
  p.Add("norm.weight", {3});
  const std::vector<float> mask = WeightDecayMask(p);
  std::vector<float> want(6, 1.0f);
  want.resize(12, 0.0f);
  EXPECT_EQ(mask, want);

  std::fill(p.data(), p.data() + p.size(), 2.0f);
  const std::vector<float> zero(p.size(), 0.0f);
  auto adamw = NewAdamW({.learning_rate = 0.5f, .weight_decay = 0.1f, .decay_mask = mask});
  ASSERT_TRUE(adamw.ok());
  (*adamw)->Step(p.span(), zero);  // zero gradient: only the decay moves p
  for (size_t i = 0; i < p.size(); ++i)
    EXPECT_FLOAT_EQ(p.data()[i], mask[i] == 1.0f ? 2.0f * (1 - 0.05f) : 2.0f) << i;
  EXPECT_FALSE(NewAdamW({.weight_decay = 0.1f, .decay_mask = {1.0f, 0.5f}}).ok());
}

Dataset Line(size_t n, Rng& rng) {
  Dataset d;
  d.example_shape = {2};
  d.num_classes = 2;
  d.features.resize(2, static_cast<Eigen::Index>(n));
  d.targets.resize(1, static_cast<Eigen::Index>(n));
  for (Eigen::Index i = 0; i < d.features.cols(); ++i) {
    const int c = static_cast<int>(rng.UniformInt(2));
    d.features(0, i) = static_cast<float>((c ? 2 : -2) + 0.3 * rng.Normal());
    d.features(1, i) = static_cast<float>(rng.Normal());
    d.targets(0, i) = static_cast<float>(c);
  }
  return d;
}

TEST(FitFineTuningTest, TheScheduleSetsEveryStepsRateAndClippingBoundsEachStep) {
  Rng rng(4);
  const Dataset data = Line(64, rng);
  auto loss = NewSoftmaxCrossEntropy();
  const LrSchedule s{.peak = 0.2, .warmup_steps = 3, .total_steps = 20, .decay = Decay::kCosine};
  {
    auto model = *NewSoftmaxRegression({2}, 2, 1);
    auto sgd = *NewSgd({.learning_rate = 99.0f});
    TrainOptions o{.epochs = 2, .batch_size = 16};
    o.schedule = s;
    o.schedule_offset = 5;
    auto fit = Fit(*model, *loss, *sgd, data, o, rng);
    ASSERT_TRUE(fit.ok()) << fit.status().ToString();
    ASSERT_EQ(fit->steps, 8);
    EXPECT_FLOAT_EQ(sgd->learning_rate(), static_cast<float>(LearningRateAt(s, 5 + 7)));
  }
  {
    // With every step clipped to norm 1e-4 and lr 1, the parameters move at most 8e-4.
    auto model = *NewSoftmaxRegression({2}, 2, 1);
    const Parameters before = model->parameters();
    auto sgd = *NewSgd({.learning_rate = 1.0f});
    TrainOptions o{.epochs = 2, .batch_size = 16, .max_grad_norm = 1e-4};
    ASSERT_TRUE(Fit(*model, *loss, *sgd, data, o, rng).ok());
    Parameters moved = model->parameters();
    moved.SubInPlace(before);
    EXPECT_LE(moved.L2Norm(), 8e-4 * (1 + 1e-5));
    EXPECT_GT(moved.L2Norm(), 1e-4);  // it did train
  }
  auto model = *NewSoftmaxRegression({2}, 2, 1);
  auto sgd = *NewSgd({});
  TrainOptions bad{.max_grad_norm = -1};
  EXPECT_EQ(Fit(*model, *loss, *sgd, data, bad, rng).status().code(), StatusCode::kInvalidArgument);
  TrainOptions bad_schedule;
  bad_schedule.schedule = LrSchedule{.warmup_steps = 9, .total_steps = 2};
  EXPECT_EQ(Fit(*model, *loss, *sgd, data, bad_schedule, rng).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace fedra
