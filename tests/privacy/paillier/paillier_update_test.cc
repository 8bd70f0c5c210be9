// Paillier in federated use (encrypted_update.h, encrypted_aggregator.h): clients encrypt,
// the bytes are parsed strictly, a server that holds only the public key adds them, and the
// key holder recovers the weighted mean within the documented bound.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <type_traits>
#include <vector>

#include "fedra/core/rng.h"
#include "fedra/core/thread_pool.h"
#include "fedra/privacy/paillier/encrypted_aggregator.h"
#include "fedra/privacy/paillier/encrypted_update.h"
#include "privacy/paillier/test_keys.h"

namespace fedra::paillier {
namespace {

using ::testing::HasSubstr;
using testing::OtherTestKey;
using testing::TestKey;

// The server-side type is built from a PublicKey and nothing converts one into a SecretKey.
static_assert(!std::is_constructible_v<SecretKey, PublicKey>);
static_assert(!std::is_convertible_v<PublicKey, SecretKey>);

constexpr PackingConfig kConfig{
    .max_abs_value = 1.0, .max_weight = 5000, .precision_bits = 16, .max_clients = 10};

struct Client {
  std::vector<float> update;
  uint32_t weight;
};

std::vector<Client> MakeClients(size_t n, size_t dim, uint64_t seed) {
  Rng rng(seed);
  std::vector<Client> clients(n);
  for (Client& c : clients) {
    c.update.resize(dim);
    for (float& v : c.update) v = static_cast<float>(rng.Uniform() * 2 - 1);
    c.update[0] = 1.0f;  // extremes of the range
    c.update[1] = -1.0f;
    c.weight = 1 + static_cast<uint32_t>(rng.UniformInt(kConfig.max_weight));
  }
  return clients;
}

TEST(PaillierUpdateTest, TenClientsWeightedMeanEqualsPlainWithinBound) {
  const SecretKey& key = TestKey();
  const PublicKey& pub = key.public_key();
  const size_t dim = 700;
  const std::vector<Client> clients = MakeClients(10, dim, 17);
  ThreadPool pool(2);
  StatusOr<EncryptedAggregator> server = EncryptedAggregator::Create(pub, kConfig, dim);
  ASSERT_TRUE(server.ok());
  std::vector<double> plain_sum(dim, 0.0);
  double plain_weight = 0;
  for (const Client& c : clients) {
    StatusOr<EncryptedUpdate> u = EncryptUpdate(pub, c.update, c.weight, kConfig, &pool);
    ASSERT_TRUE(u.ok()) << u.status().ToString();
    // Over the wire and back, as a transport would carry it.
    StatusOr<EncryptedUpdate> received = ParseEncryptedUpdate(pub, SerializeEncryptedUpdate(*u));
    ASSERT_TRUE(received.ok()) << received.status().ToString();
    ASSERT_TRUE(server->Add(*received, &pool).ok());
    for (size_t j = 0; j < dim; ++j) plain_sum[j] += c.weight * static_cast<double>(c.update[j]);
    plain_weight += c.weight;
  }
  EXPECT_EQ(server->num_contributions(), 10u);
  StatusOr<EncryptedUpdate> sum = server->Result(&pool);
  ASSERT_TRUE(sum.ok());
  StatusOr<EncryptedUpdate> at_client = ParseEncryptedUpdate(pub, SerializeEncryptedUpdate(*sum));
  ASSERT_TRUE(at_client.ok());
  StatusOr<DecryptedAggregate> agg = DecryptAggregate(key, *at_client, kConfig, &pool);
  ASSERT_TRUE(agg.ok()) << agg.status().ToString();
  EXPECT_EQ(agg->num_contributions, 10u);
  EXPECT_EQ(agg->total_weight, static_cast<uint64_t>(plain_weight));
  const std::vector<double> mean = agg->WeightedMean();
  const double bound = agg->sum_error_bound / plain_weight;
  EXPECT_GT(bound, 0.0);
  EXPECT_LT(bound, 1e-5);
  for (size_t j = 0; j < dim; ++j) {
    EXPECT_NEAR(mean[j], plain_sum[j] / plain_weight, bound) << "coordinate " << j;
  }
}

TEST(PaillierUpdateTest, AggregatorRefusesMoreThanMaxClients) {
  const PublicKey& pub = TestKey().public_key();
  const PackingConfig config{.max_weight = 10, .precision_bits = 8, .max_clients = 2};
  const std::vector<float> v(5, 0.5f);
  const EncryptedUpdate u = *EncryptUpdate(pub, v, 3, config);
  EncryptedAggregator server = *EncryptedAggregator::Create(pub, config, v.size());
  ASSERT_TRUE(server.Add(u).ok());
  ASSERT_TRUE(server.Add(u).ok());
  const Status third = server.Add(u);
  EXPECT_EQ(third.code(), StatusCode::kOutOfRange);
  EXPECT_THAT(third.message(), HasSubstr("max_clients"));
  EXPECT_EQ(server.num_contributions(), 2u);
  // The refused update left the sum as it was.
  StatusOr<DecryptedAggregate> agg = DecryptAggregate(TestKey(), *server.Result(), config);
  ASSERT_TRUE(agg.ok());
  EXPECT_EQ(agg->total_weight, 6u);
  EXPECT_NEAR(agg->weighted_sum[4], 3.0, agg->sum_error_bound);
}

TEST(PaillierUpdateTest, AggregatorRejectsMismatchedUpdatesAndKeepsItsSum) {
  const PublicKey& pub = TestKey().public_key();
  const std::vector<float> v(30, -0.25f);
  const EncryptedUpdate good = *EncryptUpdate(pub, v, 4, kConfig);
  EncryptedAggregator server = *EncryptedAggregator::Create(pub, kConfig, v.size());
  EXPECT_EQ(server.Result().status().code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(server.Add(good).ok());

  const EncryptedUpdate other_key = *EncryptUpdate(OtherTestKey().public_key(), v, 4, kConfig);
  EXPECT_EQ(server.Add(other_key).code(), StatusCode::kFailedPrecondition);
  PackingConfig other_config = kConfig;
  other_config.precision_bits = 10;
  EXPECT_EQ(server.Add(*EncryptUpdate(pub, v, 4, other_config)).code(),
            StatusCode::kFailedPrecondition);
  const std::vector<float> longer(400, 0.0f);
  EXPECT_EQ(server.Add(*EncryptUpdate(pub, longer, 4, kConfig)).code(),
            StatusCode::kInvalidArgument);
  EncryptedUpdate corrupt = good;
  corrupt.ciphertexts.back().bytes.assign(pub.ciphertext_bytes(), 0xff);
  EXPECT_EQ(server.Add(corrupt).code(), StatusCode::kDataLoss);

  ASSERT_TRUE(server.Add(good).ok());
  StatusOr<DecryptedAggregate> agg = DecryptAggregate(TestKey(), *server.Result(), kConfig);
  ASSERT_TRUE(agg.ok());
  EXPECT_EQ(agg->num_contributions, 2u);
  EXPECT_EQ(agg->total_weight, 8u);
  for (double s : agg->weighted_sum) EXPECT_NEAR(s, -2.0, agg->sum_error_bound);
}

TEST(PaillierUpdateTest, EncryptUpdateRejectsOutOfRangeInput) {
  const PublicKey& pub = TestKey().public_key();
  EXPECT_EQ(EncryptUpdate(pub, std::vector<float>{0.1f, 3.0f}, 1, kConfig).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(
      EncryptUpdate(pub, std::vector<float>{0.1f}, kConfig.max_weight + 1, kConfig).status().code(),
      StatusCode::kInvalidArgument);
}

TEST(PaillierUpdateTest, ParseRejectsTruncatedCorruptAndForeignMessages) {
  const PublicKey& pub = TestKey().public_key();
  const EncryptedUpdate u = *EncryptUpdate(pub, std::vector<float>(100, 0.5f), 2, kConfig);
  const std::string bytes = SerializeEncryptedUpdate(u);
  StatusOr<EncryptedUpdate> back = ParseEncryptedUpdate(pub, bytes);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->ciphertexts, u.ciphertexts);
  EXPECT_EQ(back->num_values, 100u);
  EXPECT_EQ(back->packing_fingerprint, u.packing_fingerprint);

  for (size_t len : {size_t{0}, size_t{3}, size_t{20}, size_t{55}, bytes.size() - 1,
                     bytes.size() - pub.ciphertext_bytes()}) {
    StatusOr<EncryptedUpdate> cut = ParseEncryptedUpdate(pub, bytes.substr(0, len));
    EXPECT_EQ(cut.status().code(), StatusCode::kDataLoss) << "length " << len;
  }
  EXPECT_EQ(ParseEncryptedUpdate(pub, bytes + "x").status().code(), StatusCode::kDataLoss);
  std::string bad_magic = bytes;
  bad_magic[0] = 'X';
  EXPECT_THAT(ParseEncryptedUpdate(pub, bad_magic).status().message(), HasSubstr("magic"));
  std::string bad_version = bytes;
  bad_version[4] = 9;
  EXPECT_THAT(ParseEncryptedUpdate(pub, bad_version).status().message(), HasSubstr("version"));
  // A value count no packing could fit into that many ciphertexts (bytes 36..43).
  std::string huge_count = bytes;
  huge_count[43] = '\x7f';
  EXPECT_THAT(ParseEncryptedUpdate(pub, huge_count).status().message(), HasSubstr("claims"));
  std::string no_contributions = bytes;
  no_contributions[32] = '\0';
  EXPECT_EQ(ParseEncryptedUpdate(pub, no_contributions).status().code(), StatusCode::kDataLoss);
  // A value >= n^2 in the last ciphertext.
  std::string too_big = bytes;
  for (size_t i = too_big.size() - pub.ciphertext_bytes(); i < too_big.size(); ++i)
    too_big[i] = '\xff';
  StatusOr<EncryptedUpdate> big = ParseEncryptedUpdate(pub, too_big);
  EXPECT_EQ(big.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(big.status().message(), HasSubstr("n^2"));
  // Under another key: a clear error naming both ids, not garbage.
  StatusOr<EncryptedUpdate> foreign = ParseEncryptedUpdate(OtherTestKey().public_key(), bytes);
  EXPECT_EQ(foreign.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(foreign.status().message(), HasSubstr(KeyIdHex(pub.key_id())));
}

TEST(PaillierUpdateTest, DecryptAggregateRefusesWrongKeyOrPacking) {
  const PublicKey& pub = TestKey().public_key();
  const EncryptedUpdate u = *EncryptUpdate(pub, std::vector<float>(10, 0.5f), 2, kConfig);
  EXPECT_EQ(DecryptAggregate(OtherTestKey(), u, kConfig).status().code(),
            StatusCode::kFailedPrecondition);
  PackingConfig other = kConfig;
  other.max_clients = 3;
  EXPECT_EQ(DecryptAggregate(TestKey(), u, other).status().code(), StatusCode::kFailedPrecondition);
  StatusOr<DecryptedAggregate> ok = DecryptAggregate(TestKey(), u, kConfig);
  ASSERT_TRUE(ok.ok());
  EXPECT_NEAR(ok->WeightedMean()[3], 0.5, ok->sum_error_bound / 2);
}

}  // namespace
}  // namespace fedra::paillier
