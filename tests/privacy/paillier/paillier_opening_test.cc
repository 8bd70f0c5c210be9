// Verifiable decryption (opening.h): an opening of a real ciphertext always verifies, and the
// plaintext an opening claims cannot be changed, by one or by a planted target, without the
// public-key check noticing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fedra/core/thread_pool.h"
#include "fedra/privacy/paillier/encrypted_aggregator.h"
#include "fedra/privacy/paillier/encrypted_update.h"
#include "fedra/privacy/paillier/opening.h"
#include "privacy/paillier/test_keys.h"

namespace fedra::paillier {
namespace {

using ::testing::HasSubstr;
using testing::OtherTestKey;
using testing::TestKey;

std::vector<Ciphertext> SomeCiphertexts(const PublicKey& pub, size_t count) {
  std::vector<Ciphertext> cs;
  for (size_t i = 0; i < count; ++i) {
    // Both encryptions (DJN and textbook) and sums of them: what a server's total holds.
    const Ciphertext a = pub.EncryptInt(static_cast<int64_t>(i * 7919) - 300);
    const Ciphertext b = *pub.EncryptTextbook(BigBytes(pub.modulus_bytes(), uint8_t(i)));
    cs.push_back(i % 2 == 0 ? a : *pub.Add(a, b));
  }
  return cs;
}

// (1 + m n) r^n mod n^2, textbook, from the opening alone: the equation the opening claims.
TEST(PaillierOpeningTest, OpeningsRecoverThePlaintextAndVerify) {
  const SecretKey& key = TestKey();
  const PublicKey& pub = key.public_key();
  ThreadPool pool(2);
  const std::vector<Ciphertext> cs = SomeCiphertexts(pub, 9);
  StatusOr<std::vector<Opening>> open = OpenBatch(key, cs, &pool);
  ASSERT_TRUE(open.ok()) << open.status().ToString();
  ASSERT_EQ(open->size(), cs.size());
  for (size_t i = 0; i < cs.size(); ++i) {
    EXPECT_EQ((*open)[i].m, *key.Decrypt(cs[i])) << i;
    ASSERT_EQ((*open)[i].r.size(), pub.modulus_bytes());
  }
  EXPECT_TRUE(VerifyOpenings(pub, cs, *open, &pool).ok());
  EXPECT_TRUE(VerifyOpenings(pub, cs, *open).ok());  // same answer without a pool
  // Round trip through the wire form.
  StatusOr<std::vector<Opening>> back =
      ParseOpenings(pub, SerializeOpenings(pub, *open), cs.size());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, *open);
}

TEST(PaillierOpeningTest, AnyChangedPlaintextIsRefused) {
  const SecretKey& key = TestKey();
  const PublicKey& pub = key.public_key();
  const std::vector<Ciphertext> cs = SomeCiphertexts(pub, 6);
  const std::vector<Opening> honest = *OpenBatch(key, cs);
  for (size_t i = 0; i < cs.size(); ++i) {
    for (size_t byte : {pub.modulus_bytes() - 1, pub.modulus_bytes() / 2}) {
      std::vector<Opening> forged = honest;
      forged[i].m[byte] ^= 1;  // m +/- a power of two, still below n
      const Status s = VerifyOpenings(pub, cs, forged);
      // A flip in the middle may push a plaintext near n past it: refused as out of range.
      if (byte + 1 == pub.modulus_bytes() || s.code() != StatusCode::kInvalidArgument) {
        EXPECT_EQ(s.code(), StatusCode::kDataLoss) << i << " " << byte;
        EXPECT_THAT(s.message(), HasSubstr("does not match"));
      } else {
        EXPECT_THAT(s.message(), HasSubstr("not below n"));
      }
    }
  }
  // A planted plaintext with the randomness of the real one, or a swapped pair of openings.
  std::vector<Opening> planted = honest;
  planted[2].m = *key.Decrypt(pub.EncryptInt(42));
  EXPECT_FALSE(VerifyOpenings(pub, cs, planted).ok());
  std::vector<Opening> swapped = honest;
  std::swap(swapped[0], swapped[1]);
  EXPECT_FALSE(VerifyOpenings(pub, cs, swapped).ok());
}

TEST(PaillierOpeningTest, MalformedOpeningsAreRefusedWithAReason) {
  const SecretKey& key = TestKey();
  const PublicKey& pub = key.public_key();
  const std::vector<Ciphertext> cs = SomeCiphertexts(pub, 3);
  const std::vector<Opening> honest = *OpenBatch(key, cs);
  std::vector<Opening> fewer(honest.begin(), honest.begin() + 2);
  EXPECT_EQ(VerifyOpenings(pub, cs, fewer).code(), StatusCode::kInvalidArgument);
  std::vector<Opening> big_m = honest;
  big_m[0].m = pub.modulus();  // m = n
  EXPECT_THAT(VerifyOpenings(pub, cs, big_m).message(), HasSubstr("not below n"));
  std::vector<Opening> zero_r = honest;
  zero_r[1].r.assign(pub.modulus_bytes(), 0);
  EXPECT_THAT(VerifyOpenings(pub, cs, zero_r).message(), HasSubstr("[1, n)"));
  std::vector<Opening> short_r = honest;
  short_r[2].r.pop_back();
  EXPECT_EQ(VerifyOpenings(pub, cs, short_r).code(), StatusCode::kInvalidArgument);
  const std::string wire = SerializeOpenings(pub, honest);
  EXPECT_FALSE(ParseOpenings(pub, wire.substr(1), 3).ok());
  EXPECT_FALSE(ParseOpenings(pub, wire, 4).ok());
  EXPECT_FALSE(ParseOpenings(pub, wire, SIZE_MAX / 2).ok());
  // Openings under another key do not verify.
  const std::vector<Opening> other =
      *OpenBatch(OtherTestKey(), SomeCiphertexts(OtherTestKey().public_key(), 3));
  EXPECT_FALSE(VerifyOpenings(pub, cs, other).ok());
}

TEST(PaillierOpeningTest, VerifiedAggregateEqualsTheDecryptedOneAndAForgedOneIsRefused) {
  const SecretKey& key = TestKey();
  const PublicKey& pub = key.public_key();
  const PackingConfig config{
      .max_abs_value = 1.0, .max_weight = 100, .precision_bits = 16, .max_clients = 4};
  const std::vector<float> a(50, 0.25f), b(50, -0.5f);
  EncryptedAggregator server = *EncryptedAggregator::Create(pub, config, a.size());
  ASSERT_TRUE(server.Add(*EncryptUpdate(pub, a, 3, config)).ok());
  ASSERT_TRUE(server.Add(*EncryptUpdate(pub, b, 5, config)).ok());
  const EncryptedUpdate total = *server.Result();
  const DecryptedAggregate plain = *DecryptAggregate(key, total, config);
  StatusOr<std::vector<Opening>> open = OpenAggregate(key, total, config);
  ASSERT_TRUE(open.ok()) << open.status().ToString();
  StatusOr<DecryptedAggregate> verified = VerifyAndUnpackAggregate(pub, total, config, *open);
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_EQ(verified->weighted_sum, plain.weighted_sum);
  EXPECT_EQ(verified->total_weight, 8u);
  // The attack of a decryptor that wants the model: the plaintext of another total (here one
  // client's own update, encrypted by the attacker) with the randomness it has to invent.
  const EncryptedUpdate target = *EncryptUpdate(pub, std::vector<float>(50, 1.0f), 8, config);
  const EncryptedUpdate target_total = [&] {
    EncryptedAggregator t = *EncryptedAggregator::Create(pub, config, a.size());
    EXPECT_TRUE(t.Add(target).ok());
    return *t.Result();
  }();
  std::vector<Opening> forged = *OpenAggregate(key, target_total, config);
  ASSERT_EQ(forged.size(), open->size());
  const Status refused = VerifyAndUnpackAggregate(pub, total, config, forged).status();
  EXPECT_EQ(refused.code(), StatusCode::kDataLoss) << refused.ToString();
  // Wrong key or packing: refused before any arithmetic, on both sides.
  EXPECT_EQ(OpenAggregate(OtherTestKey(), total, config).status().code(),
            StatusCode::kFailedPrecondition);
  PackingConfig other = config;
  other.precision_bits = 12;
  EXPECT_EQ(VerifyAndUnpackAggregate(pub, total, other, *open).status().code(),
            StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace fedra::paillier
