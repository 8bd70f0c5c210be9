#include "fedra/privacy/secagg/neighbour_graph.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace fedra::secagg {
namespace {

SecAggConfig Config(uint32_t n, uint32_t k, uint8_t seed) {
  SecAggConfig c;
  c.num_clients = n;
  c.neighbours = k;
  c.vector_length = 1;
  c.graph_seed.fill(seed);
  auto r = ResolveConfig(c);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return *r;
}

TEST(NeighbourGraphTest, SecAggPlusGraphIsKRegularAndSymmetric) {
  const NeighbourGraph g(Config(101, 10, 1));
  for (uint32_t u = 0; u < 101; ++u) {
    auto nb = g.Neighbours(u);
    ASSERT_EQ(nb.size(), 10u);
    EXPECT_TRUE(std::is_sorted(nb.begin(), nb.end()));
    EXPECT_EQ(std::adjacent_find(nb.begin(), nb.end()), nb.end());
    for (uint32_t v : nb) {
      EXPECT_NE(v, u);
      EXPECT_TRUE(g.Adjacent(u, v));
      auto back = g.Neighbours(v);
      EXPECT_TRUE(std::binary_search(back.begin(), back.end(), u));
    }
    size_t adjacent = 0;
    for (uint32_t v = 0; v < 101; ++v) adjacent += g.Adjacent(u, v) ? 1 : 0;
    EXPECT_EQ(adjacent, 10u);
  }
}

TEST(NeighbourGraphTest, GraphIsAFunctionOfThePublicSeed) {
  const NeighbourGraph a(Config(50, 6, 1)), b(Config(50, 6, 1)), c(Config(50, 6, 2));
  bool differs = false;
  for (uint32_t u = 0; u < 50; ++u) {
    EXPECT_EQ(a.Neighbours(u), b.Neighbours(u));
    differs |= a.Neighbours(u) != c.Neighbours(u);
  }
  EXPECT_TRUE(differs);
}

TEST(NeighbourGraphTest, ClassicModeAndLargeKAreTheCompleteGraph) {
  for (uint32_t k : {0u, 8u}) {  // k >= n - 1 becomes the complete graph
    const NeighbourGraph g(Config(9, k, 0));
    EXPECT_EQ(g.degree(), 8u);
    EXPECT_EQ(g.Neighbours(4), (std::vector<uint32_t>{0, 1, 2, 3, 5, 6, 7, 8}));
    EXPECT_FALSE(g.Adjacent(4, 4));
  }
}

TEST(SecAggConfigTest, DefaultsAndValidation) {
  EXPECT_EQ(DefaultNeighbours(10'000), 42u);
  EXPECT_EQ(DefaultNeighbours(10), 0u);  // 3 * 4 = 12 >= 9: complete graph
  SecAggConfig c;
  c.num_clients = 100;
  c.vector_length = 4;
  auto full = ResolveConfig(c);
  ASSERT_TRUE(full.ok());
  EXPECT_EQ(full->threshold, 51u);
  EXPECT_EQ(full->min_survivors, 51u);
  c.neighbours = 20;
  auto plus = ResolveConfig(c);
  ASSERT_TRUE(plus.ok());
  EXPECT_EQ(plus->threshold, 11u);  // > (k + 1) / 2
  c.neighbours = 7;
  EXPECT_EQ(ResolveConfig(c).status().code(), StatusCode::kInvalidArgument);
  c.neighbours = 20;
  c.threshold = 10;  // 2 * 10 <= 21 holders
  EXPECT_EQ(ResolveConfig(c).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(ResolveConfig(c, /*allow_low_threshold=*/true).ok());
  c.threshold = 22;
  EXPECT_FALSE(ResolveConfig(c, true).ok());
  c = {};
  c.num_clients = 1;
  c.vector_length = 1;
  EXPECT_FALSE(ResolveConfig(c).ok());
}

}  // namespace
}  // namespace fedra::secagg
