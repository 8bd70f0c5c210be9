#include "fedra/privacy/secagg/shamir.h"

#include <gtest/gtest.h>

#include <numeric>

#include "fedra/core/rng.h"

namespace fedra::secagg {
namespace {

Key256 RandomSecret(Prg& prg) {
  Key256 k;
  prg.Fill(k);
  return k;
}

std::vector<uint64_t> Points(size_t n) {
  std::vector<uint64_t> xs(n);
  std::iota(xs.begin(), xs.end(), 1);
  return xs;
}

StatusOr<Key256> CombineSubset(const std::vector<ShamirShare>& shares,
                               const std::vector<size_t>& pick) {
  std::vector<ShamirShare> chosen;
  std::vector<uint64_t> xs;
  for (size_t i : pick) {
    chosen.push_back(shares[i]);
    xs.push_back(shares[i].x);
  }
  FEDRA_ASSIGN_OR_RETURN(auto coef, LagrangeAtZero(xs));
  return ShamirCombine(coef, chosen);
}

TEST(FieldTest, ArithmeticModMersenne61) {
  const uint64_t p = kShamirPrime;
  EXPECT_EQ(FieldAdd(p - 1, 2), 1u);
  EXPECT_EQ(FieldSub(1, 2), p - 1);
  EXPECT_EQ(FieldMul(p - 1, p - 1), 1u);          // (-1)^2
  EXPECT_EQ(FieldMul(uint64_t{1} << 60, 2), 1u);  // 2^61 = 1
  Prg prg(Key256{});
  for (int i = 0; i < 1000; ++i) {
    const uint64_t a = 1 + prg.UniformBelow(p - 1);
    ASSERT_EQ(FieldMul(a, FieldInverse(a)), 1u);
  }
}

TEST(ShamirTest, AnyThresholdSubsetReconstructs) {
  Prg prg(Key256{1});
  Rng pick_rng(3);
  for (size_t t : {2, 3, 7}) {
    const size_t n = 2 * t + 1;
    for (int trial = 0; trial < 20; ++trial) {
      const Key256 secret = RandomSecret(prg);
      auto shares = ShamirSplit(secret, t, Points(n), prg);
      ASSERT_TRUE(shares.ok());
      auto subset = pick_rng.SampleWithoutReplacement(n, t + trial % 2);
      auto got = CombineSubset(*shares, subset);
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      EXPECT_EQ(*got, secret);
    }
  }
}

TEST(ShamirTest, FewerThanThresholdSharesDoNotReconstruct) {
  Prg prg(Key256{2});
  int rejected_or_wrong = 0;
  for (int trial = 0; trial < 50; ++trial) {
    const Key256 secret = RandomSecret(prg);
    auto shares = ShamirSplit(secret, 4, Points(8), prg);
    ASSERT_TRUE(shares.ok());
    auto got = CombineSubset(*shares, {0, 2, 5});
    if (!got.ok() || *got != secret) ++rejected_or_wrong;
  }
  EXPECT_EQ(rejected_or_wrong, 50);
}

TEST(ShamirTest, CorruptedShareIsDetectedOrGivesAnotherSecret) {
  Prg prg(Key256{3});
  const Key256 secret = RandomSecret(prg);
  auto shares = ShamirSplit(secret, 3, Points(5), prg);
  ASSERT_TRUE(shares.ok());
  (*shares)[1].y[0] = FieldAdd((*shares)[1].y[0], 1);
  auto got = CombineSubset(*shares, {0, 1, 2});
  // Chunk 0 holds 7 bytes: a random field error exceeds 2^56 with probability 31/32.
  ASSERT_FALSE(got.ok() && *got == secret);
  if (!got.ok()) {
    EXPECT_EQ(got.status().code(), StatusCode::kDataLoss);
  }
}

TEST(ShamirTest, RejectsBadParameters) {
  Prg prg(Key256{});
  const Key256 s{};
  EXPECT_FALSE(ShamirSplit(s, 0, Points(3), prg).ok());
  EXPECT_FALSE(ShamirSplit(s, 4, Points(3), prg).ok());
  const std::vector<uint64_t> dup = {1, 2, 2};
  EXPECT_FALSE(ShamirSplit(s, 2, dup, prg).ok());
  const std::vector<uint64_t> zero = {0, 1, 2};
  EXPECT_FALSE(ShamirSplit(s, 2, zero, prg).ok());
  EXPECT_FALSE(LagrangeAtZero(dup).ok());
  EXPECT_FALSE(LagrangeAtZero(zero).ok());
  std::vector<uint64_t> coef = {1, 2};
  std::vector<ShamirShare> one(1);
  EXPECT_FALSE(ShamirCombine(coef, one).ok());
}

}  // namespace
}  // namespace fedra::secagg
