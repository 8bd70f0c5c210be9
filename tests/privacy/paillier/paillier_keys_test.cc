// Paillier key generation, encryption (DJN, textbook, CRT), decryption and the homomorphic
// operations, checked against plain arithmetic and against OpenSSL's BN_mod_exp.
#include <openssl/bn.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "fedra/core/rng.h"
#include "fedra/core/thread_pool.h"
#include "fedra/privacy/paillier/public_key.h"
#include "fedra/privacy/paillier/secret_key.h"
#include "privacy/paillier/bn_util.h"
#include "privacy/paillier/fixed_base_table.h"
#include "privacy/paillier/key_impl.h"
#include "privacy/paillier/test_keys.h"

namespace fedra::paillier {
namespace {

using ::testing::HasSubstr;
using testing::kSmallKeys;
using testing::OtherTestKey;
using testing::TestKey;

// m (mod n) as big-endian bytes of the key's width.
BigBytes Plain(const PublicKey& key, int64_t m) {
  internal::BnCtx ctx = internal::NewCtx();
  internal::Bn b = internal::BnFromU64(m < 0 ? 0 - static_cast<uint64_t>(m) : m);
  BN_set_negative(b.get(), m < 0);
  FEDRA_CHECK(BN_nnmod(b.get(), b.get(), key.impl().n.get(), ctx.get()) == 1);
  return internal::ToBytes(b.get(), key.modulus_bytes());
}

// Decrypts and interprets the plaintext as a signed value in (-n/2, n/2).
int64_t DecryptSigned(const SecretKey& key, const Ciphertext& c) {
  StatusOr<BigBytes> m = key.Decrypt(c);
  FEDRA_CHECK(m.ok());
  internal::Bn b = internal::FromBytes(*m);
  internal::Bn half = internal::NewBn();
  FEDRA_CHECK(BN_rshift1(half.get(), key.public_key().impl().n.get()) == 1);
  if (BN_cmp(b.get(), half.get()) > 0) {
    FEDRA_CHECK(BN_sub(b.get(), key.public_key().impl().n.get(), b.get()) == 1);
    return -static_cast<int64_t>(BN_get_word(b.get()));
  }
  return static_cast<int64_t>(BN_get_word(b.get()));
}

TEST(PaillierKeysTest, Generates2048BitKeyWithEqualLengthPrimes) {
  StatusOr<SecretKey> key = GenerateKeyPair();
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(key->public_key().modulus_bits(), 2048);
  EXPECT_EQ(key->public_key().ciphertext_bytes(), 512u);
  EXPECT_EQ(key->p().size(), 128u);
  EXPECT_EQ(key->q().size(), 128u);
  EXPECT_NE(key->p(), key->q());
  const Ciphertext c = key->public_key().EncryptInt(-123456789);
  EXPECT_EQ(DecryptSigned(*key, c), -123456789);
}

TEST(PaillierKeysTest, RejectsUnsupportedSizes) {
  EXPECT_EQ(GenerateKeyPair({.modulus_bits = 1024}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(
      GenerateKeyPair({.modulus_bits = 2047, .allow_small_for_testing = true}).status().code(),
      StatusCode::kInvalidArgument);
  EXPECT_EQ(GenerateKeyPair({.modulus_bits = 4096}).status().code(), StatusCode::kInvalidArgument);
}

TEST(PaillierKeysTest, FromPrimesRejectsBadPrimes) {
  const BigBytes p = {0xff, 0xff, 0xff, 0xef};  // 4294967279, prime
  const BigBytes q = {0xff, 0xff, 0xff, 0xfb};  // 4294967291, prime
  const BigBytes composite = {0xff, 0xff, 0xff, 0xf1};
  const BigBytes short_prime = {0x00, 0x01, 0x00, 0x01};  // 65537: shorter than p
  EXPECT_TRUE(SecretKey::FromPrimes(p, q, kSmallKeys).ok());
  EXPECT_THAT(SecretKey::FromPrimes(p, p, kSmallKeys).status().message(), HasSubstr("equal"));
  EXPECT_THAT(SecretKey::FromPrimes(p, composite, kSmallKeys).status().message(),
              HasSubstr("not prime"));
  EXPECT_THAT(SecretKey::FromPrimes(p, short_prime, kSmallKeys).status().message(),
              HasSubstr("bits"));
}

TEST(PaillierKeysTest, KeyIdDependsOnModulusOnly) {
  const PublicKey& a = TestKey().public_key();
  StatusOr<PublicKey> again = PublicKey::FromModulus(a.modulus(), kSmallKeys);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->key_id(), a.key_id());
  EXPECT_NE(OtherTestKey().key_id(), a.key_id());
  EXPECT_EQ(KeyIdHex(a.key_id()).size(), 32u);
}

TEST(PaillierKeysTest, RoundTripsRandomValuesZeroAndExtremes) {
  const SecretKey& key = TestKey();
  const PublicKey& pub = key.public_key();
  Rng rng(7);
  std::vector<BigBytes> plains;
  plains.push_back(BigBytes(pub.modulus_bytes(), 0));  // 0
  plains.push_back(Plain(pub, 1));
  plains.push_back(Plain(pub, -1));  // n - 1, the largest plaintext
  for (int i = 0; i < 20; ++i) {
    BigBytes m(pub.modulus_bytes());
    for (auto& b : m) b = static_cast<uint8_t>(rng.NextU64());
    m[0] = 0;  // below n
    plains.push_back(m);
  }
  for (const BigBytes& m : plains) {
    for (auto encrypt : {&PublicKey::Encrypt, &PublicKey::EncryptTextbook}) {
      StatusOr<Ciphertext> c = (pub.*encrypt)(m);
      ASSERT_TRUE(c.ok());
      StatusOr<BigBytes> back = key.Decrypt(*c);
      ASSERT_TRUE(back.ok());
      EXPECT_EQ(*back, m);
    }
    StatusOr<Ciphertext> crt = key.EncryptCrt(m);
    ASSERT_TRUE(crt.ok());
    EXPECT_EQ(*key.Decrypt(*crt), m);
  }
}

TEST(PaillierKeysTest, EncryptionIsRandomized) {
  const PublicKey& pub = TestKey().public_key();
  const BigBytes m = Plain(pub, 42);
  EXPECT_NE(pub.Encrypt(m)->bytes, pub.Encrypt(m)->bytes);
  EXPECT_NE(pub.EncryptTextbook(m)->bytes, pub.EncryptTextbook(m)->bytes);
  EXPECT_NE(TestKey().EncryptCrt(m)->bytes, TestKey().EncryptCrt(m)->bytes);
}

TEST(PaillierKeysTest, RejectsPlaintextNotBelowN) {
  const PublicKey& pub = TestKey().public_key();
  const BigBytes n = pub.modulus();
  EXPECT_EQ(pub.Encrypt(n).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(pub.EncryptTextbook(n).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(TestKey().EncryptCrt(n).status().code(), StatusCode::kInvalidArgument);
}

TEST(PaillierKeysTest, HomomorphicPropertiesHoldForRandomValues) {
  const SecretKey& key = TestKey();
  const PublicKey& pub = key.public_key();
  Rng rng(11);
  for (int i = 0; i < 10; ++i) {
    const int64_t a = static_cast<int64_t>(rng.UniformInt(2000000)) - 1000000;
    const int64_t b = static_cast<int64_t>(rng.UniformInt(2000000)) - 1000000;
    const int64_t k = static_cast<int64_t>(rng.UniformInt(2000)) - 1000;
    const Ciphertext ca = pub.EncryptInt(a);
    const Ciphertext cb = pub.EncryptInt(b);
    EXPECT_EQ(DecryptSigned(key, *pub.Add(ca, cb)), a + b);
    EXPECT_EQ(DecryptSigned(key, *pub.AddPlainInt(ca, b)), a + b);
    EXPECT_EQ(DecryptSigned(key, *pub.MulScalarInt(ca, k)), a * k);
    const Ciphertext fresh = *pub.Rerandomize(ca);
    EXPECT_NE(fresh.bytes, ca.bytes);
    EXPECT_EQ(DecryptSigned(key, fresh), a);
  }
  // Multiplying by zero gives a randomized encryption of zero, not the constant 1.
  const Ciphertext zero = *pub.MulScalarInt(pub.EncryptInt(5), 0);
  EXPECT_EQ(DecryptSigned(key, zero), 0);
  internal::Bn z = internal::FromBytes(zero.bytes);
  EXPECT_FALSE(BN_is_one(z.get()));
}

TEST(PaillierKeysTest, BatchOperationsMatchSingleOnesOnAnyThreadCount) {
  const SecretKey& key = TestKey();
  const PublicKey& pub = key.public_key();
  std::vector<BigBytes> plains;
  for (int i = 0; i < 9; ++i) plains.push_back(Plain(pub, i * 1000 - 4000));
  ThreadPool pool(3);
  for (ThreadPool* p : {static_cast<ThreadPool*>(nullptr), &pool}) {
    StatusOr<std::vector<Ciphertext>> cs = pub.EncryptBatch(plains, p);
    ASSERT_TRUE(cs.ok());
    StatusOr<std::vector<Ciphertext>> doubled = pub.AddBatch(*cs, *cs, p);
    ASSERT_TRUE(doubled.ok());
    StatusOr<std::vector<BigBytes>> back = key.DecryptBatch(*cs, p);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, plains);
    for (size_t i = 0; i < plains.size(); ++i) {
      EXPECT_EQ(DecryptSigned(key, (*doubled)[i]), 2 * (static_cast<int64_t>(i) * 1000 - 4000));
    }
  }
  const std::vector<Ciphertext> one(1, pub.EncryptInt(1));
  EXPECT_EQ(pub.AddBatch(one, std::vector<Ciphertext>{}).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(PaillierKeysTest, InvalidCiphertextsAreRejectedNotDecrypted) {
  const SecretKey& key = TestKey();
  const PublicKey& pub = key.public_key();
  const Ciphertext good = pub.EncryptInt(3);
  Ciphertext short_one = good;
  short_one.bytes.pop_back();
  EXPECT_EQ(key.Decrypt(short_one).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(key.Decrypt(Ciphertext{BigBytes(pub.ciphertext_bytes(), 0)}).status().code(),
            StatusCode::kDataLoss);
  EXPECT_EQ(key.Decrypt(Ciphertext{BigBytes(pub.ciphertext_bytes(), 0xff)}).status().code(),
            StatusCode::kDataLoss);  // >= n^2
  // A ciphertext of the other (same-size) key has the right length but the wrong n^2 at best:
  // the per-batch key id (encrypted_update.h) is what catches it; here it must not crash.
  const Ciphertext other = OtherTestKey().public_key().EncryptInt(3);
  EXPECT_EQ(pub.Add(good, short_one).status().code(), StatusCode::kDataLoss);
  (void)key.Decrypt(other);
}

TEST(PaillierKeysTest, FixedBaseTableMatchesModExpForEveryWindow) {
  internal::BnCtx ctx = internal::NewCtx();
  const internal::PublicKeyImpl& k = TestKey().public_key().impl();
  internal::Bn e = internal::NewBn();
  internal::Bn want = internal::NewBn();
  internal::Bn got = internal::NewBn();
  for (int window : {1, 3, 4, 5, 8}) {
    internal::FixedBaseTable table(k.hs.get(), k.n2.get(), k.mont_n2.get(), 200, window, ctx.get());
    for (int trial = 0; trial < 5; ++trial) {
      ASSERT_EQ(BN_rand(e.get(), 200, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY), 1);
      if (trial == 0) BN_zero(e.get());
      if (trial == 1) {
        ASSERT_EQ(BN_set_word(e.get(), 1), 1);
      }
      ASSERT_EQ(BN_mod_exp(want.get(), k.hs.get(), e.get(), k.n2.get(), ctx.get()), 1);
      table.PowMont(e.get(), got.get(), ctx.get());
      ASSERT_EQ(BN_from_montgomery(got.get(), got.get(), k.mont_n2.get(), ctx.get()), 1);
      EXPECT_EQ(BN_cmp(want.get(), got.get()), 0) << "window " << window << " trial " << trial;
    }
  }
}

TEST(PaillierKeysTest, PublicKeyRejectsBadModulusAndOptions) {
  EXPECT_EQ(PublicKey::FromModulus(BigBytes{0x01, 0x00}).status().code(),
            StatusCode::kInvalidArgument);
  BigBytes even = TestKey().public_key().modulus();
  even.back() &= 0xfe;
  EXPECT_EQ(PublicKey::FromModulus(even).status().code(), StatusCode::kInvalidArgument);
  const BigBytes n = TestKey().public_key().modulus();
  EXPECT_EQ(PublicKey::FromModulus(n, {.alpha_bits = 64}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(PublicKey::FromModulus(n, {.window_bits = 9}).status().code(),
            StatusCode::kInvalidArgument);
}

// Loading checks what key generation checks: 2048 or 3072 bits (small keys only with
// allow_small_for_testing), and an n that can be a product of two large primes.
TEST(PaillierKeysTest, LoadedKeysMeetTheGeneratedKeysRequirements) {
  const BigBytes n1024 = TestKey().public_key().modulus();
  StatusOr<PublicKey> small = PublicKey::FromModulus(n1024);
  EXPECT_EQ(small.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(small.status().message(), HasSubstr("expected 2048 or 3072"));
  EXPECT_TRUE(PublicKey::FromModulus(n1024, kSmallKeys).ok());
  EXPECT_FALSE(SecretKey::FromPrimes(TestKey().p(), TestKey().q()).ok());
  EXPECT_FALSE(
      SecretKey::FromPrimes(BigBytes{0xff, 0xff, 0xff, 0xef}, BigBytes{0xff, 0xff, 0xff, 0xfb})
          .ok());  // 32-bit primes
  // A prime n: p of the test key is a 512-bit prime.
  StatusOr<PublicKey> prime = PublicKey::FromModulus(TestKey().p(), kSmallKeys);
  EXPECT_EQ(prime.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(prime.status().message(), HasSubstr("is prime"));
  // n = 3 * (an odd number) has a small factor.
  internal::BnCtx ctx = internal::NewCtx();
  internal::Bn x = internal::FromBytes(n1024);
  ASSERT_EQ(BN_mul_word(x.get(), 3), 1);
  StatusOr<PublicKey> factor = PublicKey::FromModulus(
      internal::ToBytes(x.get(), static_cast<size_t>(BN_num_bytes(x.get()))), kSmallKeys);
  EXPECT_THAT(factor.status().message(), HasSubstr("small factor 3"));
}

// c = n, c = p, c = k q and c = 0 mod p are not ciphertexts: decryption refuses them (the CRT
// halves would be zero and the result garbage) instead of answering.
TEST(PaillierKeysTest, DecryptionRefusesCiphertextsSharingAFactorWithN) {
  const SecretKey& key = TestKey();
  const PublicKey& pub = key.public_key();
  internal::BnCtx ctx = internal::NewCtx();
  internal::Bn p = internal::FromBytes(key.p());
  internal::Bn q = internal::FromBytes(key.q());
  internal::Bn n = internal::FromBytes(pub.modulus());
  internal::Bn kq = internal::NewBn();
  ASSERT_EQ(BN_mul(kq.get(), q.get(), internal::BnFromU64(123457).get(), ctx.get()), 1);
  for (const BIGNUM* bad : {n.get(), p.get(), q.get(), kq.get()}) {
    const Ciphertext c{internal::ToBytes(bad, pub.ciphertext_bytes())};
    StatusOr<BigBytes> m = key.Decrypt(c);
    EXPECT_EQ(m.status().code(), StatusCode::kDataLoss);
    EXPECT_THAT(m.status().message(), HasSubstr("shares a factor with n"));
    const std::vector<Ciphertext> batch = {pub.EncryptInt(1), c};
    EXPECT_EQ(key.DecryptBatch(batch).status().code(), StatusCode::kDataLoss);
  }
  // c = 1 is E(0) with r = 1: a valid ciphertext.
  internal::Bn one = internal::BnFromU64(1);
  EXPECT_EQ(*key.Decrypt(Ciphertext{internal::ToBytes(one.get(), pub.ciphertext_bytes())}),
            Plain(pub, 0));
}

// The blinded CRT decryption at the plaintexts where m mod p and m mod q are degenerate
// (0, below p, p, q, n - 1), many times (each with a fresh blind).
TEST(PaillierKeysTest, BlindedDecryptionIsExactAtDegeneratePlaintexts) {
  const SecretKey& key = TestKey();
  const PublicKey& pub = key.public_key();
  internal::BnCtx ctx = internal::NewCtx();
  internal::Bn n = internal::FromBytes(pub.modulus());
  internal::Bn nm1 = internal::CopyBn(n.get());
  ASSERT_EQ(BN_sub_word(nm1.get(), 1), 1);
  const BigBytes n_minus_1 = internal::ToBytes(nm1.get(), pub.modulus_bytes());
  // p and q, left-padded to the plaintext width.
  auto padded = [&](const BigBytes& x) {
    BigBytes out(pub.modulus_bytes() - x.size(), 0);
    out.insert(out.end(), x.begin(), x.end());
    return out;
  };
  const BigBytes p = padded(key.p()), q = padded(key.q());
  const std::vector<BigBytes> plains = {Plain(pub, 0), Plain(pub, 1), Plain(pub, 65537), p, q,
                                        n_minus_1};
  for (const BigBytes& m : plains) {
    const Ciphertext c = *pub.Encrypt(m);
    for (int i = 0; i < 20; ++i) ASSERT_EQ(*key.Decrypt(c), m);
  }
}

}  // namespace
}  // namespace fedra::paillier
