#include "fedra/fl/scaffold.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <memory>
#include <numeric>
#include <vector>

#include "testing/fl_fixtures.h"

namespace fedra {
namespace {

using testing::Aggregate;
using ::testing::ElementsAre;
using ::testing::FloatNear;
using ::testing::HasSubstr;
using testing::MakeFitResult;
using testing::Values;
using testing::Vec;

// A result carrying `control_delta` as its "control_delta" extra (none when empty).
FitResult Result(ClientId client, std::initializer_list<float> update,
                 std::initializer_list<float> control_delta, size_t num_examples = 10) {
  FitResult r = MakeFitResult(client, update, num_examples);
  if (control_delta.size() > 0) r.extras["control_delta"] = Vec(control_delta);
  return r;
}

std::vector<ClientId> Ids(size_t n) {
  std::vector<ClientId> ids(n);
  std::iota(ids.begin(), ids.end(), ClientId{1});
  return ids;
}

std::unique_ptr<Strategy> MakeScaffold(const ScaffoldOptions& o) {
  auto s = NewScaffold(o);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return std::move(s).value();
}

// The control broadcast by a fresh ConfigureFit over `num_available` clients.
std::vector<float> BroadcastControl(Strategy& s, const Parameters& global, size_t num_available) {
  Rng rng(1);
  auto plan = s.ConfigureFit(1, global, Ids(num_available), rng);
  EXPECT_TRUE(plan.ok()) << plan.status().ToString();
  if (!plan.ok() || !plan->broadcast.contains("control")) return {};
  return Values(plan->broadcast.at("control"));
}

TEST(ScaffoldTest, BroadcastsZeroControlAndAsksForScaffold) {
  ScaffoldOptions o;
  o.base.fit.epochs = 4;
  auto s = MakeScaffold(o);
  EXPECT_EQ(s->Name(), "scaffold");
  EXPECT_EQ(s->mode(), AggregationMode::kWeightedSum);
  Parameters global;
  global.Add("a", {2});
  global.Add("b", {1, 1});
  Rng rng(3);
  auto plan = s->ConfigureFit(1, global, Ids(3), rng);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  ASSERT_EQ(plan->tasks.size(), 3u);
  for (const FitTask& t : plan->tasks) {
    EXPECT_TRUE(t.config.scaffold);
    EXPECT_EQ(t.config.epochs, 4);
  }
  ASSERT_TRUE(plan->broadcast.contains("control"));
  const Parameters& control = plan->broadcast.at("control");
  EXPECT_TRUE(control.SameLayout(global));
  EXPECT_THAT(Values(control), ElementsAre(0, 0, 0));
}

TEST(ScaffoldTest, ControlVariatesFollowThePaperOverTwoRounds) {
  // N = 4 clients, server learning rate eta_g = 0.5, x0 = [0, 0], c0 = [0, 0].
  auto s = MakeScaffold({.server_learning_rate = 0.5f, .num_total_clients = 4});
  EXPECT_THAT(BroadcastControl(*s, Vec({0, 0}), 4), ElementsAre(0, 0));
  // Round 1, |S| = 2 (unweighted, whatever num_examples says):
  //   x1 = x0 + 0.5 * ([2, 0] + [4, 2])/2 = [1.5, 0.5]
  //   c1 = c0 + (2/4) * ([1, 1] + [3, -1])/2 = [1, 0]
  auto x1 =
      Aggregate(*s, Vec({0, 0}), {Result(1, {2, 0}, {1, 1}, 5), Result(2, {4, 2}, {3, -1}, 100)});
  ASSERT_TRUE(x1.ok()) << x1.status().ToString();
  EXPECT_THAT(Values(*x1), ElementsAre(FloatNear(1.5f, 1e-6), FloatNear(0.5f, 1e-6)));
  EXPECT_THAT(BroadcastControl(*s, *x1, 4), ElementsAre(FloatNear(1, 1e-6), FloatNear(0, 1e-6)));
  // Round 2, |S| = 3:
  //   x2 = x1 + 0.5 * ([1, 1] + [1, 1] + [4, -2])/3 = [1.5, 0.5] + 0.5 * [2, 0] = [2.5, 0.5]
  //   c2 = c1 + (3/4) * ([4, 0] + [0, 4] + [2, 2])/3 = [1, 0] + [1.5, 1.5] = [2.5, 1.5]
  auto x2 = Aggregate(
      *s, *x1, {Result(1, {1, 1}, {4, 0}), Result(2, {1, 1}, {0, 4}), Result(3, {4, -2}, {2, 2})});
  ASSERT_TRUE(x2.ok()) << x2.status().ToString();
  EXPECT_THAT(Values(*x2), ElementsAre(FloatNear(2.5f, 1e-6), FloatNear(0.5f, 1e-6)));
  EXPECT_THAT(BroadcastControl(*s, *x2, 4),
              ElementsAre(FloatNear(2.5f, 1e-6), FloatNear(1.5f, 1e-6)));
}

TEST(ScaffoldTest, DefaultNIsTheNumberOfAvailableClients) {
  auto s = MakeScaffold({});
  // Without ConfigureFit and num_total_clients, N is unknown.
  EXPECT_EQ(Aggregate(*s, Vec({0}), {Result(1, {2}, {3})}).status().code(),
            StatusCode::kFailedPrecondition);
  // 8 available: x = 0 + 1 * (2 + 4)/2 = 3;  c = 0 + (3 + 5)/8 = 1.
  BroadcastControl(*s, Vec({0}), 8);
  auto x = Aggregate(*s, Vec({0}), {Result(1, {2}, {3}), Result(2, {4}, {5})});
  ASSERT_TRUE(x.ok()) << x.status().ToString();
  EXPECT_THAT(Values(*x), ElementsAre(FloatNear(3, 1e-6)));
  EXPECT_THAT(BroadcastControl(*s, *x, 8), ElementsAre(FloatNear(1, 1e-6)));
}

TEST(ScaffoldTest, ExportImportRestoresControlAndN) {
  auto s = MakeScaffold({});
  BroadcastControl(*s, Vec({0, 0}), 4);
  // c = [2 + 2, 6 - 2]/4 = [1, 1].
  ASSERT_TRUE(
      Aggregate(*s, Vec({0, 0}), {Result(1, {0, 0}, {2, 6}), Result(2, {0, 0}, {2, -2})}).ok());
  StrategyState state = s->ExportState();
  EXPECT_THAT(state.vectors.at("control"), ElementsAre(FloatNear(1, 1e-6), FloatNear(1, 1e-6)));
  EXPECT_EQ(state.scalars.at("num_clients"), 4);

  // The restored strategy knows N = 4 without a ConfigureFit: c = [1, 1] + [4, 0]/4 = [2, 1].
  auto restored = MakeScaffold({});
  ASSERT_TRUE(restored->ImportState(state).ok());
  ASSERT_TRUE(Aggregate(*restored, Vec({0, 0}), {Result(1, {0, 0}, {4, 0})}).ok());
  EXPECT_THAT(restored->ExportState().vectors.at("control"),
              ElementsAre(FloatNear(2, 1e-6), FloatNear(1, 1e-6)));
}

TEST(ScaffoldTest, ImportRejectsMalformedState) {
  auto s = MakeScaffold({});
  const StrategyState bad[] = {
      {{}, {{"num_clients", 4}}},                                        // no control
      {{{"control", {1}}, {"extra", {1}}}, {{"num_clients", 4}}},        // unexpected vector
      {{{"control", {1}}}, {}},                                          // no N
      {{{"control", {1}}}, {{"num_clients", -1}}},                       // negative N
      {{{"control", {1}}}, {{"num_clients", 2.5}}},                      // fractional N
      {{{"control", {static_cast<float>(NAN)}}}, {{"num_clients", 4}}},  // non-finite c
  };
  for (const StrategyState& state : bad) {
    EXPECT_EQ(s->ImportState(state).code(), StatusCode::kInvalidArgument);
  }
  // A control that does not fit the model is reported when it is used.
  ASSERT_TRUE(s->ImportState({{{"control", {1, 2, 3}}}, {{"num_clients", 4}}}).ok());
  Rng rng(1);
  EXPECT_EQ(s->ConfigureFit(1, Vec({0, 0}), Ids(4), rng).status().code(),
            StatusCode::kFailedPrecondition);
}

TEST(ScaffoldTest, MissingControlDeltaIsAnErrorNotACrash) {
  auto s = MakeScaffold({.num_total_clients = 4});
  auto none = Aggregate(*s, Vec({0}), {Result(1, {2}, {}), Result(2, {4}, {})});
  EXPECT_EQ(none.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(none.status().message(), HasSubstr("control_delta"));
  EXPECT_THAT(none.status().message(), HasSubstr("2 rejected"));

  // Results without a usable control delta are left out of both means:
  // x = 0 + (2)/1 = 2, c = 0 + 4/4 = 1.
  FitResult wrong_layout = Result(3, {100}, {});
  wrong_layout.extras["control_delta"] = Vec({1, 1});
  auto x = Aggregate(*s, Vec({0}), {Result(1, {2}, {4}), Result(2, {100}, {}), wrong_layout});
  ASSERT_TRUE(x.ok()) << x.status().ToString();
  EXPECT_THAT(Values(*x), ElementsAre(FloatNear(2, 1e-6)));
  EXPECT_THAT(s->ExportState().vectors.at("control"), ElementsAre(FloatNear(1, 1e-6)));
}

TEST(ScaffoldTest, RejectsInconsistentSettings) {
  auto s = MakeScaffold({.num_total_clients = 3});
  Rng rng(1);
  EXPECT_EQ(s->ConfigureFit(1, Vec({0}), Ids(5), rng).status().code(),
            StatusCode::kFailedPrecondition);
  // More results than N = 3.
  EXPECT_EQ(Aggregate(*s, Vec({0}),
                      {Result(1, {1}, {1}), Result(2, {1}, {1}), Result(3, {1}, {1}),
                       Result(4, {1}, {1})})
                .status()
                .code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(NewScaffold({.server_learning_rate = 0}).status().code(), StatusCode::kInvalidArgument);
  ScaffoldOptions bad_base;
  bad_base.base.sampling.fraction_evaluate = 2;
  EXPECT_EQ(NewScaffold(bad_base).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace fedra
