// Whole rounds through RunSecureAggregation: sums under dropout, aborts, what the server sees.
#include "fedra/privacy/secagg/runner.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>

#include "fedra/privacy/secagg/client.h"
#include "fedra/privacy/secagg/server.h"

namespace fedra::secagg {
namespace {

std::vector<std::vector<float>> Inputs(size_t n, size_t m, uint64_t seed) {
  Rng rng(seed);
  std::vector<std::vector<float>> x(n, std::vector<float>(m));
  for (auto& v : x)
    for (float& f : v) f = static_cast<float>(rng.Uniform() * 2 - 1);
  return x;
}

void ExpectSumMatches(const std::vector<std::vector<float>>& inputs,
                      const SecureAggregationResult& r) {
  ASSERT_EQ(r.sum.size(), inputs[0].size());
  for (size_t i = 0; i < r.sum.size(); ++i) {
    double truth = 0;
    for (uint32_t u : r.survivors) truth += inputs[u][i];
    // Quantization bound plus float32 rounding of the result.
    const double tol = r.quantization_error_bound + 1e-6 * (1 + std::abs(truth));
    ASSERT_NEAR(r.sum[i], truth, tol) << "coordinate " << i;
  }
}

Key256 TestSeed() {
  Key256 k{};
  k[0] = 1;
  return k;
}

struct DropCase {
  int stage;
  double fraction;
};

class DropoutTest : public ::testing::TestWithParam<DropCase> {};

TEST_P(DropoutTest, UnmaskedSumEqualsPlainSumOfSurvivors) {
  const auto [stage, fraction] = GetParam();
  const size_t n = 40, m = 300;
  auto inputs = Inputs(n, m, 7 + stage);
  SecureAggregationOptions o;
  o.dropout.fraction[stage] = fraction;
  o.threads = 2;
  o.test_seed = TestSeed();
  Rng rng(100 + stage);
  auto r = RunSecureAggregation(inputs, o, rng);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const size_t dropped = static_cast<size_t>(std::llround(fraction * n));
  EXPECT_EQ(r->alive_after[stage], n - dropped);
  // Dropouts before masked input leave the sum; dropouts at unmasking do not.
  EXPECT_EQ(r->survivors.size(), stage <= 2 ? n - dropped : n);
  EXPECT_TRUE(r->first_client_error.empty()) << r->first_client_error;
  ExpectSumMatches(inputs, *r);
}

INSTANTIATE_TEST_SUITE_P(EveryStage, DropoutTest,
                         ::testing::Values(DropCase{0, 0.0}, DropCase{0, 0.1}, DropCase{0, 0.3},
                                           DropCase{1, 0.1}, DropCase{1, 0.3}, DropCase{2, 0.1},
                                           DropCase{2, 0.3}, DropCase{3, 0.1}, DropCase{3, 0.3}),
                         [](const auto& p) {
                           return "Stage" + std::to_string(p.param.stage) + "Drop" +
                                  std::to_string(static_cast<int>(p.param.fraction * 100));
                         });

TEST(SecureAggregationTest, TenPercentAtEveryStageWithSystemRandomness) {
  auto inputs = Inputs(30, 200, 1);
  SecureAggregationOptions o;  // no test seed: secrets from RAND_priv_bytes
  o.dropout.fraction = {0.1, 0.1, 0.1, 0.1};
  Rng rng(5);
  auto r = RunSecureAggregation(inputs, o, rng);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ExpectSumMatches(inputs, *r);
}

TEST(SecureAggregationTest, AbortsCleanlyBelowThreshold) {
  auto inputs = Inputs(20, 10, 2);
  for (int stage = 0; stage < kNumStages; ++stage) {
    SecureAggregationOptions o;
    o.dropout.fraction[stage] = 0.6;  // 8 of 20 left, threshold 11
    o.test_seed = TestSeed();
    Rng rng(stage);
    auto r = RunSecureAggregation(inputs, o, rng);
    ASSERT_FALSE(r.ok()) << "stage " << stage;
    EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_NE(r.status().message().find("aborted"), std::string::npos) << r.status().message();
  }
}

TEST(SecureAggregationTest, SecAggPlusSumIsCorrectWithDropout) {
  const size_t n = 120;
  auto inputs = Inputs(n, 100, 3);
  SecureAggregationOptions o;
  o.protocol.neighbours = DefaultNeighbours(n);  // 3 * 7 = 21 -> 22
  ASSERT_EQ(o.protocol.neighbours, 22u);
  o.protocol.graph_seed.fill(9);
  o.dropout.fraction = {0.05, 0.05, 0.1, 0.05};
  o.threads = 2;
  o.record_unmask_responses = true;
  o.test_seed = TestSeed();
  Rng rng(8);
  auto r = RunSecureAggregation(inputs, o, rng);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ExpectSumMatches(inputs, *r);
  // Each response reveals shares only for its neighbourhood: at most k + 1 of them.
  for (const auto& resp : r->unmask_responses) EXPECT_LE(resp.shares.size(), 23u);
  // SecAgg+ sends far fewer bytes at the share stage than classic SecAgg would (n - 1 shares).
  EXPECT_LT(r->client_bytes_sent[1], r->alive_after[1] * 23 * 150);
}

TEST(SecureAggregationTest, SecAggPlusAbortsWhenANeighbourhoodLosesTooManyHolders) {
  auto inputs = Inputs(60, 10, 6);
  SecureAggregationOptions o;
  o.protocol.neighbours = 10;                 // t = 6 of 11 holders; global minimum also 6
  o.dropout.fraction = {0.0, 0.0, 0.6, 0.0};  // 24 of 60 survive: enough globally
  o.test_seed = TestSeed();
  Rng rng(12);
  auto r = RunSecureAggregation(inputs, o, rng);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("live clients, below the threshold 6"), std::string::npos)
      << r.status().message();
}

TEST(SecureAggregationTest, NoTranscriptHoldsBothSecretsOfOneClient) {
  auto inputs = Inputs(25, 20, 4);
  SecureAggregationOptions o;
  o.dropout.fraction = {0.0, 0.0, 0.2, 0.1};
  o.record_unmask_responses = true;
  o.test_seed = TestSeed();
  Rng rng(11);
  auto r = RunSecureAggregation(inputs, o, rng);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  std::map<uint32_t, std::set<ShareKind>> revealed;
  for (const auto& resp : r->unmask_responses)
    for (const auto& s : resp.shares) revealed[s.owner].insert(s.kind);
  ASSERT_FALSE(revealed.empty());
  size_t seeds = 0, keys = 0;
  for (const auto& [owner, kinds] : revealed) {
    EXPECT_EQ(kinds.size(), 1u) << "both secrets of client " << owner << " were revealed";
    const bool survived = std::binary_search(r->survivors.begin(), r->survivors.end(), owner);
    EXPECT_EQ(*kinds.begin(), survived ? ShareKind::kSelfMaskSeed : ShareKind::kMaskKey);
    (survived ? seeds : keys) += 1;
  }
  EXPECT_EQ(seeds, 20u);
  EXPECT_EQ(keys, 5u);
}

// What the server sees of one client is its masked vector: its bytes must look uniform even
// when the input is all zeros. Chi-square over 256 byte values, 255 degrees of freedom: the
// 1e-6 upper quantile is about 375; a fixed seed keeps this deterministic.
TEST(SecureAggregationTest, MaskedVectorIsIndistinguishableFromUniform) {
  const uint32_t n = 5;
  SecAggConfig config;
  config.num_clients = n;
  config.vector_length = 50'000;
  config.round = 1;
  auto graph_config = ResolveConfig(config);
  ASSERT_TRUE(graph_config.ok());
  auto graph = std::make_shared<const NeighbourGraph>(*graph_config);
  auto server = *SecAggServer::Create(config, graph);
  std::vector<std::unique_ptr<SecAggClient>> clients;
  for (uint32_t i = 0; i < n; ++i)
    clients.push_back(*SecAggClient::Create(config, i, graph, TestSeed()));
  std::vector<AdvertiseKeys> adv;
  for (auto& c : clients) adv.push_back(*c->Advertise());
  auto dirs = *server->AdvertiseStage(adv);
  std::vector<ShareKeys> shares;
  for (const auto& d : dirs) shares.push_back(*clients[d.recipient]->Share(d));
  auto relayed = *server->ShareKeysStage(shares);
  const std::vector<uint32_t> zeros(config.vector_length, 0);
  auto masked = clients[0]->Mask(relayed[0], zeros);
  ASSERT_TRUE(masked.ok());
  std::array<double, 256> counts{};
  for (uint32_t w : masked->masked)
    for (int b = 0; b < 4; ++b) counts[(w >> (8 * b)) & 0xff] += 1;
  const double expected = 4.0 * config.vector_length / 256;
  double chi2 = 0;
  for (double c : counts) chi2 += (c - expected) * (c - expected) / expected;
  EXPECT_LT(chi2, 375.0);
  EXPECT_GT(chi2, 150.0);  // suspiciously perfect would mean a non-random pattern
}

// FedAvg through secure aggregation: each client sends (w x / W, w / W) with a public weight
// cap W; the server divides the two sums and gets the weighted mean of the survivors.
TEST(SecureAggregationTest, WeightRidesInsideTheVectorForAWeightedMean) {
  const size_t n = 20, m = 8;
  const double cap = 1000;
  Rng data(21);
  std::vector<std::vector<float>> inputs(n, std::vector<float>(m + 1));
  std::vector<double> weights(n);
  for (size_t u = 0; u < n; ++u) {
    weights[u] = 1 + static_cast<double>(data.UniformInt(999));
    for (size_t i = 0; i < m; ++i)
      inputs[u][i] = static_cast<float>(weights[u] * (data.Uniform() * 2 - 1) / cap);
    inputs[u][m] = static_cast<float>(weights[u] / cap);
  }
  SecureAggregationOptions o;
  o.dropout.fraction[2] = 0.1;
  o.test_seed = TestSeed();
  Rng rng(22);
  auto r = RunSecureAggregation(inputs, o, rng);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  double total_weight = 0;
  for (uint32_t u : r->survivors) total_weight += weights[u];
  EXPECT_NEAR(r->sum[m] * cap, total_weight, cap * r->quantization_error_bound + 1e-3);
  for (size_t i = 0; i < m; ++i) {
    double weighted = 0;
    for (uint32_t u : r->survivors) weighted += inputs[u][i] * cap;
    EXPECT_NEAR(r->sum[i] / r->sum[m], weighted / total_weight, 1e-4) << "coordinate " << i;
  }
}

TEST(SecureAggregationTest, RejectsMismatchedInputs) {
  std::vector<std::vector<float>> inputs = {{1, 2}, {3}};
  SecureAggregationOptions o;
  Rng rng(1);
  EXPECT_EQ(RunSecureAggregation(inputs, o, rng).status().code(), StatusCode::kInvalidArgument);
  std::vector<std::vector<float>> too_many(3, std::vector<float>(2));
  o.levels = uint64_t{1} << 31;  // 3 clients x 2^31 steps wrap
  auto r = RunSecureAggregation(too_many, o, rng);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("wrap"), std::string::npos);
}

}  // namespace
}  // namespace fedra::secagg
