#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "fedra/fl/strategy.h"

namespace fedra {
namespace {

std::vector<ClientId> Ids(size_t n) {
  std::vector<ClientId> ids(n);
  for (size_t i = 0; i < n; ++i) ids[i] = 100 + i;
  return ids;
}

TEST(SampleClientsTest, FractionRoundsUpAndHonoursTheMinimum) {
  Rng rng(1);
  const auto ids = Ids(10);
  EXPECT_EQ(SampleClients(ids, 0.25, 1, 1, rng)->size(), 3u);  // ceil(2.5)
  EXPECT_EQ(SampleClients(ids, 0.1, 4, 1, rng)->size(), 4u);
  EXPECT_EQ(SampleClients(ids, 1.0, 1, 1, rng)->size(), 10u);
  auto chosen = *SampleClients(ids, 0.5, 1, 1, rng);
  EXPECT_TRUE(std::is_sorted(chosen.begin(), chosen.end()));
  EXPECT_EQ(std::set<ClientId>(chosen.begin(), chosen.end()).size(), 5u);
  for (ClientId c : chosen) EXPECT_TRUE(c >= 100 && c < 110);
}

TEST(SampleClientsTest, SeededAndDifferentAcrossSeeds) {
  const auto ids = Ids(100);
  Rng a(7), b(7), c(8);
  EXPECT_EQ(*SampleClients(ids, 0.1, 1, 1, a), *SampleClients(ids, 0.1, 1, 1, b));
  Rng a2(7);
  EXPECT_NE(*SampleClients(ids, 0.1, 1, 1, a2), *SampleClients(ids, 0.1, 1, 1, c));
}

TEST(SampleClientsTest, EveryClientIsEventuallyChosenUniformly) {
  const auto ids = Ids(20);
  Rng rng(3);
  std::vector<int> counts(20);
  for (int t = 0; t < 4000; ++t) {
    const std::vector<ClientId> chosen = *SampleClients(ids, 0.25, 1, 1, rng);
    for (ClientId c : chosen) counts[c - 100]++;
  }
  for (int n : counts) EXPECT_NEAR(n, 1000, 120);  // 4000 rounds x 5 of 20
}

TEST(SampleClientsTest, TooFewAvailableIsAnError) {
  Rng rng(1);
  auto s = SampleClients(Ids(3), 1.0, 5, 1, rng);
  EXPECT_EQ(s.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.status().message().find("3 clients available"), std::string::npos);
  EXPECT_FALSE(SampleClients(Ids(3), 1.0, 1, 4, rng).ok());
}

TEST(WeightedEvaluationTest, WeightsByExamples) {
  std::vector<EvaluateResult> r = {{.num_examples = 1, .loss = 1.0, .accuracy = 1.0},
                                   {.num_examples = 3, .loss = 3.0, .accuracy = 0.0}};
  EvaluateResult s = WeightedEvaluation(r);
  EXPECT_EQ(s.num_examples, 4u);
  EXPECT_DOUBLE_EQ(s.loss, 2.5);
  EXPECT_DOUBLE_EQ(s.accuracy, 0.25);
  EXPECT_EQ(WeightedEvaluation({}).num_examples, 0u);
}

}  // namespace
}  // namespace fedra
