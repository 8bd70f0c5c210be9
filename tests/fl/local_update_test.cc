#include "fedra/fl/local_update.h"
#include "fedra/fl/local_trainer.h"

#include <gtest/gtest.h>

#include <cmath>

#include "fedra/ml/model_zoo.h"

namespace fedra {
namespace {

// One example x = (1, 2), target 3, for y = w.x + b with MSE: dL/dw = 2 (y - t) x.
Dataset OneExample() {
  Dataset d{
      .features = Matrix(2, 1), .targets = Matrix(1, 1), .example_shape = {2}, .num_classes = 0};
  d.features << 1, 2;
  d.targets << 3;
  return d;
}

Parameters Zeros(const Model& m) { return Parameters::ZerosLike(m.parameters()); }

TEST(LocalUpdateTest, UpdateIsLocalMinusGlobalAfterOneHandWorkedStep) {
  auto model = *NewLinearRegression({2}, 1, 1);
  const Parameters global = Zeros(*model);  // w = 0, b = 0: y = 0, error -3
  Rng rng(1);
  ClientState state;
  auto r = RunLocalFit(*model, *NewMeanSquaredError(), OneExample(), global,
                       {.epochs = 1, .batch_size = 1, .learning_rate = 0.1f}, {}, &state, rng);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // grad w = 2 * (0 - 3) * (1, 2) = (-6, -12); grad b = -6; update = -0.1 * grad.
  EXPECT_FLOAT_EQ(r->update.data()[0], 0.6f);
  EXPECT_FLOAT_EQ(r->update.data()[1], 1.2f);
  EXPECT_FLOAT_EQ(r->update.data()[2], 0.6f);
  EXPECT_EQ(r->num_examples, 1u);
  EXPECT_EQ(r->local_steps, 1);
  EXPECT_DOUBLE_EQ(r->train_loss, 9.0);
}

// local_steps = 3 on one example: three hand-checkable SGD steps whatever epochs says.
TEST(LocalUpdateTest, LocalStepsReplaceEpochs) {
  auto model = *NewLinearRegression({2}, 1, 1);
  Rng rng(1);
  ClientState state;
  auto r = RunLocalFit(*model, *NewMeanSquaredError(), OneExample(), Zeros(*model),
                       {.epochs = 10, .local_steps = 3, .batch_size = 1, .learning_rate = 0.01f},
                       {}, &state, rng);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->local_steps, 3);
  // y = w.x + b with x = (1, 2, 1 for b): each step adds 0.01 * 2 * (3 - y) * x, and y
  // grows by 0.02 * (3 - y) * |x|^2 = 0.12 * (3 - y).
  double y = 0, b = 0;
  for (int k = 0; k < 3; ++k) {
    b += 0.02 * (3 - y);
    y += 0.12 * (3 - y);
  }
  EXPECT_NEAR(r->update.data()[0], b, 1e-6);
  EXPECT_NEAR(r->update.data()[1], 2 * b, 1e-6);
  EXPECT_NEAR(r->update.data()[2], b, 1e-6);
}

// Adam's first step moves every coordinate by lr * sign(grad) (m / sqrt(v) = g / |g|); the
// decoupled decay skips the bias; clipping does not change the direction Adam follows.
TEST(LocalUpdateTest, AdamWTakesSignSizedStepsAndDecaysOnlyWeights) {
  auto model = *NewLinearRegression({2}, 1, 1);
  Parameters global = Zeros(*model);
  global.data()[0] = 1.0f;  // w = (1, 0), b = 1: y = 2, error -1, grad w = (-2, -4), grad b = -2
  global.data()[2] = 1.0f;
  Rng rng(1);
  ClientState state;
  const FitConfig c{.epochs = 1,
                    .batch_size = 1,
                    .learning_rate = 0.1f,
                    .weight_decay = 0.5f,
                    .optimizer = "adamw",
                    .max_grad_norm = 1.0f};
  auto r = RunLocalFit(*model, *NewMeanSquaredError(), OneExample(), global, c, {}, &state, rng);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // w0: decayed by lr * wd * w0 = 0.05, then + 0.1; w1 (zero) + 0.1; b (1, not decayed) + 0.1.
  EXPECT_NEAR(r->update.data()[0], 0.1f - 0.05f, 1e-5);
  EXPECT_NEAR(r->update.data()[1], 0.1f, 1e-5);
  EXPECT_NEAR(r->update.data()[2], 0.1f, 1e-5);
  // Plain Adam: the decay is an L2 term in the gradient (-2 + 0.5 w0 keeps its sign; without
  // clipping, which would shrink the -2 below the 0.5), so the first step is lr * sign
  // everywhere, the decayed weight included.
  FitConfig adam = c;
  adam.optimizer = "adam";
  adam.max_grad_norm = 0;
  auto a = RunLocalFit(*model, *NewMeanSquaredError(), OneExample(), global, adam, {}, &state, rng);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_NEAR(a->update.data()[0], 0.1f, 1e-5);
  EXPECT_NEAR(a->update.data()[2], 0.1f, 1e-5);
  FitConfig unknown = c;
  unknown.optimizer = "lbfgs";
  EXPECT_FALSE(
      RunLocalFit(*model, *NewMeanSquaredError(), OneExample(), global, unknown, {}, &state, rng)
          .ok());
}

// SGD's step follows the clipped gradient: (-6, -12, -6) has norm sqrt(216).
TEST(LocalUpdateTest, GradientsAreClippedToMaxGradNorm) {
  auto model = *NewLinearRegression({2}, 1, 1);
  Rng rng(1);
  ClientState state;
  auto r = RunLocalFit(*model, *NewMeanSquaredError(), OneExample(), Zeros(*model),
                       {.epochs = 1, .batch_size = 1, .learning_rate = 0.1f, .max_grad_norm = 1.0f},
                       {}, &state, rng);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const double norm = std::sqrt(216.0);
  EXPECT_NEAR(r->update.data()[0], 0.6 / norm, 1e-6);
  EXPECT_NEAR(r->update.data()[1], 1.2 / norm, 1e-6);
  EXPECT_NEAR(r->update.data()[2], 0.6 / norm, 1e-6);
}

TEST(LocalUpdateTest, ProximalTermPullsTowardsTheGlobalModel) {
  auto model = *NewLinearRegression({2}, 1, 1);
  Parameters global = Zeros(*model);
  global.data()[0] = 1.0f;  // w = (1, 0), b = 0: y = 1, error -2
  Rng rng(1);
  auto r = RunLocalFit(*model, *NewMeanSquaredError(), OneExample(), global,
                       {.epochs = 2, .batch_size = 1, .learning_rate = 0.1f, .proximal_mu = 0.5f},
                       {}, nullptr, rng);
  ASSERT_TRUE(r.ok());
  // Step 1 at w = global: the proximal gradient mu (w - global) is 0, so step = -0.1 * (-4, -8,
  // -4). Step 2 at w1 = (1.4, 0.8), b1 = 0.4: y = 1.4 + 1.6 + 0.4 = 3.4, error 0.4, MSE grad
  // (0.8, 1.6, 0.8); proximal grad 0.5 * (0.4, 0.8, 0.4) = (0.2, 0.4, 0.2); total (1.0, 2.0, 1.0).
  // w2 - global = (0.4, 0.8, 0.4) - 0.1 * (1.0, 2.0, 1.0) = (0.3, 0.6, 0.3).
  EXPECT_NEAR(r->update.data()[0], 0.3f, 1e-6);
  EXPECT_NEAR(r->update.data()[1], 0.6f, 1e-6);
  EXPECT_NEAR(r->update.data()[2], 0.3f, 1e-6);
}

TEST(LocalUpdateTest, ScaffoldCorrectsGradientsAndReturnsControlDelta) {
  auto model = *NewLinearRegression({2}, 1, 1);
  const Parameters global = Zeros(*model);
  Parameters c = Zeros(*model);
  c.data()[0] = 1.0f;  // server control (1, 0, 0); client control starts at 0
  Rng rng(1);
  ClientState state;
  auto r = RunLocalFit(*model, *NewMeanSquaredError(), OneExample(), global,
                       {.epochs = 1, .batch_size = 1, .learning_rate = 0.1f, .scaffold = true},
                       {{"control", c}}, &state, rng);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // Corrected gradient (-6, -12, -6) + (1, 0, 0) = (-5, -12, -6); update = (0.5, 1.2, 0.6).
  EXPECT_FLOAT_EQ(r->update.data()[0], 0.5f);
  // Option II: c_i+ = c_i - c + (global - local) / (K lr)
  //                  = 0 - (1, 0, 0) - (0.5, 1.2, 0.6) / 0.1 = (-6, -12, -6); delta = c_i+ - 0.
  const Parameters& delta = r->extras.at("control_delta");
  EXPECT_NEAR(delta.data()[0], -6.0f, 1e-5);
  EXPECT_NEAR(delta.data()[1], -12.0f, 1e-5);
  EXPECT_NEAR(delta.data()[2], -6.0f, 1e-5);
  EXPECT_NEAR(state.control.data()[1], -12.0f, 1e-5);  // the client keeps c_i+
}

TEST(LocalUpdateTest, ScaffoldWithoutServerControlIsAnError) {
  auto model = *NewLinearRegression({2}, 1, 1);
  Rng rng(1);
  ClientState state;
  auto r = RunLocalFit(*model, *NewMeanSquaredError(), OneExample(), Zeros(*model),
                       {.scaffold = true}, {}, &state, rng);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

TEST(LocalUpdateTest, GlobalOfTheWrongShapeIsRejected) {
  auto model = *NewLinearRegression({2}, 1, 1);
  auto other = *NewLinearRegression({3}, 1, 1);
  Rng rng(1);
  auto r = RunLocalFit(*model, *NewMeanSquaredError(), OneExample(), other->parameters(), {}, {},
                       nullptr, rng);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("global parameters"), std::string::npos);
  auto e = RunLocalEvaluate(*model, *NewMeanSquaredError(), OneExample(), other->parameters(), 8);
  EXPECT_FALSE(e.ok());
}

TEST(LocalUpdateTest, EvaluateReportsLossOfTheGlobalModel) {
  auto model = *NewLinearRegression({2}, 1, 1);
  auto e = RunLocalEvaluate(*model, *NewMeanSquaredError(), OneExample(), Zeros(*model), 8);
  ASSERT_TRUE(e.ok());
  EXPECT_DOUBLE_EQ(e->loss, 9.0);
  EXPECT_EQ(e->num_examples, 1u);
}

}  // namespace
}  // namespace fedra

namespace fedra {
namespace {

TEST(EffectiveLocalStepsTest, HandWorkedValues) {
  EXPECT_DOUBLE_EQ(EffectiveLocalSteps(7, 0.0), 7.0);
  // rho = 0.5, 3 steps: (1 - 0.5) / 0.5 + (1 - 0.25) / 0.5 + (1 - 0.125) / 0.5 = 1 + 1.5 + 1.75.
  EXPECT_DOUBLE_EQ(EffectiveLocalSteps(3, 0.5), 4.25);
  EXPECT_DOUBLE_EQ(EffectiveLocalSteps(1, 0.9), 1.0);
}

// With a tiny learning rate the gradient stays (almost) constant during local training, so
// SCAFFOLD's control delta must come out as that gradient even with momentum 0.9, where the
// model moves ~4x further than 10 plain SGD steps would.
TEST(LocalUpdateTest, ScaffoldControlDeltaAccountsForMomentum) {
  auto model = *NewLinearRegression({2}, 1, 1);
  const Parameters global = Zeros(*model);
  Rng rng(1);
  ClientState state;
  auto r = RunLocalFit(
      *model, *NewMeanSquaredError(), OneExample(), global,
      {.epochs = 10, .batch_size = 1, .learning_rate = 1e-5f, .momentum = 0.9f, .scaffold = true},
      {{"control", Zeros(*model)}}, &state, rng);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Parameters& delta = r->extras.at("control_delta");
  EXPECT_NEAR(delta.data()[0], -6.0f, 0.06f);  // the gradient at the global model
  EXPECT_NEAR(delta.data()[1], -12.0f, 0.12f);
  EXPECT_NEAR(delta.data()[2], -6.0f, 0.06f);
}

// Client-side DP stage: the norm before clipping is reported, the update is clipped, then
// noised with a generator keyed from OpenSSL RAND.
TEST(LocalUpdateTest, DpClipsTheUpdateAndReportsTheNormBeforeClipping) {
  auto model = *NewLinearRegression({2}, 1, 1);
  Rng rng(1);
  const Dataset data = OneExample(), no_test;
  const auto loss = NewMeanSquaredError();
  ModelTrainer trainer(*model, *loss, data, no_test, nullptr);
  auto r = RunClientFit(trainer, Zeros(*model),
                        {.epochs = 1, .batch_size = 1, .learning_rate = 0.1f, .clip_norm = 0.5f},
                        {}, rng);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // Unclipped update (0.6, 1.2, 0.6), norm sqrt(2.16).
  EXPECT_NEAR(r->metrics.at("update_norm"), std::sqrt(2.16), 1e-6);
  EXPECT_NEAR(r->update.L2Norm(), 0.5, 1e-6);
  EXPECT_NEAR(r->update.data()[1] / r->update.data()[0], 2.0, 1e-5);
}

TEST(LocalUpdateTest, DpNoiseHasTheRequestedStddev) {
  // 20000 zero features and a zero target: the gradient is 0, so the update is pure noise.
  const int64_t d = 20000;
  auto model = *NewLinearRegression({d}, 1, 1);
  Dataset data{.features = Matrix::Zero(d, 1), .targets = Matrix::Zero(1, 1), .example_shape = {d}};
  Rng rng(1);
  const Dataset no_test;
  const auto loss = NewMeanSquaredError();
  ModelTrainer trainer(*model, *loss, data, no_test, nullptr);
  auto r = RunClientFit(trainer, Zeros(*model),
                        {.epochs = 1, .batch_size = 1, .learning_rate = 0.1f, .noise_stddev = 0.1f},
                        {}, rng);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->metrics.at("update_norm"), 0.0);
  const double rms = r->update.L2Norm() / std::sqrt(static_cast<double>(r->update.size()));
  EXPECT_NEAR(rms, 0.1, 0.005);  // > 9 standard errors
}

TEST(LocalUpdateTest, DpRejectsNegativeClipOrNoise) {
  auto model = *NewLinearRegression({2}, 1, 1);
  Rng rng(1);
  const Dataset data = OneExample(), no_test;
  const auto loss = NewMeanSquaredError();
  ModelTrainer trainer(*model, *loss, data, no_test, nullptr);
  auto r = RunClientFit(trainer, Zeros(*model), {.noise_stddev = -1.0f}, {}, rng);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(RunClientFit(trainer, Zeros(*model), {.clip_norm = -1.0f}, {}, rng).ok());
}

}  // namespace
}  // namespace fedra
