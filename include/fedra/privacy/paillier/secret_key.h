// Paillier secret key: the primes p, q with the CRT precomputation used to decrypt
// (p^2, q^2, h_p = L_p(g^(p-1) mod p^2)^-1 mod p, h_q likewise, q^-1 mod p) and to encrypt
// faster than the public path (fixed-base tables of the public key's h_s modulo p^2 and q^2,
// about as large as the public key's table). Also key generation.
//
// Decryption computes m_p = L_p(c^(p-1) mod p^2) h_p mod p and m_q likewise, with
// BN_mod_exp_mont_consttime and one cached Montgomery context per modulus, then recombines
// by CRT: two half-size exponentiations instead of one of lambda modulo n^2.
//
// Thread-safety: immutable after creation; every const method may be called concurrently.
// Copies share the (immutable) secret state; it is wiped when the last copy goes away.
#ifndef FEDRA_PRIVACY_PAILLIER_SECRET_KEY_H_
#define FEDRA_PRIVACY_PAILLIER_SECRET_KEY_H_

#include <memory>
#include <span>
#include <vector>

#include "fedra/core/status.h"
#include "fedra/core/thread_pool.h"
#include "fedra/privacy/paillier/public_key.h"

namespace fedra::paillier {

namespace internal {
struct SecretKeyImpl;
}  // namespace internal

struct KeyGenOptions {
  // Bits of n: 2048 (default) or 3072.
  int modulus_bits = 2048;
  // Also accept any multiple of 64 in [256, 1536]: fast keys for tests, never for real data.
  bool allow_small_for_testing = false;
  PublicKeyOptions public_options;
};

class SecretKey {
 public:
  // The key for primes p != q of equal bit length (big-endian). InvalidArgument if they are not
  // (probable) primes, differ in length, or n = p q is refused by PublicKey::FromModulus (so
  // each prime has 1024 or 1536 bits unless options.allow_small_for_testing).
  static StatusOr<SecretKey> FromPrimes(std::span<const uint8_t> p, std::span<const uint8_t> q,
                                        const PublicKeyOptions& options = {});

  const PublicKey& public_key() const;
  const KeyId& key_id() const { return public_key().key_id(); }

  // The plaintext in [0, n), big-endian, public_key().modulus_bytes() long. DataLoss if `c` is
  // not a valid ciphertext for this key.
  StatusOr<BigBytes> Decrypt(const Ciphertext& c) const;
  StatusOr<std::vector<BigBytes>> DecryptBatch(std::span<const Ciphertext> cs,
                                               ThreadPool* pool = nullptr) const;
  // DJN encryption of plaintext m < n (InvalidArgument otherwise) for a client that holds the
  // secret key: the same function of the same random alpha as public_key().Encrypt(), so the
  // ciphertexts are indistinguishable from public ones and mix with them freely, at about 60 %
  // of the cost (computed modulo p^2 and q^2; constant time in alpha, p and q).
  StatusOr<Ciphertext> Encrypt(std::span<const uint8_t> m) const;
  // Encrypt() of each plaintext, in parallel over `pool` when given.
  StatusOr<std::vector<Ciphertext>> EncryptBatch(std::span<const BigBytes> plaintexts,
                                                 ThreadPool* pool = nullptr) const;
  // Classic (1 + m n) r^n encryption computed modulo p^2 and q^2 and recombined: the same
  // distribution as EncryptTextbook(), faster, for a client that holds the secret key.
  StatusOr<Ciphertext> EncryptCrt(std::span<const uint8_t> m) const;

  // The primes, big-endian, p < q. Secret: for key export only.
  BigBytes p() const;
  BigBytes q() const;

  const internal::SecretKeyImpl& impl() const { return *impl_; }

 private:
  explicit SecretKey(std::shared_ptr<const internal::SecretKeyImpl> impl);
  std::shared_ptr<const internal::SecretKeyImpl> impl_;
};

// A fresh key pair: p and q random primes of modulus_bits / 2 bits each from
// BN_generate_prime_ex2 (OpenSSL's private DRBG), n of exactly modulus_bits bits. Logs progress
// on the "paillier" logger once generation has taken more than a second.
StatusOr<SecretKey> GenerateKeyPair(const KeyGenOptions& options = {});

}  // namespace fedra::paillier

#endif  // FEDRA_PRIVACY_PAILLIER_SECRET_KEY_H_
