#include "fedra/core/rng.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>

namespace fedra {
namespace {

TEST(RngTest, SameSeedSameStreamOtherSeedOtherStream) {
  Rng a(42), b(42), c(43);
  for (int i = 0; i < 100; ++i) {
    const uint64_t x = a.NextU64();
    EXPECT_EQ(x, b.NextU64());
    EXPECT_NE(x, c.NextU64());
  }
}

TEST(RngTest, SplitDependsOnlyOnKeyAndIdNotOnPosition) {
  Rng parent(7);
  Rng early = parent.Split(17);
  for (int i = 0; i < 1000; ++i) parent.NextU64();
  Rng late = parent.Split(17);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(early.NextU64(), late.NextU64());
  // Different ids, and a child versus its parent, give different streams.
  std::set<uint64_t> firsts;
  for (uint64_t id = 0; id < 1000; ++id) firsts.insert(Rng(7).Split(id).NextU64());
  EXPECT_EQ(firsts.size(), 1000u);
  EXPECT_NE(Rng(7).Split(0).NextU64(), Rng(7).NextU64());
}

TEST(RngTest, UniformMomentsAndRange) {
  Rng rng(1);
  double sum = 0, sq = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    const double u = rng.Uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
    sq += u * u;
  }
  EXPECT_NEAR(sum / n, 0.5, 0.005);
  EXPECT_NEAR(sq / n - (sum / n) * (sum / n), 1.0 / 12, 0.002);
}

TEST(RngTest, UniformIntIsUnbiasedAcrossBuckets) {
  Rng rng(2);
  const uint64_t k = 7;
  std::vector<int> counts(k);
  const int n = 70000;
  for (int i = 0; i < n; ++i) counts[rng.UniformInt(k)]++;
  // Chi-square with 6 degrees of freedom; 22.46 is the 0.999 quantile.
  double chi2 = 0;
  for (int c : counts) chi2 += (c - n / 7.0) * (c - n / 7.0) / (n / 7.0);
  EXPECT_LT(chi2, 22.46);
}

TEST(RngTest, NormalMoments) {
  Rng rng(3);
  const int n = 200000;
  double sum = 0, sq = 0, fourth = 0;
  for (int i = 0; i < n; ++i) {
    const double x = rng.Normal(2.0, 3.0);
    sum += x;
    sq += (x - 2) * (x - 2);
    fourth += std::pow((x - 2) / 3, 4);
  }
  EXPECT_NEAR(sum / n, 2.0, 0.03);
  EXPECT_NEAR(std::sqrt(sq / n), 3.0, 0.03);
  EXPECT_NEAR(fourth / n, 3.0, 0.1);  // kurtosis of a Gaussian
}

TEST(RngTest, GammaMeanAndVarianceEqualShape) {
  for (double shape : {0.3, 1.0, 4.5}) {
    Rng rng(4);
    const int n = 100000;
    double sum = 0, sq = 0;
    for (int i = 0; i < n; ++i) {
      const double g = rng.Gamma(shape);
      ASSERT_GE(g, 0.0);
      sum += g;
      sq += g * g;
    }
    const double mean = sum / n;
    EXPECT_NEAR(mean, shape, 0.03 * shape + 0.01) << shape;
    EXPECT_NEAR(sq / n - mean * mean, shape, 0.06 * shape + 0.01) << shape;
  }
}

TEST(RngTest, DirichletSumsToOneAndConcentrates) {
  Rng rng(5);
  auto spread = [&](double alpha) {
    double max_sum = 0;
    for (int t = 0; t < 500; ++t) {
      auto p = rng.Dirichlet(alpha, 10);
      EXPECT_NEAR(std::accumulate(p.begin(), p.end(), 0.0), 1.0, 1e-12);
      max_sum += *std::max_element(p.begin(), p.end());
    }
    return max_sum / 500;
  };
  EXPECT_GT(spread(0.1), 0.6);     // mass concentrates on few components
  EXPECT_LT(spread(100.0), 0.15);  // close to uniform 0.1
}

TEST(RngTest, ShuffleIsAPermutationAndSampleIsDistinct) {
  Rng rng(6);
  std::vector<int> v(100);
  std::iota(v.begin(), v.end(), 0);
  std::vector<int> w = v;
  rng.Shuffle(w);
  EXPECT_NE(v, w);
  std::sort(w.begin(), w.end());
  EXPECT_EQ(v, w);
  auto s = rng.SampleWithoutReplacement(50, 20);
  EXPECT_EQ(s.size(), 20u);
  EXPECT_EQ(std::set<size_t>(s.begin(), s.end()).size(), 20u);
  for (size_t x : s) EXPECT_LT(x, 50u);
}

}  // namespace
}  // namespace fedra
