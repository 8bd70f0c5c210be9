// SecAggClient and SecAggServer driven stage by stage, with hostile messages injected.
#include <gtest/gtest.h>

#include <memory>
#include <numeric>

#include "fedra/privacy/secagg/client.h"
#include "fedra/privacy/secagg/server.h"

namespace fedra::secagg {
namespace {

class ProtocolTest : public ::testing::Test {
 protected:
  void SetUp() override { Init(6, 0, 4); }

  void Init(uint32_t n, uint32_t k, uint32_t t, uint64_t round = 9) {
    config_ = {};
    config_.round = round;
    config_.num_clients = n;
    config_.neighbours = k;
    config_.threshold = t;
    config_.vector_length = 5;
    config_.graph_seed.fill(3);
    auto resolved = ResolveConfig(config_);
    ASSERT_TRUE(resolved.ok()) << resolved.status().ToString();
    config_ = *resolved;
    auto graph = std::make_shared<const NeighbourGraph>(config_);
    auto server = SecAggServer::Create(config_, graph);
    ASSERT_TRUE(server.ok());
    server_ = std::move(*server);
    clients_.clear();
    Key256 seed{};
    seed[0] = 42;
    for (uint32_t i = 0; i < n; ++i) {
      auto c = SecAggClient::Create(config_, i, graph, seed);
      ASSERT_TRUE(c.ok());
      clients_.push_back(std::move(*c));
    }
  }

  std::vector<uint32_t> Input(uint32_t id) const {
    std::vector<uint32_t> x(config_.vector_length);
    for (size_t i = 0; i < x.size(); ++i) x[i] = 1000 * id + static_cast<uint32_t>(i);
    return x;
  }

  // Runs the advertise and share-keys stages for all clients; returns what the server relays.
  std::vector<RelayedShares> UpToRelay() {
    std::vector<AdvertiseKeys> adv;
    for (auto& c : clients_) adv.push_back(*c->Advertise());
    auto dirs = server_->AdvertiseStage(adv);
    EXPECT_TRUE(dirs.ok()) << dirs.status().ToString();
    std::vector<ShareKeys> shares;
    for (const auto& d : *dirs) shares.push_back(*clients_[d.recipient]->Share(d));
    auto relayed = server_->ShareKeysStage(shares);
    EXPECT_TRUE(relayed.ok()) << relayed.status().ToString();
    return *relayed;
  }

  // The masked inputs of `senders` (the rest drop before masking).
  std::vector<MaskedInput> MaskAll(const std::vector<RelayedShares>& relayed,
                                   const std::vector<uint32_t>& senders) {
    std::vector<MaskedInput> masked;
    for (const auto& r : relayed)
      if (std::find(senders.begin(), senders.end(), r.recipient) != senders.end())
        masked.push_back(*clients_[r.recipient]->Mask(r, Input(r.recipient)));
    return masked;
  }

  // Masks the inputs of `senders` (the rest drop before masking); returns unmask requests.
  std::vector<UnmaskRequest> UpToUnmask(const std::vector<RelayedShares>& relayed,
                                        const std::vector<uint32_t>& senders) {
    auto requests = server_->MaskedInputStage(MaskAll(relayed, senders));
    EXPECT_TRUE(requests.ok()) << requests.status().ToString();
    return requests.ok() ? *requests : std::vector<UnmaskRequest>{};
  }

  std::vector<UnmaskResponse> Responses(const std::vector<UnmaskRequest>& requests) {
    std::vector<UnmaskResponse> responses;
    for (const auto& r : requests) responses.push_back(*clients_[r.recipient]->Unmask(r));
    return responses;
  }

  std::vector<uint32_t> PlainSum(const std::vector<uint32_t>& ids) const {
    std::vector<uint32_t> s(config_.vector_length, 0);
    for (uint32_t id : ids) {
      auto x = Input(id);
      for (size_t i = 0; i < s.size(); ++i) s[i] += x[i];
    }
    return s;
  }

  SecAggConfig config_;
  std::unique_ptr<SecAggServer> server_;
  std::vector<std::unique_ptr<SecAggClient>> clients_;
};

TEST_F(ProtocolTest, SumIsExactWithADropoutBeforeMasking) {
  auto relayed = UpToRelay();
  const std::vector<uint32_t> senders = {0, 1, 2, 4, 5};  // client 3 drops
  auto requests = UpToUnmask(relayed, senders);
  ASSERT_EQ(requests.size(), 5u);
  EXPECT_EQ(server_->dropped(), std::vector<uint32_t>{3});
  std::vector<UnmaskResponse> responses;
  for (const auto& r : requests) responses.push_back(*clients_[r.recipient]->Unmask(r));
  auto sum = server_->UnmaskStage(responses);
  ASSERT_TRUE(sum.ok()) << sum.status().ToString();
  EXPECT_EQ(*sum, PlainSum(senders));
}

TEST_F(ProtocolTest, SecAggPlusSumIsExact) {
  Init(30, 6, 4);
  auto relayed = UpToRelay();
  std::vector<uint32_t> senders;
  for (uint32_t i = 0; i < 30; ++i)
    if (i % 7 != 3) senders.push_back(i);
  auto requests = UpToUnmask(relayed, senders);
  std::vector<UnmaskResponse> responses;
  for (const auto& r : requests) {
    EXPECT_LE(r.survivors.size() + r.dropped.size(), 7u);  // k neighbours + itself
    responses.push_back(*clients_[r.recipient]->Unmask(r));
  }
  auto sum = server_->UnmaskStage(responses);
  ASSERT_TRUE(sum.ok()) << sum.status().ToString();
  EXPECT_EQ(*sum, PlainSum(senders));
}

TEST_F(ProtocolTest, TamperedCiphertextIsRejectedByTheReceiver) {
  auto relayed = UpToRelay();
  relayed[2].shares[1].ciphertext[20] ^= 0x80;
  auto r = clients_[2]->Mask(relayed[2], Input(2));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(r.status().message().find("authentication"), std::string::npos) << r.status().message();
  // A refused client stays refused.
  EXPECT_EQ(clients_[2]->Mask(relayed[2], Input(2)).status().code(),
            StatusCode::kFailedPrecondition);
}

TEST_F(ProtocolTest, ShareRedirectedToAnotherReceiverFailsAuthentication) {
  auto relayed = UpToRelay();
  // The server swaps client 1's share for client 2 into client 0's inbox, claiming it is from 1.
  RelayedShares forged = relayed[0];
  const SealedShare for_two = [&] {
    for (const auto& s : relayed[2].shares)
      if (s.peer == 1) return s;
    return SealedShare{};
  }();
  for (auto& s : forged.shares)
    if (s.peer == 1) s.ciphertext = for_two.ciphertext;
  auto r = clients_[0]->Mask(forged, Input(0));
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
}

TEST_F(ProtocolTest, ClientRejectsDuplicateAndUnknownShares) {
  auto relayed = UpToRelay();
  RelayedShares dup = relayed[1];
  dup.shares.push_back(dup.shares[0]);
  auto r = clients_[1]->Mask(dup, Input(1));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("duplicate"), std::string::npos);
  RelayedShares unknown = relayed[2];
  unknown.shares[0].peer = 77;
  auto u = clients_[2]->Mask(unknown, Input(2));
  ASSERT_FALSE(u.ok());
  EXPECT_NE(u.status().message().find("unknown client 77"), std::string::npos);
}

TEST_F(ProtocolTest, ClientRefusesToRevealBothSecretsOfOnePeer) {
  auto relayed = UpToRelay();
  auto requests = UpToUnmask(relayed, {0, 1, 2, 4, 5});
  UnmaskRequest both = requests[0];
  both.dropped.push_back(both.survivors[1]);  // survivor listed as dropped too
  auto r = clients_[0]->Unmask(both);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("more than once"), std::string::npos) << r.status().message();
  // A second request, even an honest one, is refused: one answer per round.
  auto ok = clients_[1]->Unmask(requests[1]);
  ASSERT_TRUE(ok.ok());
  UnmaskRequest flipped = requests[1];
  std::swap(flipped.survivors, flipped.dropped);
  EXPECT_EQ(clients_[1]->Unmask(flipped).status().code(), StatusCode::kFailedPrecondition);
  // Declaring the recipient itself dropped, or omitting a holder, is refused.
  UnmaskRequest self_dropped = requests[2];
  self_dropped.dropped.push_back(2);
  self_dropped.survivors.erase(
      std::find(self_dropped.survivors.begin(), self_dropped.survivors.end(), 2u));
  EXPECT_FALSE(clients_[2]->Unmask(self_dropped).ok());
  UnmaskRequest omitted = requests[3];
  omitted.dropped.clear();
  auto o = clients_[3 + 1]->Unmask(omitted);  // requests[3] goes to client 4
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.status().message().find("omits"), std::string::npos) << o.status().message();
}

TEST_F(ProtocolTest, ServerRejectsBadMessagesWithoutDamagingTheRound) {
  std::vector<AdvertiseKeys> adv;
  for (auto& c : clients_) adv.push_back(*c->Advertise());
  EXPECT_TRUE(server_->ReceiveKeys(adv[0]).ok());
  EXPECT_NE(server_->ReceiveKeys(adv[0]).message().find("duplicate"), std::string::npos);
  AdvertiseKeys unknown = adv[1];
  unknown.sender = 99;
  EXPECT_NE(server_->ReceiveKeys(unknown).message().find("unknown client 99"), std::string::npos);
  AdvertiseKeys replayed = adv[1];
  replayed.mask_key = adv[0].mask_key;
  EXPECT_FALSE(server_->ReceiveKeys(replayed).ok());
  for (size_t i = 1; i < adv.size(); ++i) ASSERT_TRUE(server_->ReceiveKeys(adv[i]).ok());
  auto dirs = server_->FinishAdvertise();
  ASSERT_TRUE(dirs.ok());

  auto shares = *clients_[0]->Share((*dirs)[0]);
  ShareKeys dup = shares;
  dup.shares[1] = dup.shares[0];
  EXPECT_NE(server_->ReceiveShares(dup).message().find("two shares"), std::string::npos);
  ShareKeys stranger = shares;
  stranger.shares[0].peer = 50;
  EXPECT_NE(server_->ReceiveShares(stranger).message().find("not a neighbour"), std::string::npos);
  ShareKeys short_ct = shares;
  short_ct.shares[0].ciphertext.pop_back();
  EXPECT_NE(server_->ReceiveShares(short_ct).message().find("bytes, expected"), std::string::npos);
  ShareKeys missing = shares;
  missing.shares.pop_back();
  EXPECT_FALSE(server_->ReceiveShares(missing).ok());
  EXPECT_TRUE(server_->ReceiveShares(shares).ok());  // the honest message still goes through
  EXPECT_FALSE(server_->ReceiveMaskedInput({0, std::vector<uint32_t>(5)}).ok());  // wrong stage
}

TEST_F(ProtocolTest, ServerRejectsForgedUnmaskResponses) {
  auto relayed = UpToRelay();
  auto requests = UpToUnmask(relayed, {0, 1, 2, 4, 5});
  auto response = *clients_[0]->Unmask(requests[0]);
  UnmaskResponse wrong_kind = response;
  wrong_kind.shares[0].kind = ShareKind::kMaskKey;  // s-share of a survivor: never accepted
  EXPECT_NE(server_->ReceiveUnmask(wrong_kind).message().find("wrong kind"), std::string::npos);
  UnmaskResponse dup = response;
  dup.shares.push_back(dup.shares[0]);
  EXPECT_NE(server_->ReceiveUnmask(dup).message().find("two shares"), std::string::npos);
  UnmaskResponse stranger = response;
  stranger.shares[0].owner = 1234;
  EXPECT_NE(server_->ReceiveUnmask(stranger).message().find("not asked"), std::string::npos);
  EXPECT_TRUE(server_->ReceiveUnmask(response).ok());
  EXPECT_NE(server_->ReceiveUnmask(response).message().find("duplicate"), std::string::npos);
  UnmaskResponse dropped_sender = *clients_[1]->Unmask(requests[1]);
  dropped_sender.sender = 3;  // client 3 sent no masked input
  EXPECT_NE(server_->ReceiveUnmask(dropped_sender).message().find("dropped"), std::string::npos);
}

TEST_F(ProtocolTest, CorruptRevealedShareAbortsWithoutASum) {
  auto relayed = UpToRelay();
  auto requests = UpToUnmask(relayed, {0, 1, 2, 4, 5});
  std::vector<UnmaskResponse> responses;
  for (const auto& r : requests) responses.push_back(*clients_[r.recipient]->Unmask(r));
  // Every holder's share of dropped client 3's key is shifted by the same constant, so the
  // shares stay consistent but interpolate to another key: caught by the public-key check.
  for (auto& resp : responses)
    for (auto& s : resp.shares)
      if (s.owner == 3) s.y[4] = FieldAdd(s.y[4], 7);
  auto sum = server_->UnmaskStage(responses);
  ASSERT_FALSE(sum.ok());
  EXPECT_EQ(sum.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(server_->abort_reason().find("does not match its advertised public key"),
            std::string::npos)
      << server_->abort_reason();
}

// The attack that used to unmask to garbage: one holder adds 1 to one chunk of the share it
// reveals. With 6 responders and threshold 4, one wrong share per secret is corrected.
TEST_F(ProtocolTest, AWrongRevealedShareIsCorrectedAndReported) {
  const std::vector<uint32_t> all = {0, 1, 2, 3, 4, 5};
  auto responses = Responses(UpToUnmask(UpToRelay(), all));
  for (auto& s : responses[1].shares)
    if (s.owner == 0) s.y[2] = FieldAdd(s.y[2], 1);
  auto sum = server_->UnmaskStage(responses);
  ASSERT_TRUE(sum.ok()) << sum.status().ToString();
  EXPECT_EQ(*sum, PlainSum(all));
  ASSERT_EQ(server_->disputes().size(), 1u);
  EXPECT_EQ(server_->disputes()[0].holder, 1u);
  EXPECT_EQ(server_->disputes()[0].owner, 0u);
}

TEST_F(ProtocolTest, AHolderLyingAboutEverySecretIsCorrectedForEach) {
  const std::vector<uint32_t> senders = {0, 1, 2, 3, 4, 5, 6};  // 7 drops: its key is needed
  Init(8, 0, 5);
  auto requests = UpToUnmask(UpToRelay(), senders);
  auto responses = Responses(requests);
  for (auto& resp : responses)
    if (resp.sender == 2)
      for (auto& s : resp.shares)
        for (uint64_t& y : s.y) y = FieldAdd(y, 99);
  auto sum = server_->UnmaskStage(responses);
  ASSERT_TRUE(sum.ok()) << sum.status().ToString();
  EXPECT_EQ(*sum, PlainSum(senders));
  // Caught at the first secret; every later one is decoded without its shares.
  ASSERT_EQ(server_->disputes().size(), 1u);
  EXPECT_EQ(server_->disputes()[0].holder, 2u);
}

TEST_F(ProtocolTest, MoreWrongSharesThanCanBeCorrectedAbortWithoutASum) {
  const std::vector<uint32_t> all = {0, 1, 2, 3, 4, 5};
  auto responses = Responses(UpToUnmask(UpToRelay(), all));
  for (int liar : {1, 4})
    for (auto& s : responses[liar].shares)
      if (s.owner == 0) s.y[0] = FieldAdd(s.y[0], 5);
  auto sum = server_->UnmaskStage(responses);
  ASSERT_FALSE(sum.ok());
  EXPECT_EQ(sum.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(server_->abort_reason().find("self-mask seed of client 0 cannot be recovered"),
            std::string::npos)
      << server_->abort_reason();
}

TEST_F(ProtocolTest, AFlippedBitInAMaskedInputAbortsBeforeTheSum) {
  const std::vector<uint32_t> all = {0, 1, 2, 3, 4, 5};
  auto masked = MaskAll(UpToRelay(), all);
  masked[4].masked[2] ^= 0x100;
  auto requests = server_->MaskedInputStage(masked);
  ASSERT_TRUE(requests.ok());
  auto sum = server_->UnmaskStage(Responses(*requests));
  ASSERT_FALSE(sum.ok());
  EXPECT_EQ(server_->bad_inputs(), std::vector<uint32_t>{4});
  EXPECT_NE(server_->abort_reason().find("does not carry the tag"), std::string::npos)
      << server_->abort_reason();
}

TEST_F(ProtocolTest, AMaskedInputReplayedFromAnEarlierRoundAborts) {
  const std::vector<uint32_t> all = {0, 1, 2, 3, 4, 5};
  const MaskedInput old = MaskAll(UpToRelay(), all)[2];
  Init(6, 0, 4, /*round=*/10);
  auto masked = MaskAll(UpToRelay(), all);
  masked[2] = old;
  auto requests = server_->MaskedInputStage(masked);
  ASSERT_TRUE(requests.ok());
  auto sum = server_->UnmaskStage(Responses(*requests));
  ASSERT_FALSE(sum.ok());
  EXPECT_EQ(server_->bad_inputs(), std::vector<uint32_t>{2});
}

TEST_F(ProtocolTest, AbortsBelowThresholdAtEachStage) {
  // Advertise: only 3 of 6 (threshold 4).
  {
    std::vector<AdvertiseKeys> adv;
    for (uint32_t i = 0; i < 3; ++i) adv.push_back(*clients_[i]->Advertise());
    auto r = server_->AdvertiseStage(adv);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("only 3 clients advertised keys, 4 needed"),
              std::string::npos)
        << r.status().message();
    EXPECT_FALSE(server_->ReceiveKeys(adv[0]).ok());  // the round stays aborted
  }
  // Masked input: only 3 send.
  SetUp();
  auto relayed = UpToRelay();
  std::vector<MaskedInput> masked;
  for (uint32_t i = 0; i < 3; ++i) masked.push_back(*clients_[i]->Mask(relayed[i], Input(i)));
  auto r = server_->MaskedInputStage(masked);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("aborted"), std::string::npos);
  // Unmasking: only 3 answer.
  SetUp();
  auto requests = UpToUnmask(UpToRelay(), {0, 1, 2, 3, 4, 5});
  std::vector<UnmaskResponse> responses;
  for (uint32_t i = 0; i < 3; ++i) responses.push_back(*clients_[i]->Unmask(requests[i]));
  auto sum = server_->UnmaskStage(responses);
  ASSERT_FALSE(sum.ok());
  EXPECT_NE(sum.status().message().find("unmask"), std::string::npos) << sum.status().message();
}

TEST_F(ProtocolTest, ClientRefusesDirectoryBelowThreshold) {
  auto adv = *clients_[0]->Advertise();
  auto other = *clients_[1]->Advertise();
  auto r = clients_[0]->Share({0, {adv, other}});  // 2 holders < threshold 4
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("below the threshold"), std::string::npos);
}

}  // namespace
}  // namespace fedra::secagg
