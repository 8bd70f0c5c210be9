#include "fedra/privacy/secagg/crypto.h"

#include <gtest/gtest.h>

#include <string>

#include "fedra/privacy/secagg/prg.h"

namespace fedra::secagg {
namespace {

template <size_t N>
std::array<uint8_t, N> Hex(const std::string& hex) {
  std::array<uint8_t, N> out{};
  for (size_t i = 0; i < N; ++i)
    out[i] = static_cast<uint8_t>(std::stoi(hex.substr(2 * i, 2), nullptr, 16));
  return out;
}

Key256 KeyOf(uint8_t fill) {
  Key256 k;
  k.fill(fill);
  return k;
}

// RFC 7748 section 6.1.
TEST(X25519Test, MatchesRfc7748Vectors) {
  const auto alice = Hex<32>("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
  const auto bob = Hex<32>("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
  auto a = X25519FromPrivate(alice);
  auto b = X25519FromPrivate(bob);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->public_key,
            Hex<32>("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"));
  EXPECT_EQ(b->public_key,
            Hex<32>("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"));
  const auto expected = Hex<32>("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
  auto ab = X25519Agree(alice, b->public_key);
  auto ba = X25519Agree(bob, a->public_key);
  ASSERT_TRUE(ab.ok() && ba.ok());
  EXPECT_EQ(*ab, expected);
  EXPECT_EQ(*ba, expected);
  auto cached = X25519Agreement::Create(alice);
  ASSERT_TRUE(cached.ok());
  EXPECT_EQ(cached->public_key(), a->public_key);
  EXPECT_EQ(*cached->Agree(b->public_key), expected);
}

TEST(X25519Test, RejectsSmallOrderPeerKey) {
  PublicKey zero{};  // the identity point: agreement would be all zeros
  auto r = X25519Agree(KeyOf(7), zero);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

// RFC 5869 test case 1 (first 32 of the 42 output bytes).
TEST(HkdfTest, MatchesRfc5869Case1) {
  std::vector<uint8_t> ikm(22, 0x0b);
  const auto salt = Hex<13>("000102030405060708090a0b0c");
  const auto info = Hex<10>("f0f1f2f3f4f5f6f7f8f9");
  auto okm = HkdfSha256(ikm, salt, info);
  ASSERT_TRUE(okm.ok());
  EXPECT_EQ(*okm, Hex<32>("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"));
}

TEST(AeadTest, RoundTripsAndRejectsAnyTampering) {
  const Key256 key = KeyOf(3);
  const std::array<uint8_t, kGcmNonceBytes> nonce = {1, 2, 3};
  const std::vector<uint8_t> plain = {10, 20, 30, 40, 50};
  const std::vector<uint8_t> ad = {9, 9};
  auto sealed = AeadSeal(key, nonce, plain, ad);
  ASSERT_TRUE(sealed.ok());
  ASSERT_EQ(sealed->size(), plain.size() + kGcmOverhead);
  auto opened = AeadOpen(key, *sealed, ad);
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(*opened, plain);
  for (size_t i = 0; i < sealed->size(); ++i) {  // nonce, body and tag are all covered
    auto bad = *sealed;
    bad[i] ^= 0x01;
    auto r = AeadOpen(key, bad, ad);
    EXPECT_EQ(r.status().code(), StatusCode::kDataLoss) << "byte " << i;
  }
  EXPECT_EQ(AeadOpen(key, *sealed, std::vector<uint8_t>{9, 8}).status().code(),
            StatusCode::kDataLoss);
  EXPECT_EQ(AeadOpen(KeyOf(4), *sealed, ad).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(AeadOpen(key, std::span(*sealed).first(kGcmOverhead - 1), ad).status().code(),
            StatusCode::kDataLoss);
}

TEST(PrgTest, SameKeySameStreamDifferentKeyDifferentStream) {
  Prg a(KeyOf(1)), b(KeyOf(1)), c(KeyOf(2));
  std::vector<uint8_t> x(1000), y(1000), z(1000);
  a.Fill(x);
  b.Fill(y);
  c.Fill(z);
  EXPECT_EQ(x, y);
  EXPECT_NE(x, z);
}

TEST(PrgTest, ChunkedFillEqualsOneFill) {
  Prg a(KeyOf(5)), b(KeyOf(5));
  std::vector<uint8_t> whole(777), parts(777);
  a.Fill(whole);
  size_t pos = 0;
  for (size_t len : {1, 3, 64, 100, 5, 128, 476}) {
    b.Fill(std::span(parts).subspan(pos, len));
    pos += len;
  }
  ASSERT_EQ(pos, parts.size());
  EXPECT_EQ(whole, parts);
}

TEST(PrgTest, AddToUsesTheStreamAsLittleEndianWordsAndSubtractUndoesIt) {
  const size_t n = 10'000;  // crosses the internal block size
  std::vector<uint8_t> bytes(4 * n);
  Prg(KeyOf(6)).Fill(bytes);
  std::vector<uint32_t> acc(n, 7);
  Prg(KeyOf(6)).AddTo(acc);
  for (size_t i = 0; i < n; i += 997) {
    const uint32_t w = bytes[4 * i] | bytes[4 * i + 1] << 8 | bytes[4 * i + 2] << 16 |
                       static_cast<uint32_t>(bytes[4 * i + 3]) << 24;
    EXPECT_EQ(acc[i], static_cast<uint32_t>(7 + w));
  }
  AddMask(KeyOf(6), -1, acc);
  for (uint32_t v : acc) ASSERT_EQ(v, 7u);
}

TEST(PrgTest, UniformBelowStaysInRangeAndCoversIt) {
  Prg prg(KeyOf(8));
  std::array<int, 7> counts{};
  for (int i = 0; i < 70'000; ++i) {
    const uint64_t v = prg.UniformBelow(7);
    ASSERT_LT(v, 7u);
    ++counts[v];
  }
  for (int c : counts) EXPECT_NEAR(c, 10'000, 600);  // > 6 sigma
}

TEST(PrgTest, FromSystemGivesDistinctStreams) {
  auto a = Prg::FromSystem();
  auto b = Prg::FromSystem();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->NextU64(), b->NextU64());
}

}  // namespace
}  // namespace fedra::secagg
