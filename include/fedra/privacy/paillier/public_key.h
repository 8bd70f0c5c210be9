// Paillier public key (Paillier, EUROCRYPT 1999) with g = n + 1, and the operations anyone
// holding it may perform: encrypt, add ciphertexts, add a plaintext, multiply by a plaintext
// scalar, re-randomize. A PublicKey holds no secret and has no way to decrypt, which is why the
// aggregation server is given only this type.
//
// Encryption is E(m) = (1 + m n) * h_s^alpha mod n^2 (Damgard-Jurik-Nielsen, PKC 2010 / the
// "DJN" variant used by Intel's and Ant Group's libraries): h_s = h^n mod n^2 for h = -x^2 mod n
// with x random, alpha a short random exponent (1024 bits by default). h_s^alpha comes from a
// fixed-base table whose lookups read every entry of a row, so memory access does not depend on
// alpha. Security rests on the short-exponent assumption documented in docs/privacy-paillier.md;
// EncryptTextbook() gives the classic r^n encryption for callers who want none.
//
// Plaintexts are unsigned big-endian integers < n; signed values and floats are the business of
// the encoders (packing.h, phe_number.h). Ciphertexts are big-endian integers in (0, n^2),
// padded to ciphertext_bytes(). Operations on ciphertexts from outside validate them first.
//
// Thread-safety: immutable after creation; every const method may be called concurrently.
// Copies are cheap (shared, immutable state).
#ifndef FEDRA_PRIVACY_PAILLIER_PUBLIC_KEY_H_
#define FEDRA_PRIVACY_PAILLIER_PUBLIC_KEY_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "fedra/core/status.h"
#include "fedra/core/thread_pool.h"

namespace fedra::paillier {

namespace internal {
struct PublicKeyImpl;
}  // namespace internal

// First 16 bytes of SHA-256("fedra-paillier-key-id-v1" || n). Carried by keys and ciphertext
// batches so that data encrypted under another key is rejected, not decrypted into garbage.
using KeyId = std::array<uint8_t, 16>;
std::string KeyIdHex(const KeyId& id);

// Big-endian unsigned integer.
using BigBytes = std::vector<uint8_t>;

struct Ciphertext {
  BigBytes bytes;  // big-endian, exactly PublicKey::ciphertext_bytes() long
  bool operator==(const Ciphertext&) const = default;
};

struct PublicKeyOptions {
  // Length of the DJN exponent alpha. 1024 is the default of Intel's and Ant Group's libraries
  // for 2048-bit n; must be in [128, 4096].
  int alpha_bits = 1024;
  // Fixed-base table window: rows of 2^window entries; in [1, 8]. Larger is fewer
  // multiplications but a larger table (alpha_bits / window * 2^window ciphertexts) to scan.
  int window_bits = 5;
  // Also accept moduli of 64..1536 bits (key generation: multiples of 64 from 256): fast keys
  // for tests, never for real data. Without it a key must have 2048 or 3072 bits, whether
  // generated or loaded.
  bool allow_small_for_testing = false;
};

class PublicKey {
 public:
  // The key with modulus n (big-endian). InvalidArgument unless n has 2048 or 3072 bits (see
  // allow_small_for_testing), is odd, is not prime and has no prime factor below 2^14 (as a
  // product of two large primes would not), and options are in range. Builds the DJN table
  // (tens of milliseconds at 2048 bits).
  static StatusOr<PublicKey> FromModulus(std::span<const uint8_t> n,
                                         const PublicKeyOptions& options = {});

  int modulus_bits() const;
  size_t modulus_bytes() const;     // bytes of n
  size_t ciphertext_bytes() const;  // bytes of n^2
  BigBytes modulus() const;         // n, big-endian, modulus_bytes() long
  const KeyId& key_id() const;
  const PublicKeyOptions& options() const;

  // DJN encryption of plaintext m < n (InvalidArgument otherwise).
  StatusOr<Ciphertext> Encrypt(std::span<const uint8_t> m) const;
  // Classic encryption (1 + m n) r^n mod n^2 with r uniform in Z_n*: one full exponentiation.
  StatusOr<Ciphertext> EncryptTextbook(std::span<const uint8_t> m) const;
  // Encryption of m mod n (negative m becomes n - |m|).
  Ciphertext EncryptInt(int64_t m) const;
  // Encrypt() of each plaintext, in parallel over `pool` when given.
  StatusOr<std::vector<Ciphertext>> EncryptBatch(std::span<const BigBytes> plaintexts,
                                                 ThreadPool* pool = nullptr) const;

  // E(a + b).
  StatusOr<Ciphertext> Add(const Ciphertext& a, const Ciphertext& b) const;
  // E(a + m) for plaintext m < n.
  StatusOr<Ciphertext> AddPlain(const Ciphertext& a, std::span<const uint8_t> m) const;
  StatusOr<Ciphertext> AddPlainInt(const Ciphertext& a, int64_t m) const;
  // E(k * a) for plaintext k < n; MulScalarInt takes k mod n.
  StatusOr<Ciphertext> MulScalar(const Ciphertext& a, std::span<const uint8_t> k) const;
  StatusOr<Ciphertext> MulScalarInt(const Ciphertext& a, int64_t k) const;
  // A fresh-looking encryption of the same plaintext (multiplies by h_s^alpha).
  StatusOr<Ciphertext> Rerandomize(const Ciphertext& a) const;
  // Element-wise Add() of two equally long batches, in parallel over `pool` when given.
  StatusOr<std::vector<Ciphertext>> AddBatch(std::span<const Ciphertext> a,
                                             std::span<const Ciphertext> b,
                                             ThreadPool* pool = nullptr) const;

  // OK iff `c` has ciphertext_bytes() bytes and 0 < c < n^2; DataLoss otherwise.
  Status Validate(const Ciphertext& c) const;

  // For the implementation (other files of src/privacy/paillier).
  const internal::PublicKeyImpl& impl() const { return *impl_; }

 private:
  explicit PublicKey(std::shared_ptr<const internal::PublicKeyImpl> impl);
  std::shared_ptr<const internal::PublicKeyImpl> impl_;
};

}  // namespace fedra::paillier

#endif  // FEDRA_PRIVACY_PAILLIER_PUBLIC_KEY_H_
