#include "fedra/fl/server_optimizer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "testing/fl_fixtures.h"

namespace fedra {
namespace {

using ::testing::ElementsAre;
using ::testing::FloatNear;
using ::testing::HasSubstr;
using testing::Values;
using testing::Vec;

std::unique_ptr<ServerOptimizer> Sgd(float lr, float momentum) {
  auto opt = NewServerSgd(lr, momentum);
  EXPECT_TRUE(opt.ok()) << opt.status().ToString();
  return std::move(opt).value();
}

std::unique_ptr<ServerOptimizer> Adaptive(AdaptiveKind kind, const AdaptiveServerOptions& o) {
  auto opt = NewAdaptiveServerOptimizer(kind, o);
  EXPECT_TRUE(opt.ok()) << opt.status().ToString();
  return std::move(opt).value();
}

// Small numbers chosen so the square roots come out whole.
constexpr AdaptiveServerOptions kHandOptions{.eta = 1.2f, .beta1 = 0.5f, .beta2 = 0.5f, .tau = 1};

TEST(ServerSgdTest, PlainIsFedAvgAndKeepsNoState) {
  auto opt = Sgd(1.0f, 0.0f);
  EXPECT_EQ(opt->Name(), "sgd");
  Parameters x = Vec({1, 2});
  ASSERT_TRUE(opt->Apply(Vec({0.5f, -3}), x).ok());
  EXPECT_THAT(Values(x), ElementsAre(1.5f, -1.0f));
  EXPECT_TRUE(opt->ExportState().vectors.empty());
}

TEST(ServerSgdTest, FedAvgMTwoStepsByHand) {
  // lr = 0.5, momentum = 0.5, x0 = [1, 2].
  auto opt = Sgd(0.5f, 0.5f);
  EXPECT_EQ(opt->Name(), "sgd_momentum");
  Parameters x = Vec({1, 2});
  // d1 = [2, -4]: v = [2, -4]; x = [1 + 0.5*2, 2 + 0.5*(-4)] = [2, 0].
  ASSERT_TRUE(opt->Apply(Vec({2, -4}), x).ok());
  EXPECT_THAT(Values(x), ElementsAre(FloatNear(2, 1e-6), FloatNear(0, 1e-6)));
  // d2 = [2, 0]: v = 0.5*[2, -4] + [2, 0] = [3, -2]; x = [2 + 1.5, 0 - 1] = [3.5, -1].
  ASSERT_TRUE(opt->Apply(Vec({2, 0}), x).ok());
  EXPECT_THAT(Values(x), ElementsAre(FloatNear(3.5f, 1e-6), FloatNear(-1, 1e-6)));
  EXPECT_THAT(opt->ExportState().vectors.at("velocity"),
              ElementsAre(FloatNear(3, 1e-6), FloatNear(-2, 1e-6)));
}

TEST(AdaptiveServerTest, FedAdamOneAndTwoStepsByHand) {
  // eta = 1.2, beta1 = beta2 = 0.5, tau = 1: m0 = 0, v0 = tau^2 = 1, x0 = [0, 0].
  auto opt = Adaptive(AdaptiveKind::kAdam, kHandOptions);
  EXPECT_EQ(opt->Name(), "adam");
  Parameters x = Vec({0, 0});
  // d1 = [7, 1]. m = 0.5*d = [3.5, 0.5]; v = 0.5*1 + 0.5*d^2 = [25, 1];
  // x += 1.2 * m / (sqrt(v) + 1) = [1.2*3.5/6, 1.2*0.5/2] = [0.7, 0.3].
  ASSERT_TRUE(opt->Apply(Vec({7, 1}), x).ok());
  EXPECT_THAT(Values(x), ElementsAre(FloatNear(0.7f, 1e-6), FloatNear(0.3f, 1e-6)));
  // d2 = [5, -1]. m = [1.75 + 2.5, 0.25 - 0.5] = [4.25, -0.25];
  // v = [12.5 + 12.5, 0.5 + 0.5] = [25, 1];
  // x += [1.2*4.25/6, 1.2*(-0.25)/2] = [0.85, -0.15] -> [1.55, 0.15].
  ASSERT_TRUE(opt->Apply(Vec({5, -1}), x).ok());
  EXPECT_THAT(Values(x), ElementsAre(FloatNear(1.55f, 1e-6), FloatNear(0.15f, 1e-6)));
  StrategyState s = opt->ExportState();
  EXPECT_THAT(s.vectors.at("m"), ElementsAre(FloatNear(4.25f, 1e-6), FloatNear(-0.25f, 1e-6)));
  EXPECT_THAT(s.vectors.at("v"), ElementsAre(FloatNear(25, 1e-5), FloatNear(1, 1e-6)));
}

TEST(AdaptiveServerTest, FedYogiOneAndTwoStepsByHand) {
  // Same hyper-parameters as the Adam test; v0 = 1, x0 = [0, 0].
  auto opt = Adaptive(AdaptiveKind::kYogi, kHandOptions);
  EXPECT_EQ(opt->Name(), "yogi");
  Parameters x = Vec({0, 0});
  // d1 = [4, 1]. m = [2, 0.5].
  // v[0] = 1 - 0.5*16*sign(1 - 16) = 1 + 8 = 9;  v[1] = 1 - 0.5*1*sign(0) = 1.
  // x += [1.2*2/(3+1), 1.2*0.5/(1+1)] = [0.6, 0.3].
  ASSERT_TRUE(opt->Apply(Vec({4, 1}), x).ok());
  EXPECT_THAT(Values(x), ElementsAre(FloatNear(0.6f, 1e-6), FloatNear(0.3f, 1e-6)));
  // d2 = [12, 0.5]. m = [1 + 6, 0.25 + 0.25] = [7, 0.5].
  // v[0] = 9 - 0.5*144*sign(9 - 144) = 9 + 72 = 81;
  // v[1] = 1 - 0.5*0.25*sign(1 - 0.25) = 0.875 (Yogi shrinks v where Adam would not).
  // x[0] += 1.2*7/(9+1) = 0.84 -> 1.44;  x[1] += 0.6/(sqrt(0.875)+1) = 0.310011 -> 0.610011.
  ASSERT_TRUE(opt->Apply(Vec({12, 0.5f}), x).ok());
  EXPECT_THAT(Values(x), ElementsAre(FloatNear(1.44f, 1e-5), FloatNear(0.610011f, 1e-5)));
  EXPECT_THAT(opt->ExportState().vectors.at("v"),
              ElementsAre(FloatNear(81, 1e-4), FloatNear(0.875f, 1e-6)));
}

TEST(AdaptiveServerTest, FedAdagradOneAndTwoStepsByHand) {
  // eta = 1.2, beta1 = 0.5, tau = 3: v0 = 9, x0 = [0, 0].
  AdaptiveServerOptions o = kHandOptions;
  o.tau = 3;
  auto opt = Adaptive(AdaptiveKind::kAdagrad, o);
  EXPECT_EQ(opt->Name(), "adagrad");
  Parameters x = Vec({0, 0});
  // d1 = [4, 0]. m = [2, 0]; v = 9 + d^2 = [25, 9]; x += [1.2*2/(5+3), 0] = [0.3, 0].
  ASSERT_TRUE(opt->Apply(Vec({4, 0}), x).ok());
  EXPECT_THAT(Values(x), ElementsAre(FloatNear(0.3f, 1e-6), FloatNear(0, 1e-6)));
  // d2 = [12, 4]. m = [1 + 6, 0 + 2] = [7, 2]; v = [25 + 144, 9 + 16] = [169, 25];
  // x += [1.2*7/(13+3), 1.2*2/(5+3)] = [0.525, 0.3] -> [0.825, 0.3].
  ASSERT_TRUE(opt->Apply(Vec({12, 4}), x).ok());
  EXPECT_THAT(Values(x), ElementsAre(FloatNear(0.825f, 1e-6), FloatNear(0.3f, 1e-6)));
}

struct NamedFactory {
  std::string name;
  std::function<std::unique_ptr<ServerOptimizer>()> make;
};

std::vector<NamedFactory> AllOptimizers(const AdaptiveServerOptions& o) {
  return {
      {"sgd", [] { return Sgd(1.0f, 0.0f); }},
      {"fedavgm", [] { return Sgd(1.0f, 0.9f); }},
      {"adam", [o] { return Adaptive(AdaptiveKind::kAdam, o); }},
      {"yogi", [o] { return Adaptive(AdaptiveKind::kYogi, o); }},
      {"adagrad", [o] { return Adaptive(AdaptiveKind::kAdagrad, o); }},
  };
}

TEST(ServerOptimizerTest, ExportImportContinuesBitIdentically) {
  for (const NamedFactory& f : AllOptimizers(kHandOptions)) {
    SCOPED_TRACE(f.name);
    auto original = f.make();
    Parameters x = Vec({0.25f, -1, 3});
    ASSERT_TRUE(original->Apply(Vec({0.1f, 0.7f, -2}), x).ok());
    ASSERT_TRUE(original->Apply(Vec({-0.3f, 0.2f, 5}), x).ok());

    auto restored = f.make();
    ASSERT_TRUE(restored->ImportState(original->ExportState()).ok());
    Parameters x_original = x, x_restored = x;
    const Parameters d3 = Vec({1.5f, -0.05f, 0.4f});
    ASSERT_TRUE(original->Apply(d3, x_original).ok());
    ASSERT_TRUE(restored->Apply(d3, x_restored).ok());
    EXPECT_EQ(Values(x_original), Values(x_restored));  // exact float equality
    EXPECT_EQ(original->ExportState().vectors, restored->ExportState().vectors);
  }
}

TEST(ServerOptimizerTest, ImportRejectsMalformedStateAndKeepsOldState) {
  auto adam = Adaptive(AdaptiveKind::kAdam, kHandOptions);
  auto reference = Adaptive(AdaptiveKind::kAdam, kHandOptions);
  Parameters x = Vec({1, 2}), x_ref = Vec({1, 2});
  ASSERT_TRUE(adam->Apply(Vec({7, 1}), x).ok());
  ASSERT_TRUE(reference->Apply(Vec({7, 1}), x_ref).ok());

  StrategyState missing_v{{{"m", {1, 2}}}, {}};
  StrategyState extra{{{"m", {1, 2}}, {"v", {1, 1}}, {"w", {0}}}, {}};
  StrategyState sizes_differ{{{"m", {1, 2}}, {"v", {1}}}, {}};
  for (const StrategyState* bad : {&missing_v, &extra, &sizes_differ}) {
    Status s = adam->ImportState(*bad);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  }
  EXPECT_THAT(adam->ImportState(missing_v).message(), HasSubstr("'v'"));
  ASSERT_TRUE(adam->Apply(Vec({5, -1}), x).ok());
  ASSERT_TRUE(reference->Apply(Vec({5, -1}), x_ref).ok());
  EXPECT_EQ(Values(x), Values(x_ref));

  auto plain = Sgd(1.0f, 0.0f);
  EXPECT_EQ(plain->ImportState({{{"velocity", {1}}}, {}}).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(plain->ImportState({}).ok());
  auto momentum = Sgd(1.0f, 0.5f);
  EXPECT_EQ(momentum->ImportState({}).code(), StatusCode::kInvalidArgument);
}

TEST(ServerOptimizerTest, FactoriesRejectBadHyperParameters) {
  EXPECT_EQ(NewServerSgd(0.0f, 0.0f).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(NewServerSgd(NAN, 0.0f).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(NewServerSgd(1.0f, 1.0f).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(NewServerSgd(1.0f, -0.1f).status().code(), StatusCode::kInvalidArgument);
  const AdaptiveServerOptions bad[] = {{.eta = 0}, {.beta1 = 1}, {.beta2 = -0.5f}, {.tau = 0}};
  for (const AdaptiveServerOptions& o : bad) {
    EXPECT_EQ(NewAdaptiveServerOptimizer(AdaptiveKind::kAdam, o).status().code(),
              StatusCode::kInvalidArgument);
  }
}

// Known optimum (ensmallen style): for f(x) = 0.5 ||x - x*||^2 a client that takes one full
// gradient step with learning rate 1 returns exactly delta = -(x - x*) = x* - x. Every server
// optimizer fed that update must drive x to x*.
TEST(ServerOptimizerTest, ConvergesToQuadraticOptimum) {
  const AdaptiveServerOptions o{.eta = 0.5f, .beta1 = 0.9f, .beta2 = 0.99f, .tau = 0.5f};
  const Parameters optimum = Vec({0.5f, 1, -1});
  for (const NamedFactory& f : AllOptimizers(o)) {
    SCOPED_TRACE(f.name);
    auto opt = f.make();
    Parameters x = Vec({1, -2, 3});
    for (int step = 0; step < 1000; ++step) {
      Parameters delta = optimum;
      delta.SubInPlace(x);
      ASSERT_TRUE(opt->Apply(delta, x).ok());
    }
    EXPECT_THAT(Values(x),
                ElementsAre(FloatNear(0.5f, 1e-4), FloatNear(1, 1e-4), FloatNear(-1, 1e-4)));
  }
}

}  // namespace
}  // namespace fedra

namespace fedra {
namespace {

// A checkpoint of another model: the state imports, but applying it is an error, not a crash,
// and the global model is left alone.
TEST(ServerOptimizerTest, StateOfAnotherSizeIsAnErrorOnApply) {
  auto adam = *NewAdaptiveServerOptimizer(AdaptiveKind::kAdam, {});
  ASSERT_TRUE(adam->ImportState({{{"m", {0, 0, 0}}, {"v", {1, 1, 1}}}, {}}).ok());
  Parameters x;
  x.Add("w", {2});
  x.data()[0] = 5;
  Parameters delta = Parameters::ZerosLike(x);
  Status s = adam->Apply(delta, x);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("3 values"), std::string::npos) << s.message();
  EXPECT_EQ(x.data()[0], 5.0f);
  auto momentum = *NewServerSgd(1.0f, 0.9f);
  ASSERT_TRUE(momentum->ImportState({{{"velocity", {1, 2, 3}}}, {}}).ok());
  EXPECT_FALSE(momentum->Apply(delta, x).ok());
}

}  // namespace
}  // namespace fedra
