// Key-holder DJN encryption via CRT (SecretKey::Encrypt, EncryptBatch, EncryptUpdate with a
// SecretKey): the same ciphertexts as the public formula for the same alpha, decryptable by
// every decryption path, mixable with public ciphertexts, and the same federated sums.
#include <openssl/bn.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "fedra/core/rng.h"
#include "fedra/core/thread_pool.h"
#include "fedra/privacy/paillier/encrypted_aggregator.h"
#include "fedra/privacy/paillier/encrypted_update.h"
#include "fedra/privacy/paillier/public_key.h"
#include "fedra/privacy/paillier/secret_key.h"
#include "privacy/paillier/bn_util.h"
#include "privacy/paillier/key_impl.h"
#include "privacy/paillier/test_keys.h"

namespace fedra::paillier {
namespace {

using testing::kSmallKeys;
using testing::TestKey;

BigBytes RandomPlain(const PublicKey& pub, Rng& rng) {
  BigBytes m(pub.modulus_bytes());
  for (auto& b : m) b = static_cast<uint8_t>(rng.NextU64());
  m[0] = 0;  // below n
  return m;
}

// 0, 1, n - 1 and random plaintexts.
std::vector<BigBytes> TestPlains(const PublicKey& pub, int random, uint64_t seed) {
  Rng rng(seed);
  std::vector<BigBytes> plains;
  plains.push_back(BigBytes(pub.modulus_bytes(), 0));
  BigBytes one(pub.modulus_bytes(), 0);
  one.back() = 1;
  plains.push_back(one);
  internal::Bn nm1 = internal::CopyBn(pub.impl().n.get());
  FEDRA_CHECK(BN_sub_word(nm1.get(), 1) == 1);
  plains.push_back(internal::ToBytes(nm1.get(), pub.modulus_bytes()));
  for (int i = 0; i < random; ++i) plains.push_back(RandomPlain(pub, rng));
  return plains;
}

// Paillier's original decryption m = L(c^lambda mod n^2) mu mod n with lambda = (p-1)(q-1),
// mu = lambda^-1 mod n: shares no code with SecretKey::Decrypt's CRT path.
BigBytes DecryptWithLambda(const SecretKey& key, const Ciphertext& c) {
  const internal::PublicKeyImpl& pub = key.public_key().impl();
  const internal::SecretKeyImpl& s = key.impl();
  internal::BnCtx ctx = internal::NewCtx();
  internal::Bn lambda = internal::NewBn();
  internal::Bn mu = internal::NewBn();
  internal::Bn u = internal::NewBn();
  FEDRA_CHECK(BN_mul(lambda.get(), s.pm1.get(), s.qm1.get(), ctx.get()) == 1);
  FEDRA_CHECK(BN_mod_inverse(mu.get(), lambda.get(), pub.n.get(), ctx.get()) != nullptr);
  internal::Bn cb = internal::FromBytes(c.bytes);
  FEDRA_CHECK(BN_mod_exp(u.get(), cb.get(), lambda.get(), pub.n2.get(), ctx.get()) == 1);
  FEDRA_CHECK(BN_sub_word(u.get(), 1) == 1);
  FEDRA_CHECK(BN_div(u.get(), nullptr, u.get(), pub.n.get(), ctx.get()) == 1);
  FEDRA_CHECK(BN_mod_mul(u.get(), u.get(), mu.get(), pub.n.get(), ctx.get()) == 1);
  return internal::ToBytes(u.get(), pub.n_bytes);
}

TEST(PaillierCrtEncryptTest, RoundTripsZeroOneNMinusOneAndRandomValues) {
  const SecretKey& key = TestKey();
  for (const BigBytes& m : TestPlains(key.public_key(), 20, 3)) {
    StatusOr<Ciphertext> c = key.Encrypt(m);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    EXPECT_TRUE(key.public_key().Validate(*c).ok());
    StatusOr<BigBytes> back = key.Decrypt(*c);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, m);
    EXPECT_EQ(DecryptWithLambda(key, *c), m);
  }
}

TEST(PaillierCrtEncryptTest, EqualsThePublicFormulaForTheSameAlpha) {
  // (1 + m n) h_s^alpha mod n^2 computed directly modulo n^2, against the CRT path with the same
  // alpha: equal values for equal alpha, and alpha comes from the same RandomAlpha, so CRT and
  // public ciphertexts have exactly the same distribution. Also for non-default windows and
  // alpha lengths, and for the alphas at the ends of the range.
  const SecretKey& base = TestKey();
  Rng rng(5);
  for (const PublicKeyOptions options :
       {kSmallKeys,
        PublicKeyOptions{.alpha_bits = 130, .window_bits = 1, .allow_small_for_testing = true},
        PublicKeyOptions{.alpha_bits = 300, .window_bits = 3, .allow_small_for_testing = true},
        PublicKeyOptions{.alpha_bits = 1024, .window_bits = 8, .allow_small_for_testing = true}}) {
    StatusOr<SecretKey> key = SecretKey::FromPrimes(base.p(), base.q(), options);
    ASSERT_TRUE(key.ok()) << key.status().ToString();
    const internal::PublicKeyImpl& pub = key->public_key().impl();
    internal::BnCtx ctx = internal::NewCtx();
    internal::Bn alpha = internal::NewBn();
    internal::Bn want = internal::NewBn();
    internal::Bn got = internal::NewBn();
    internal::Bn x = internal::NewBn();
    for (int trial = 0; trial < 6; ++trial) {
      internal::RandomAlpha(pub, alpha.get(), ctx.get());
      if (trial == 0) BN_zero(alpha.get());
      if (trial == 1) {  // 2^alpha_bits - 1
        ASSERT_EQ(BN_set_word(alpha.get(), 0), 1);
        ASSERT_EQ(BN_set_bit(alpha.get(), options.alpha_bits), 1);
        ASSERT_EQ(BN_sub_word(alpha.get(), 1), 1);
      }
      const internal::Bn m = internal::FromBytes(RandomPlain(key->public_key(), rng));
      ASSERT_EQ(BN_mod_exp(want.get(), pub.hs.get(), alpha.get(), pub.n2.get(), ctx.get()), 1);
      ASSERT_EQ(BN_mul(x.get(), m.get(), pub.n.get(), ctx.get()), 1);
      ASSERT_EQ(BN_add_word(x.get(), 1), 1);
      ASSERT_EQ(BN_mod_mul(want.get(), want.get(), x.get(), pub.n2.get(), ctx.get()), 1);
      internal::DjnCrtBn(key->impl(), m.get(), alpha.get(), got.get(), ctx.get());
      EXPECT_EQ(BN_cmp(want.get(), got.get()), 0)
          << "alpha_bits " << options.alpha_bits << " window " << options.window_bits << " trial "
          << trial;
    }
  }
}

TEST(PaillierCrtEncryptTest, WorksForModuliThatAreNotAMultipleOfEightWords) {
  // The table scan goes eight words at a time with a word-by-word tail: a 64-bit n (p^2 of one
  // word, n^2 of two) and a 704-bit n (p^2 of 11 words) take the tail, in both the CRT and the
  // public tables.
  StatusOr<SecretKey> tiny = SecretKey::FromPrimes(BigBytes{0xff, 0xff, 0xff, 0xef},
                                                   BigBytes{0xff, 0xff, 0xff, 0xfb}, kSmallKeys);
  ASSERT_TRUE(tiny.ok());
  StatusOr<SecretKey> odd = GenerateKeyPair({.modulus_bits = 704, .allow_small_for_testing = true});
  ASSERT_TRUE(odd.ok());
  for (const SecretKey* key : {&*tiny, &*odd}) {
    const PublicKey& pub = key->public_key();
    for (const BigBytes& m : TestPlains(pub, 5, 17)) {
      EXPECT_EQ(*key->Decrypt(*key->Encrypt(m)), m);
      EXPECT_EQ(*key->Decrypt(*pub.Encrypt(m)), m);
      EXPECT_EQ(DecryptWithLambda(*key, *key->Encrypt(m)), m);
    }
    internal::BnCtx ctx = internal::NewCtx();
    internal::Bn alpha = internal::NewBn();
    internal::Bn want = internal::NewBn();
    internal::Bn got = internal::NewBn();
    const internal::Bn m = internal::FromBytes(TestPlains(pub, 0, 1)[2]);  // n - 1
    internal::RandomAlpha(pub.impl(), alpha.get(), ctx.get());
    ASSERT_EQ(
        BN_mod_exp(want.get(), pub.impl().hs.get(), alpha.get(), pub.impl().n2.get(), ctx.get()),
        1);
    // (1 + (n - 1) n) = 1 - n mod n^2
    internal::Bn x = internal::NewBn();
    ASSERT_EQ(BN_sub(x.get(), pub.impl().n2.get(), pub.impl().n.get()), 1);
    ASSERT_EQ(BN_add_word(x.get(), 1), 1);
    ASSERT_EQ(BN_mod_mul(want.get(), want.get(), x.get(), pub.impl().n2.get(), ctx.get()), 1);
    internal::DjnCrtBn(key->impl(), m.get(), alpha.get(), got.get(), ctx.get());
    EXPECT_EQ(BN_cmp(want.get(), got.get()), 0) << pub.modulus_bits() << "-bit n";
  }
}

TEST(PaillierCrtEncryptTest, IsRandomizedAndRejectsPlaintextNotBelowN) {
  const SecretKey& key = TestKey();
  const BigBytes m = TestPlains(key.public_key(), 1, 9).back();
  const Ciphertext a = *key.Encrypt(m);
  const Ciphertext b = *key.Encrypt(m);
  EXPECT_NE(a.bytes, b.bytes);
  EXPECT_EQ(*key.Decrypt(a), *key.Decrypt(b));
  EXPECT_EQ(key.Encrypt(key.public_key().modulus()).status().code(), StatusCode::kInvalidArgument);
  const std::vector<BigBytes> with_n = {m, key.public_key().modulus()};
  EXPECT_EQ(key.EncryptBatch(with_n).status().code(), StatusCode::kInvalidArgument);
}

TEST(PaillierCrtEncryptTest, AddsToPublicCiphertexts) {
  const SecretKey& key = TestKey();
  const PublicKey& pub = key.public_key();
  Rng rng(13);
  for (int i = 0; i < 8; ++i) {
    const uint64_t a = rng.NextU64() >> 2;
    const uint64_t b = rng.NextU64() >> 2;
    BigBytes ma(pub.modulus_bytes(), 0);
    BigBytes mb(pub.modulus_bytes(), 0);
    for (int k = 0; k < 8; ++k) {
      ma[ma.size() - 1 - k] = static_cast<uint8_t>(a >> (8 * k));
      mb[mb.size() - 1 - k] = static_cast<uint8_t>(b >> (8 * k));
    }
    StatusOr<Ciphertext> sum = pub.Add(*key.Encrypt(ma), *pub.Encrypt(mb));
    ASSERT_TRUE(sum.ok());
    const BigBytes plain = *key.Decrypt(*sum);
    internal::Bn got = internal::FromBytes(plain);
    EXPECT_EQ(BN_get_word(got.get()), a + b);
  }
  // n - 1 (CRT) + 1 (public) wraps to 0.
  const std::vector<BigBytes> ends = TestPlains(pub, 0, 1);  // 0, 1, n - 1
  StatusOr<Ciphertext> wrap = pub.Add(*key.Encrypt(ends[2]), *pub.Encrypt(ends[1]));
  ASSERT_TRUE(wrap.ok());
  EXPECT_EQ(*key.Decrypt(*wrap), ends[0]);
}

TEST(PaillierCrtEncryptTest, BatchMatchesSingleOnAnyThreadCount) {
  const SecretKey& key = TestKey();
  const std::vector<BigBytes> plains = TestPlains(key.public_key(), 8, 21);
  ThreadPool pool(3);
  for (ThreadPool* p : {static_cast<ThreadPool*>(nullptr), &pool}) {
    StatusOr<std::vector<Ciphertext>> cs = key.EncryptBatch(plains, p);
    ASSERT_TRUE(cs.ok());
    ASSERT_EQ(cs->size(), plains.size());
    StatusOr<std::vector<BigBytes>> back = key.DecryptBatch(*cs, p);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, plains);
  }
  StatusOr<std::vector<Ciphertext>> none = key.EncryptBatch({});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

constexpr PackingConfig kConfig{
    .max_abs_value = 1.0, .max_weight = 5000, .precision_bits = 16, .max_clients = 10};

TEST(PaillierCrtEncryptTest, SecretKeyUpdatesAggregateToTheSameSumsAsPublicOnes) {
  const SecretKey& key = TestKey();
  const PublicKey& pub = key.public_key();
  const size_t dim = 500;
  Rng rng(31);
  ThreadPool pool(2);
  std::vector<std::vector<float>> updates(4, std::vector<float>(dim));
  std::vector<uint32_t> weights;
  for (auto& u : updates) {
    for (float& v : u) v = static_cast<float>(rng.Uniform() * 2 - 1);
    u[0] = 1.0f;
    u[1] = -1.0f;
    weights.push_back(1 + static_cast<uint32_t>(rng.UniformInt(kConfig.max_weight)));
  }
  // Three servers: all clients public, all CRT, and mixed (even clients CRT).
  std::vector<DecryptedAggregate> results;
  for (int mode = 0; mode < 3; ++mode) {
    EncryptedAggregator server = *EncryptedAggregator::Create(pub, kConfig, dim);
    for (size_t i = 0; i < updates.size(); ++i) {
      const bool crt = mode == 1 || (mode == 2 && i % 2 == 0);
      StatusOr<EncryptedUpdate> u =
          crt ? EncryptUpdate(key, updates[i], weights[i], kConfig, &pool)
              : EncryptUpdate(pub, updates[i], weights[i], kConfig, &pool);
      ASSERT_TRUE(u.ok()) << u.status().ToString();
      const std::string wire = SerializeEncryptedUpdate(*u);
      if (crt) {
        // The same header and size as a public-key update of the same input.
        const std::string public_wire =
            SerializeEncryptedUpdate(*EncryptUpdate(pub, updates[i], weights[i], kConfig));
        ASSERT_EQ(wire.size(), public_wire.size());
        EXPECT_EQ(wire.substr(0, 56), public_wire.substr(0, 56));  // the header
        EXPECT_NE(wire, public_wire);
      }
      StatusOr<EncryptedUpdate> received = ParseEncryptedUpdate(pub, wire);
      ASSERT_TRUE(received.ok()) << received.status().ToString();
      ASSERT_TRUE(server.Add(*received, &pool).ok());
    }
    StatusOr<DecryptedAggregate> agg = DecryptAggregate(key, *server.Result(&pool), kConfig, &pool);
    ASSERT_TRUE(agg.ok()) << agg.status().ToString();
    results.push_back(*agg);
  }
  for (int mode = 1; mode < 3; ++mode) {
    EXPECT_EQ(results[mode].total_weight, results[0].total_weight);
    EXPECT_EQ(results[mode].num_contributions, 4u);
    // The packed integer sums are exact, so the decoded sums are bit-identical.
    EXPECT_EQ(results[mode].weighted_sum, results[0].weighted_sum) << "mode " << mode;
  }
  double plain0 = 0;
  for (size_t i = 0; i < updates.size(); ++i) plain0 += weights[i] * 1.0;
  EXPECT_NEAR(results[1].weighted_sum[0], plain0, results[1].sum_error_bound);
}

TEST(PaillierCrtEncryptTest, SecretKeyEncryptUpdateRejectsOutOfRangeInput) {
  const std::vector<float> bad = {0.5f, 2.0f};
  EXPECT_EQ(EncryptUpdate(TestKey(), bad, 1, kConfig).status().code(),
            StatusCode::kInvalidArgument);
  const std::vector<float> ok = {0.5f, -0.5f};
  EXPECT_EQ(EncryptUpdate(TestKey(), ok, 0, kConfig).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace fedra::paillier
