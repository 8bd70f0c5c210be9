#include "fedra/ml/optimizer.h"

#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace fedra {
namespace {

using ::testing::HasSubstr;
using Vec = std::vector<float>;

std::unique_ptr<Optimizer> MakeSgd(const SgdOptions& options) {
  StatusOr<std::unique_ptr<Optimizer>> opt = NewSgd(options);
  EXPECT_TRUE(opt.ok()) << opt.status().ToString();
  return std::move(opt).value();
}

std::unique_ptr<Optimizer> MakeAdam(const AdamOptions& options) {
  StatusOr<std::unique_ptr<Optimizer>> opt = NewAdam(options);
  EXPECT_TRUE(opt.ok()) << opt.status().ToString();
  return std::move(opt).value();
}

// Applies one step per gradient in `grads` to `params`.
void StepAll(Optimizer& opt, Vec& params, const std::vector<Vec>& grads) {
  for (const Vec& g : grads) opt.Step(params, g);
}

void ExpectNear(const Vec& actual, const Vec& expected, float tolerance) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < actual.size(); ++i) {
    EXPECT_NEAR(actual[i], expected[i], tolerance) << "index " << i;
  }
}

// ---------------------------------------------------------------------------------------
// Single steps against values worked out by hand.

TEST(SgdTest, PlainStep) {
  auto opt = MakeSgd({.learning_rate = 0.1f});
  Vec p = {1.0f, -2.0f};
  // p - 0.1 * g = {1 - 0.05, -2 - 0.1}
  StepAll(*opt, p, {{0.5f, 1.0f}});
  ExpectNear(p, {0.95f, -2.1f}, 1e-6f);
  EXPECT_EQ(opt->Name(), "sgd");
}

TEST(SgdTest, WeightDecayAddsL2Gradient) {
  auto opt = MakeSgd({.learning_rate = 0.1f, .weight_decay = 0.1f});
  Vec p = {1.0f, -2.0f};
  // g = {0.5 + 0.1 * 1, 1 + 0.1 * -2} = {0.6, 0.8};  p = {1 - 0.06, -2 - 0.08}
  StepAll(*opt, p, {{0.5f, 1.0f}});
  ExpectNear(p, {0.94f, -2.08f}, 1e-6f);
}

TEST(SgdTest, HeavyBallMomentumOverThreeSteps) {
  auto opt = MakeSgd({.learning_rate = 0.1f, .momentum = 0.5f});
  Vec p = {0.0f};
  // b1 = 1                 -> p = -0.1
  // b2 = 0.5 * 1 - 1 = -0.5  -> p = -0.1 + 0.05 = -0.05
  // b3 = -0.25 + 2 = 1.75    -> p = -0.05 - 0.175 = -0.225
  StepAll(*opt, p, {{1.0f}});
  ExpectNear(p, {-0.1f}, 1e-6f);
  StepAll(*opt, p, {{-1.0f}});
  ExpectNear(p, {-0.05f}, 1e-6f);
  StepAll(*opt, p, {{2.0f}});
  ExpectNear(p, {-0.225f}, 1e-6f);
  EXPECT_EQ(opt->ExportState().step, 3);
  ExpectNear(opt->ExportState().buffers.at("momentum"), {1.75f}, 1e-6f);
}

TEST(SgdTest, NesterovMomentum) {
  auto opt = MakeSgd({.learning_rate = 0.1f, .momentum = 0.9f, .nesterov = true});
  Vec p = {1.0f};
  // Step 1: b = 1;               p -= 0.1 * (1 + 0.9 * 1)   = 0.19  -> 0.81
  // Step 2: b = 0.9 + 1 = 1.9;   p -= 0.1 * (1 + 0.9 * 1.9) = 0.271 -> 0.539
  // (heavy ball would give 0.9 and 0.71)
  StepAll(*opt, p, {{1.0f}});
  ExpectNear(p, {0.81f}, 1e-6f);
  StepAll(*opt, p, {{1.0f}});
  ExpectNear(p, {0.539f}, 1e-6f);
}

TEST(SgdTest, MomentumWithWeightDecay) {
  auto opt = MakeSgd({.learning_rate = 0.1f, .momentum = 0.5f, .weight_decay = 0.2f});
  Vec p = {1.0f};
  // Zero data gradient, so only decay pulls p:
  // Step 1: g = 0.2 * 1 = 0.2;           b = 0.2;                p = 1 - 0.02 = 0.98
  // Step 2: g = 0.2 * 0.98 = 0.196;      b = 0.1 + 0.196 = 0.296; p = 0.98 - 0.0296 = 0.9504
  StepAll(*opt, p, {{0.0f}, {0.0f}});
  ExpectNear(p, {0.9504f}, 1e-6f);
}

TEST(SgdTest, ResetRestartsMomentumAndSetLearningRateApplies) {
  auto opt = MakeSgd({.learning_rate = 0.1f, .momentum = 0.9f});
  Vec p = {0.0f};
  StepAll(*opt, p, {{1.0f}, {1.0f}});  // p = -0.1 - 0.19 = -0.29
  opt->Reset();
  EXPECT_EQ(opt->ExportState(), (OptimizerState{"sgd", 0, {{"momentum", {}}}}));
  opt->set_learning_rate(0.5f);
  EXPECT_EQ(opt->learning_rate(), 0.5f);
  StepAll(*opt, p, {{1.0f}});  // fresh buffer b = 1: p = -0.29 - 0.5
  ExpectNear(p, {-0.79f}, 1e-6f);
}

TEST(AdamTest, FirstTwoStepsWithBiasCorrection) {
  auto opt = MakeAdam({.learning_rate = 0.1f, .beta1 = 0.5f, .beta2 = 0.75f});
  Vec p = {1.0f, 1.0f, 0.0f};
  // Element 0, grads 2 then 1:
  //   t=1: m = 0.5*2 = 1, v = 0.25*4 = 1; m^ = 1/0.5 = 2, v^ = 1/0.25 = 4;
  //        p -= 0.1 * 2/2 = 0.1                                  -> 0.9
  //   t=2: m = 0.5 + 0.5 = 1, v = 0.75 + 0.25 = 1; m^ = 1/0.75, v^ = 1/0.4375 = 16/7;
  //        p -= 0.1 * (4/3) / (4/sqrt(7)) = 0.1 * sqrt(7)/3 = 0.0881917 -> 0.8118083
  // Element 1, grads -2 then 3:
  //   t=1: m = -1, v = 1                                         -> 1.1
  //   t=2: m = -0.5 + 1.5 = 1, v = 0.75 + 2.25 = 3; m^ = 4/3, v^ = 3/0.4375 = 48/7;
  //        p -= 0.1 * (4/3) / sqrt(48/7) = 0.0509175               -> 1.0490825
  // Element 2, zero grads: m = v = 0, p stays 0.
  StepAll(*opt, p, {{2.0f, -2.0f, 0.0f}});
  ExpectNear(p, {0.9f, 1.1f, 0.0f}, 1e-6f);
  StepAll(*opt, p, {{1.0f, 3.0f, 0.0f}});
  ExpectNear(p, {0.8118083f, 1.0490825f, 0.0f}, 1e-6f);
  const OptimizerState state = opt->ExportState();
  EXPECT_EQ(state.kind, "adam");
  EXPECT_EQ(state.step, 2);
  ExpectNear(state.buffers.at("m"), {1.0f, 1.0f, 0.0f}, 1e-6f);
  ExpectNear(state.buffers.at("v"), {1.0f, 3.0f, 0.0f}, 1e-6f);
}

// With lr 0.1, betas (0.5, 0.75), weight decay 0.5, p = {1, 1}, grads {2, 0}:
//   Adam (L2):  g = {2 + 0.5, 0 + 0.5}; the first step moves every coordinate with a non-zero
//               gradient by lr (m^/sqrt(v^) = sign g), so the decay is normalised away:
//               p = {0.9, 0.9}.
//   AdamW:      p *= 1 - 0.1 * 0.5 = 0.95 -> {0.95, 0.95}; then the Adam step on g = {2, 0}
//               moves only coordinate 0, by lr: p = {0.85, 0.95}.
TEST(AdamWTest, DecoupledDecayDiffersFromL2) {
  AdamOptions options{.learning_rate = 0.1f, .beta1 = 0.5f, .beta2 = 0.75f, .weight_decay = 0.5f};
  auto adam = MakeAdam(options);
  StatusOr<std::unique_ptr<Optimizer>> adamw = NewAdamW(options);
  ASSERT_TRUE(adamw.ok());
  EXPECT_EQ(adam->Name(), "adam");
  EXPECT_EQ((*adamw)->Name(), "adamw");
  Vec p_adam = {1.0f, 1.0f};
  Vec p_adamw = {1.0f, 1.0f};
  StepAll(*adam, p_adam, {{2.0f, 0.0f}});
  StepAll(**adamw, p_adamw, {{2.0f, 0.0f}});
  ExpectNear(p_adam, {0.9f, 0.9f}, 1e-6f);
  ExpectNear(p_adamw, {0.85f, 0.95f}, 1e-6f);
}

// ---------------------------------------------------------------------------------------
// Convergence on problems with a known optimum (as in ensmallen's tests).

using GradientFn = std::function<Vec(const Vec&)>;

Vec Minimise(Optimizer& opt, Vec x, const GradientFn& gradient, int steps) {
  for (int i = 0; i < steps; ++i) opt.Step(x, gradient(x));
  return x;
}

// f(x) = sum_i a_i (x_i - c_i)^2 plus, optionally, (wd / 2) |x|^2 folded in by the optimizer;
// the condition number is 16.
const Vec kA = {0.5f, 1.0f, 2.0f, 4.0f, 8.0f};
const Vec kC = {1.0f, -2.0f, 3.0f, 0.5f, -1.0f};

Vec QuadraticGradient(const Vec& x) {
  Vec g(x.size());
  for (size_t i = 0; i < x.size(); ++i) g[i] = 2.0f * kA[i] * (x[i] - kC[i]);
  return g;
}

// f(x, y) = (1 - x)^2 + 100 (y - x^2)^2, minimum at (1, 1).
Vec RosenbrockGradient(const Vec& v) {
  const float x = v[0], y = v[1];
  return {-2.0f * (1.0f - x) - 400.0f * x * (y - x * x), 200.0f * (y - x * x)};
}

TEST(SgdTest, ConvergesOnQuadratic) {
  auto opt = MakeSgd({.learning_rate = 0.05f});
  ExpectNear(Minimise(*opt, Vec(5, 0.0f), QuadraticGradient, 600), kC, 1e-4f);
}

TEST(SgdTest, MomentumAndNesterovConvergeOnQuadratic) {
  for (bool nesterov : {false, true}) {
    SCOPED_TRACE(nesterov ? "nesterov" : "heavy ball");
    auto opt = MakeSgd({.learning_rate = 0.01f, .momentum = 0.9f, .nesterov = nesterov});
    ExpectNear(Minimise(*opt, Vec(5, 0.0f), QuadraticGradient, 1000), kC, 1e-4f);
  }
}

// With L2 decay the optimum moves to x_i = 2 a_i c_i / (2 a_i + wd).
TEST(SgdTest, WeightDecayConvergesToShrunkOptimum) {
  const float wd = 0.5f;
  auto opt = MakeSgd({.learning_rate = 0.02f, .momentum = 0.5f, .weight_decay = wd});
  Vec expected(5);
  for (size_t i = 0; i < 5; ++i) expected[i] = 2 * kA[i] * kC[i] / (2 * kA[i] + wd);
  ExpectNear(Minimise(*opt, Vec(5, 0.0f), QuadraticGradient, 1000), expected, 1e-4f);
}

TEST(AdamTest, ConvergesOnQuadratic) {
  auto opt = MakeAdam({.learning_rate = 0.01f});
  ExpectNear(Minimise(*opt, Vec(5, 0.0f), QuadraticGradient, 5000), kC, 1e-4f);
}

TEST(AdamTest, ConvergesOnRosenbrock) {
  auto opt = MakeAdam({.learning_rate = 0.01f, .beta1 = 0.9f, .beta2 = 0.999f});
  ExpectNear(Minimise(*opt, {-1.2f, 1.0f}, RosenbrockGradient, 10000), {1.0f, 1.0f}, 1e-3f);
}

TEST(AdamWTest, ConvergesOnQuadraticWithoutDecay) {
  StatusOr<std::unique_ptr<Optimizer>> opt = NewAdamW({.learning_rate = 0.01f});
  ASSERT_TRUE(opt.ok());
  ExpectNear(Minimise(**opt, Vec(5, 0.0f), QuadraticGradient, 5000), kC, 1e-4f);
}

// ---------------------------------------------------------------------------------------
// State export and import.

struct Factory {
  const char* name;
  std::function<std::unique_ptr<Optimizer>()> make;
};

std::vector<Factory> Factories() {
  return {
      {"sgd", [] { return MakeSgd({.learning_rate = 0.02f}); }},
      {"sgd_nesterov",
       [] {
         return MakeSgd(
             {.learning_rate = 0.02f, .momentum = 0.9f, .nesterov = true, .weight_decay = 0.1f});
       }},
      {"adam", [] { return MakeAdam({.learning_rate = 0.05f, .weight_decay = 0.1f}); }},
      {"adamw",
       [] { return std::move(NewAdamW({.learning_rate = 0.05f, .weight_decay = 0.1f})).value(); }},
  };
}

TEST(OptimizerStateTest, ImportedStateContinuesBitIdentically) {
  for (const Factory& factory : Factories()) {
    SCOPED_TRACE(factory.name);
    auto original = factory.make();
    Vec x(5, 0.0f);
    for (int i = 0; i < 7; ++i) original->Step(x, QuadraticGradient(x));
    auto resumed = factory.make();
    ASSERT_TRUE(resumed->ImportState(original->ExportState()).ok());
    Vec y = x;
    for (int i = 0; i < 7; ++i) {
      original->Step(x, QuadraticGradient(x));
      resumed->Step(y, QuadraticGradient(y));
    }
    EXPECT_EQ(x, y);  // exact float equality
    EXPECT_EQ(resumed->ExportState(), original->ExportState());
    EXPECT_EQ(original->ExportState().step, 14);
    EXPECT_NE(x, Vec(5, 0.0f));
  }
}

TEST(OptimizerStateTest, FreshOptimizerExportsEmptyBuffers) {
  EXPECT_EQ(MakeSgd({})->ExportState(), (OptimizerState{"sgd", 0, {}}));
  EXPECT_EQ(MakeSgd({.momentum = 0.9f})->ExportState(),
            (OptimizerState{"sgd", 0, {{"momentum", {}}}}));
  EXPECT_EQ(MakeAdam({})->ExportState(), (OptimizerState{"adam", 0, {{"m", {}}, {"v", {}}}}));
}

// Each bad state is rejected with InvalidArgument and a message naming the problem; the
// optimizer's state and its next step are as if the import had not been tried.
void ExpectImportRejected(const std::function<std::unique_ptr<Optimizer>()>& make,
                          const OptimizerState& bad, const std::string& message) {
  SCOPED_TRACE(message);
  auto opt = make();
  auto twin = make();
  Vec x = {1.0f, 2.0f, 3.0f};
  Vec y = x;
  StepAll(*opt, x, {{0.5f, -1.0f, 2.0f}});
  StepAll(*twin, y, {{0.5f, -1.0f, 2.0f}});
  const OptimizerState before = opt->ExportState();
  Status status = opt->ImportState(bad);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.ToString();
  EXPECT_THAT(status.message(), HasSubstr(message));
  EXPECT_EQ(opt->ExportState(), before);
  StepAll(*opt, x, {{1.0f, 1.0f, 1.0f}});
  StepAll(*twin, y, {{1.0f, 1.0f, 1.0f}});
  EXPECT_EQ(x, y);
}

TEST(OptimizerStateTest, SgdImportErrorsLeaveOptimizerUnchanged) {
  auto make = [] { return MakeSgd({.learning_rate = 0.1f, .momentum = 0.9f}); };
  const Vec three = {1.0f, 2.0f, 3.0f};
  ExpectImportRejected(make, {"adam", 1, {{"m", three}, {"v", three}}}, "'sgd'");
  ExpectImportRejected(make, {"sgd", 1, {{"momentum", Vec(4, 1.0f)}}}, "expected 3");
  ExpectImportRejected(make, {"sgd", 1, {}}, "missing buffer 'momentum'");
  ExpectImportRejected(make, {"sgd", 1, {{"momentum", three}, {"extra", three}}},
                       "unexpected buffer 'extra'");
  ExpectImportRejected(make, {"sgd", -1, {{"momentum", three}}}, "negative step");
  ExpectImportRejected(make, {"sgd", 0, {{"momentum", three}}}, "empty at step 0");
  // Plain SGD keeps no momentum buffer.
  ExpectImportRejected([] { return MakeSgd({}); }, {"sgd", 1, {{"momentum", three}}},
                       "unexpected buffer 'momentum'");
}

TEST(OptimizerStateTest, AdamImportErrorsLeaveOptimizerUnchanged) {
  auto make = [] { return MakeAdam({.learning_rate = 0.1f}); };
  const Vec three = {1.0f, 2.0f, 3.0f};
  ExpectImportRejected(make, {"adamw", 1, {{"m", three}, {"v", three}}}, "'adam'");
  ExpectImportRejected(make, {"adam", 1, {{"m", three}, {"v", Vec(2, 1.0f)}}}, "differ");
  ExpectImportRejected(make, {"adam", 1, {{"m", Vec(4, 1.0f)}, {"v", Vec(4, 1.0f)}}}, "expected 3");
  ExpectImportRejected(make, {"adam", 1, {{"m", three}}}, "missing buffer 'v'");
}

TEST(OptimizerDeathTest, ImportFixesSizeOfFreshOptimizer) {
  auto opt = MakeAdam({});
  ASSERT_TRUE(opt->ImportState({"adam", 3, {{"m", Vec(2, 0.1f)}, {"v", Vec(2, 0.1f)}}}).ok());
  Vec x(3, 0.0f);
  EXPECT_DEATH(opt->Step(x, Vec(3, 1.0f)), "sized for 2");
}

TEST(OptimizerDeathTest, StepChecksSizes) {
  auto opt = MakeSgd({.momentum = 0.5f});
  Vec x(3, 0.0f);
  EXPECT_DEATH(opt->Step(x, Vec(2, 1.0f)), "differ in length");
  opt->Step(x, Vec(3, 1.0f));
  opt->Reset();  // keeps the size
  Vec y(4, 0.0f);
  EXPECT_DEATH(opt->Step(y, Vec(4, 1.0f)), "sized for 3");
}

// ---------------------------------------------------------------------------------------
// Factory validation.

TEST(OptimizerFactoryTest, SgdRejectsBadOptions) {
  const float nan = std::nanf("");
  const std::vector<std::pair<SgdOptions, std::string>> cases = {
      {{.learning_rate = -0.1f}, "learning_rate"},
      {{.learning_rate = nan}, "learning_rate"},
      {{.momentum = -0.5f}, "momentum"},
      {{.momentum = 1.0f}, "momentum"},
      {{.nesterov = true}, "nesterov"},
      {{.weight_decay = -1e-4f}, "weight_decay"},
  };
  for (const auto& [options, field] : cases) {
    StatusOr<std::unique_ptr<Optimizer>> opt = NewSgd(options);
    ASSERT_FALSE(opt.ok()) << field;
    EXPECT_EQ(opt.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(opt.status().message(), HasSubstr(field));
  }
  EXPECT_TRUE(NewSgd({}).ok());
  EXPECT_TRUE(NewSgd({.learning_rate = 0.0f, .momentum = 0.99f, .nesterov = true}).ok());
}

TEST(OptimizerFactoryTest, AdamRejectsBadOptions) {
  const std::vector<std::pair<AdamOptions, std::string>> cases = {
      {{.learning_rate = -1.0f}, "learning_rate"},
      {{.learning_rate = INFINITY}, "learning_rate"},
      {{.beta1 = 1.0f}, "beta1"},
      {{.beta1 = -0.1f}, "beta1"},
      {{.beta2 = 1.5f}, "beta2"},
      {{.epsilon = 0.0f}, "epsilon"},
      {{.weight_decay = -0.01f}, "weight_decay"},
  };
  for (const auto& [options, field] : cases) {
    for (bool decoupled : {false, true}) {
      StatusOr<std::unique_ptr<Optimizer>> opt = decoupled ? NewAdamW(options) : NewAdam(options);
      ASSERT_FALSE(opt.ok()) << field;
      EXPECT_EQ(opt.status().code(), StatusCode::kInvalidArgument);
      EXPECT_THAT(opt.status().message(), HasSubstr(field));
    }
  }
  EXPECT_TRUE(NewAdam({}).ok());
  EXPECT_TRUE(NewAdamW({.weight_decay = 0.01f}).ok());
}

}  // namespace
}  // namespace fedra
