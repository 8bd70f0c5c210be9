#include "fedra/privacy/secagg/messages.h"

#include <gtest/gtest.h>

namespace fedra::secagg {
namespace {

AdvertiseKeys Keys(uint32_t id) {
  AdvertiseKeys k{id, {}, {}};
  k.encryption_key.fill(static_cast<uint8_t>(id));
  k.mask_key.fill(static_cast<uint8_t>(id + 100));
  return k;
}

UnmaskResponse Response() {
  return {
      5,
      {{1, ShareKind::kSelfMaskSeed, {1, 2, 3, 4, 5}}, {9, ShareKind::kMaskKey, {6, 7, 8, 9, 10}}}};
}

// Every strict prefix and every one-byte extension of a valid encoding must be rejected.
template <typename Parse>
void ExpectStrict(const std::vector<uint8_t>& wire, Parse parse) {
  for (size_t len = 0; len < wire.size(); ++len) {
    auto r = parse(std::span(wire).first(len));
    ASSERT_FALSE(r.ok()) << "prefix of " << len << " bytes parsed";
    EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  }
  auto longer = wire;
  longer.push_back(0);
  auto r = parse(longer);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("trailing"), std::string::npos) << r.status().message();
}

TEST(SecAggMessagesTest, EveryMessageRoundTripsAndParsingIsStrict) {
  const AdvertiseKeys adv = Keys(3);
  EXPECT_EQ(*ParseAdvertiseKeys(Serialize(adv)), adv);
  ExpectStrict(Serialize(adv), ParseAdvertiseKeys);

  const KeyDirectory dir{3, {Keys(3), Keys(4)}};
  EXPECT_EQ(*ParseKeyDirectory(Serialize(dir)), dir);
  ExpectStrict(Serialize(dir), ParseKeyDirectory);

  const ShareKeys sk{3, {{4, {1, 2, 3}}, {7, {}}}};
  EXPECT_EQ(*ParseShareKeys(Serialize(sk)), sk);
  ExpectStrict(Serialize(sk), ParseShareKeys);

  const RelayedShares rs{4, {{3, {9, 9}}}};
  EXPECT_EQ(*ParseRelayedShares(Serialize(rs)), rs);
  ExpectStrict(Serialize(rs), ParseRelayedShares);

  MaskedInput mi{2, {0, 0xffffffffu, 12345}};
  mi.tag[0] = 7;
  mi.tag[31] = 0xee;
  EXPECT_EQ(*ParseMaskedInput(Serialize(mi)), mi);
  ExpectStrict(Serialize(mi), ParseMaskedInput);

  const UnmaskRequest req{2, {1, 2}, {3}};
  EXPECT_EQ(*ParseUnmaskRequest(Serialize(req)), req);
  ExpectStrict(Serialize(req), ParseUnmaskRequest);

  EXPECT_EQ(*ParseUnmaskResponse(Serialize(Response())), Response());
  ExpectStrict(Serialize(Response()), ParseUnmaskResponse);
}

TEST(SecAggMessagesTest, RejectsWrongTypeVersionAndMagic) {
  auto wire = Serialize(Keys(1));
  auto r = ParseMaskedInput(wire);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("wrong message type"), std::string::npos);
  auto bad_version = wire;
  bad_version[2] = 1;  // before the masked input carried a tag
  EXPECT_NE(ParseAdvertiseKeys(bad_version).status().message().find("unsupported version 1"),
            std::string::npos);
  auto bad_magic = wire;
  bad_magic[0] = 'X';
  EXPECT_NE(ParseAdvertiseKeys(bad_magic).status().message().find("magic"), std::string::npos);
}

TEST(SecAggMessagesTest, RejectsHugeCountsWithoutAllocating) {
  auto wire = Serialize(MaskedInput{1, {1, 2}});
  wire[40] = wire[41] = wire[42] = wire[43] = 0xff;  // count = 2^32 - 1 (after sender and tag)
  auto r = ParseMaskedInput(wire);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("exceeds"), std::string::npos) << r.status().message();
}

TEST(SecAggMessagesTest, RejectsUnknownShareKindAndOutOfFieldValues) {
  auto wire = Serialize(Response());
  auto bad_kind = wire;
  bad_kind[4 + 4 + 4 + 4] = 7;  // header, sender, count, owner, then the kind byte
  EXPECT_NE(ParseUnmaskResponse(bad_kind).status().message().find("share kind"), std::string::npos);
  UnmaskResponse big = Response();
  big.shares[0].y[2] = kShamirPrime;
  EXPECT_NE(ParseUnmaskResponse(Serialize(big)).status().message().find("field"),
            std::string::npos);
}

}  // namespace
}  // namespace fedra::secagg
