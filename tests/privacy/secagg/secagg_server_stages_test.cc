// RunServerStages against real SecAggClients reached through a scripted SecAggPeers: which
// clients end up in the sum, what the dropout limit stops, and where an abort ends the sequence.
#include "fedra/privacy/secagg/server_stages.h"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "fedra/privacy/secagg/client.h"

namespace fedra::secagg {
namespace {

constexpr uint32_t kClients = 6;  // classic SecAgg, threshold 4
constexpr size_t kLength = 5;
constexpr uint64_t kLevels = 1001;

// Answers each stage with real clients, except those scripted to drop before it; records what
// the sequence asked of it.
class ScriptedPeers final : public SecAggPeers {
 public:
  ScriptedPeers(const SecAggConfig& config, std::shared_ptr<const NeighbourGraph> graph) {
    Key256 seed{};
    seed[0] = 7;
    for (uint32_t i = 0; i < config.num_clients; ++i) {
      clients_.push_back(*SecAggClient::Create(config, i, graph, seed));
      std::vector<uint32_t> q(kLength);
      for (size_t j = 0; j < kLength; ++j) q[j] = (97 * i + 13 * j) % kLevels;
      inputs_.push_back(q);
    }
  }

  // Client `id` sends nothing from stage `stage` on.
  void DropAt(int stage, uint32_t id) { drop_at_[id] = stage; }

  const std::vector<uint32_t>& input(uint32_t id) const { return inputs_[id]; }

  void Advertise(const Deliver<AdvertiseKeys>& deliver) override {
    stages_asked.push_back(0);
    for (uint32_t i = 0; i < clients_.size(); ++i)
      if (Answers(0, i)) Answer(clients_[i]->Advertise(), deliver);
  }
  void Share(std::vector<KeyDirectory> to, const Deliver<ShareKeys>& deliver) override {
    stages_asked.push_back(1);
    for (const auto& d : to)
      if (Answers(1, d.recipient)) Answer(clients_[d.recipient]->Share(d), deliver);
  }
  void Mask(std::vector<RelayedShares> to, const Deliver<MaskedInput>& deliver) override {
    stages_asked.push_back(2);
    std::optional<MaskedInput> first;
    for (const auto& r : to) {
      if (!Answers(2, r.recipient)) continue;
      auto masked = clients_[r.recipient]->Mask(r, inputs_[r.recipient]);
      if (masked.ok() && !first) first = *masked;
      Answer(std::move(masked), deliver);
    }
    // The same answer twice must reach the server, which refuses the copy.
    if (first) replay_verdict = deliver(*first);
  }
  void Unmask(std::vector<UnmaskRequest> to, const Deliver<UnmaskResponse>& deliver) override {
    stages_asked.push_back(3);
    for (const auto& r : to) {
      unmask_recipients.insert(r.recipient);
      if (Answers(3, r.recipient)) Answer(clients_[r.recipient]->Unmask(r), deliver);
    }
  }
  void ServerStep(int stage, const std::function<void()>& step) override {
    server_steps.push_back(stage);
    step();
  }

  std::vector<int> stages_asked, server_steps;
  std::set<uint32_t> unmask_recipients;
  std::optional<Status> replay_verdict;
  size_t refused = 0;

 private:
  bool Answers(int stage, uint32_t id) const {
    auto it = drop_at_.find(id);
    return it == drop_at_.end() || stage < it->second;
  }
  template <typename M>
  void Answer(StatusOr<M> reply, const Deliver<M>& deliver) {
    ASSERT_TRUE(reply.ok()) << reply.status().ToString();
    if (!deliver(*reply).ok()) ++refused;
  }

  std::vector<std::unique_ptr<SecAggClient>> clients_;
  std::vector<std::vector<uint32_t>> inputs_;
  std::map<uint32_t, int> drop_at_;
};

class ServerStagesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SecAggConfig c;
    c.round = 3;
    c.num_clients = kClients;
    c.vector_length = kLength;
    auto resolved = ResolveConfig(c);
    ASSERT_TRUE(resolved.ok()) << resolved.status().ToString();
    config_ = *resolved;
    ASSERT_EQ(config_.threshold, 4u);
    auto graph = std::make_shared<const NeighbourGraph>(config_);
    auto server = SecAggServer::Create(config_, graph);
    ASSERT_TRUE(server.ok());
    server_ = std::move(*server);
    peers_ = std::make_unique<ScriptedPeers>(config_, graph);
    auto quantizer = Quantizer::Create({1.0, kClients, kLevels});
    ASSERT_TRUE(quantizer.ok());
    quantizer_.emplace(*quantizer);
  }

  StatusOr<SecAggOutcome> Run(size_t max_dropped, ThreadPool* pool = nullptr) {
    return RunServerStages(*server_, *quantizer_, *peers_, max_dropped, pool);
  }

  std::vector<uint32_t> PlainSum(const std::vector<uint32_t>& ids) const {
    std::vector<uint32_t> s(kLength, 0);
    for (uint32_t id : ids)
      for (size_t j = 0; j < kLength; ++j) s[j] += peers_->input(id)[j];
    return s;
  }

  SecAggConfig config_;
  std::unique_ptr<SecAggServer> server_;
  std::unique_ptr<ScriptedPeers> peers_;
  std::optional<Quantizer> quantizer_;
};

TEST_F(ServerStagesTest, SumIsThePlainSumOfTheSurvivorsAfterADropAtMaskedInput) {
  peers_->DropAt(2, 4);
  ThreadPool pool(2);
  auto outcome = Run(/*max_dropped=*/kClients, &pool);
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  const std::vector<uint32_t> survivors = {0, 1, 2, 3, 5};
  EXPECT_EQ(server_->survivors(), survivors);
  EXPECT_EQ(outcome->raw_sum, PlainSum(survivors));
  std::vector<float> want(kLength);
  ASSERT_TRUE(quantizer_->Dequantize(PlainSum(survivors), 5, want).ok());
  EXPECT_EQ(outcome->sum, want);
  EXPECT_EQ(peers_->stages_asked, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(peers_->server_steps, (std::vector<int>{0, 1, 2, 3}));
  // Client 4 is not asked to unmask; its pairwise masks come from the others' shares.
  EXPECT_EQ(peers_->unmask_recipients, (std::set<uint32_t>{0, 1, 2, 3, 5}));
  ASSERT_TRUE(peers_->replay_verdict.has_value());
  EXPECT_FALSE(peers_->replay_verdict->ok());
  EXPECT_EQ(peers_->refused, 0u);
}

TEST_F(ServerStagesTest, ADropAtUnmaskingKeepsTheClientInTheSum) {
  peers_->DropAt(3, 1);
  auto outcome = Run(/*max_dropped=*/0);
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_EQ(server_->survivors().size(), kClients);
  EXPECT_EQ(outcome->raw_sum, PlainSum({0, 1, 2, 3, 4, 5}));
}

TEST_F(ServerStagesTest, TooManyDropoutsStopBeforeUnmasking) {
  peers_->DropAt(0, 5);  // counted against the config's clients, not those that reached stage 2
  peers_->DropAt(2, 2);
  auto outcome = Run(/*max_dropped=*/1);
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(outcome.status().message().find(
                "2 clients dropped out, more than the 1 tolerated; the sum is not unmasked"),
            std::string::npos)
      << outcome.status().message();
  EXPECT_EQ(peers_->stages_asked, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(peers_->server_steps, (std::vector<int>{0, 1, 2}));
  EXPECT_TRUE(peers_->unmask_recipients.empty());
}

TEST_F(ServerStagesTest, AsManyDropoutsAsToleratedAreUnmasked) {
  peers_->DropAt(0, 5);
  peers_->DropAt(2, 2);
  auto outcome = Run(/*max_dropped=*/2);
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_EQ(outcome->raw_sum, PlainSum({0, 1, 3, 4}));
}

TEST_F(ServerStagesTest, AnAbortEndsTheSequenceWithTheServersStatus) {
  for (uint32_t id : {0u, 2u, 4u}) peers_->DropAt(1, id);  // 3 of 6 share keys, threshold 4
  auto outcome = Run(/*max_dropped=*/kClients);
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_FALSE(server_->abort_reason().empty());
  EXPECT_NE(outcome.status().message().find(server_->abort_reason()), std::string::npos)
      << outcome.status().message();
  EXPECT_EQ(peers_->stages_asked, (std::vector<int>{0, 1}));
  EXPECT_EQ(peers_->server_steps, (std::vector<int>{0, 1}));
}

}  // namespace
}  // namespace fedra::secagg
