// Property tests of robust Shamir reconstruction: for random secrets, thresholds and share
// counts, up to floor((k - t) / 2) wrong shares are corrected and named, more are refused
// (random corruption never lands on another polynomial), and k == t is plain interpolation.
#include "fedra/privacy/secagg/shamir_decoder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <set>

namespace fedra::secagg {
namespace {

Key256 Secret(Prg& prg) {
  Key256 k;
  prg.Fill(k);
  return k;
}

// Shares of a random secret at x = 1..k, plus `wrong` shares corrupted: a random chunk of
// each (every chunk when `every_chunk`) gets a random nonzero offset (or +1 when `plus_one`).
// Decoding works chunk by chunk, so the correction bound holds per chunk.
struct Case {
  Key256 secret;
  std::vector<ShamirShare> shares;
  std::set<uint64_t> corrupted;
};
Case MakeCase(Prg& prg, size_t k, size_t t, size_t wrong, bool plus_one = false,
              bool every_chunk = false) {
  Case c{Secret(prg), {}, {}};
  std::vector<uint64_t> xs(k);
  std::iota(xs.begin(), xs.end(), 1);
  c.shares = *ShamirSplit(c.secret, t, xs, prg);
  std::vector<size_t> order(k);
  std::iota(order.begin(), order.end(), 0);
  for (size_t i = 0; i < wrong; ++i) {  // partial Fisher-Yates: `wrong` distinct holders
    std::swap(order[i], order[i + prg.UniformBelow(k - i)]);
    ShamirShare& s = c.shares[order[i]];
    const size_t pick = prg.UniformBelow(kShamirChunks);
    for (size_t chunk = 0; chunk < kShamirChunks; ++chunk) {
      if (!every_chunk && chunk != pick) continue;
      const uint64_t delta = plus_one ? 1 : 1 + prg.UniformBelow(kShamirPrime - 1);
      s.y[chunk] = FieldAdd(s.y[chunk], delta);
    }
    c.corrupted.insert(s.x);
  }
  return c;
}

ShamirDecoder DecoderFor(size_t k, size_t t) {
  std::vector<uint64_t> xs(k);
  std::iota(xs.begin(), xs.end(), 1);
  auto d = ShamirDecoder::Create(xs, t);
  EXPECT_TRUE(d.ok()) << d.status().ToString();
  return std::move(*d);
}

TEST(ShamirDecoderTest, CorrectsUpToHalfTheRedundancyAndNamesTheWrongShares) {
  Prg prg(Key256{1});
  for (size_t t : {1, 2, 3, 5, 8}) {
    for (size_t extra : {1, 2, 3, 4, 7}) {
      const size_t k = t + extra;
      const ShamirDecoder decoder = DecoderFor(k, t);
      ASSERT_EQ(decoder.correctable(), extra / 2);
      for (size_t wrong = 0; wrong <= extra / 2; ++wrong) {
        for (int trial = 0; trial < 4; ++trial) {
          Case c = MakeCase(prg, k, t, wrong, trial % 2 == 0, trial >= 2);
          auto got = decoder.Decode(c.shares);
          ASSERT_TRUE(got.ok()) << "k " << k << " t " << t << " wrong " << wrong << ": "
                                << got.status().ToString();
          EXPECT_EQ(got->secret, c.secret) << "k " << k << " t " << t << " wrong " << wrong;
          EXPECT_EQ(std::set<uint64_t>(got->wrong.begin(), got->wrong.end()), c.corrupted);
        }
      }
    }
  }
}

TEST(ShamirDecoderTest, MoreWrongSharesThanItCanCorrectAreRefusedNotMisdecoded) {
  Prg prg(Key256{2});
  for (size_t t : {2, 3, 6}) {
    for (size_t extra : {1, 2, 4, 6}) {
      const size_t k = t + extra;
      const ShamirDecoder decoder = DecoderFor(k, t);
      // Up to k - t wrong shares are always detected; random ones beyond e are never on
      // another polynomial of degree < t (probability ~ k^2 / p).
      for (size_t wrong = extra / 2 + 1; wrong <= extra; ++wrong) {
        Case c = MakeCase(prg, k, t, wrong, false, /*every_chunk=*/true);
        auto got = decoder.Decode(c.shares);
        ASSERT_FALSE(got.ok()) << "k " << k << " t " << t << " wrong " << wrong;
        EXPECT_EQ(got.status().code(), StatusCode::kDataLoss);
        EXPECT_NE(got.status().message().find("disagree"), std::string::npos)
            << got.status().ToString();
      }
    }
  }
}

TEST(ShamirDecoderTest, WithoutRedundancyItIsPlainInterpolation) {
  Prg prg(Key256{3});
  const ShamirDecoder decoder = DecoderFor(4, 4);
  EXPECT_EQ(decoder.correctable(), 0u);
  Case c = MakeCase(prg, 4, 4, 0);
  auto got = decoder.Decode(c.shares);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->secret, c.secret);
  // A wrong share cannot be seen: the secret comes out different (callers check it).
  Case bad = MakeCase(prg, 4, 4, 1);
  auto other = decoder.Decode(bad.shares);
  EXPECT_TRUE(!other.ok() || other->secret != bad.secret);
}

TEST(ShamirDecoderTest, SharesOfAnySubsetOfHoldersDecode) {
  Prg prg(Key256{4});
  const Key256 secret = Secret(prg);
  std::vector<uint64_t> all = {3, 9, 17, 21, 40, 41, 77};
  auto shares = *ShamirSplit(secret, 3, all, prg);
  // Holders 9, 21, 41, 77 answered; 21's share is wrong in every chunk.
  std::vector<ShamirShare> got = {shares[1], shares[3], shares[5], shares[6]};
  for (uint64_t& y : got[1].y) y = FieldAdd(y, 12345);
  std::vector<uint64_t> xs;
  for (const auto& s : got) xs.push_back(s.x);
  auto decoder = ShamirDecoder::Create(xs, 3);
  ASSERT_TRUE(decoder.ok());
  // k = 4, t = 3: detects but cannot correct.
  auto r = decoder->Decode(got);
  ASSERT_FALSE(r.ok());
  got.push_back(shares[0]);
  xs.push_back(shares[0].x);
  decoder = ShamirDecoder::Create(xs, 3);  // k = 5: corrects one
  r = decoder->Decode(got);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->secret, secret);
  EXPECT_EQ(r->wrong, std::vector<uint64_t>{21});
}

TEST(ShamirDecoderTest, BadArgumentsAreNamed) {
  EXPECT_FALSE(ShamirDecoder::Create(std::vector<uint64_t>{1, 2}, 3).ok());
  EXPECT_FALSE(ShamirDecoder::Create(std::vector<uint64_t>{1, 2}, 0).ok());
  auto repeated = ShamirDecoder::Create(std::vector<uint64_t>{1, 2, 2}, 2);
  ASSERT_FALSE(repeated.ok());
  EXPECT_NE(repeated.status().message().find("repeated"), std::string::npos);
  EXPECT_FALSE(ShamirDecoder::Create(std::vector<uint64_t>{0, 1}, 1).ok());
  const ShamirDecoder d = DecoderFor(3, 2);
  std::vector<ShamirShare> shares(3);
  for (size_t i = 0; i < 3; ++i) shares[i].x = i + 1;
  shares[2].x = 9;
  EXPECT_EQ(d.Decode(shares).status().code(), StatusCode::kInvalidArgument);
  shares[2].x = 3;
  shares[1].y[0] = kShamirPrime;
  EXPECT_EQ(d.Decode(shares).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(d.Decode(std::span(shares).first(2)).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace fedra::secagg
