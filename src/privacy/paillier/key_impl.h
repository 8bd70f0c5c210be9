// Private to src/privacy/paillier: the state behind PublicKey and SecretKey, and the BIGNUM-level
// operations the encoders and the aggregator use without a round trip through bytes.
//
// Thread-safety: immutable after construction; the functions take the caller's BN_CTX (one per
// thread) and may be called concurrently.
#ifndef FEDRA_SRC_PRIVACY_PAILLIER_KEY_IMPL_H_
#define FEDRA_SRC_PRIVACY_PAILLIER_KEY_IMPL_H_

#include <openssl/bn.h>

#include <functional>
#include <memory>
#include <optional>
#include <span>

#include "fedra/privacy/paillier/public_key.h"
#include "fedra/privacy/paillier/secret_key.h"
#include "privacy/paillier/bn_util.h"
#include "privacy/paillier/fixed_base_table.h"

namespace fedra::paillier::internal {

struct PublicKeyImpl {
  Bn n;
  Bn n2;  // n^2
  Mont mont_n2;
  Bn hs;  // h^n mod n^2, the DJN base
  std::unique_ptr<FixedBaseTable> table;
  int bits = 0;
  size_t n_bytes = 0;
  size_t n2_bytes = 0;
  KeyId id{};
  PublicKeyOptions options;
};

struct SecretKeyImpl {
  std::optional<PublicKey> pub;   // set once built
  Bn p, q;                        // p < q
  Bn p2, q2;                      // p^2, q^2
  Bn pm1, qm1;                    // p - 1, q - 1 (secret exponents)
  Bn hp, hq;                      // L_p(g^(p-1) mod p^2)^-1 mod p, likewise for q
  Bn q_inv_p;                     // q^-1 mod p
  Bn q2_inv_p2;                   // (q^2)^-1 mod p^2
  Bn n_mod_phi_p2, n_mod_phi_q2;  // n mod p(p-1), n mod q(q-1): r^n modulo p^2, q^2
  Mont mont_p2, mont_q2, mont_p, mont_q;
  // CRT-DJN: (q^2)^-1 R mod p^2 (Montgomery form, so one multiplication gives a plain result),
  // and fixed-base tables of h_s mod p^2 and mod q^2 (the public key's h_s, window and
  // alpha_bits). Secret: their entries with the public h_s^k mod n^2 would reveal p^2.
  Bn q2_inv_p2_mont;
  std::unique_ptr<FixedBaseTable> table_p2, table_q2;
};

// m as a BIGNUM; InvalidArgument unless m < n.
StatusOr<Bn> PlaintextToBn(const PublicKeyImpl& key, std::span<const uint8_t> m);
// alpha = the DJN exponent: uniform in [0, 2^alpha_bits) from RAND_priv. Every DJN encryption,
// public or CRT, draws it here so both produce the same ciphertext distribution.
void RandomAlpha(const PublicKeyImpl& key, BIGNUM* alpha, BN_CTX* ctx);
// c (plain, < n^2) = E(m) with the DJN obfuscator. REQUIRES: m < n.
void EncryptBn(const PublicKeyImpl& key, const BIGNUM* m, BIGNUM* c, BN_CTX* ctx);
// c = c * h_s^alpha mod n^2 for a fresh alpha.
void ObfuscateBn(const PublicKeyImpl& key, BIGNUM* c, BN_CTX* ctx);
// The same ciphertext distribution as EncryptBn (same alpha, same h_s), computed modulo p^2 and
// q^2 and recombined. REQUIRES: m < n.
void EncryptCrtBn(const SecretKeyImpl& key, const BIGNUM* m, BIGNUM* c, BN_CTX* ctx);
// c = (1 + m n) h_s^alpha mod n^2 via CRT for a given alpha (EncryptCrtBn's core; tests compare
// it with the public formula). REQUIRES: m < n, 0 <= alpha < 2^alpha_bits.
void DjnCrtBn(const SecretKeyImpl& key, const BIGNUM* m, const BIGNUM* alpha, BIGNUM* c,
              BN_CTX* ctx);
// m = D(c), blinded by a fresh random plaintext. REQUIRES: 0 < c < n^2, gcd(c, n) = 1.
void DecryptBn(const SecretKeyImpl& key, const BIGNUM* c, BIGNUM* m, BN_CTX* ctx);
// DataLoss unless gcd(c, n) = 1: c = n, c = p or a multiple of p or q is no ciphertext, and
// decrypting it would give garbage (and would use the secret on a value outside the group).
Status CheckDecryptable(const PublicKeyImpl& pub, const BIGNUM* c, BN_CTX* ctx);

// InvalidArgument if n is even, has a factor below 2^14 or is prime.
Status CheckModulusIsComposite(const BIGNUM* n, BN_CTX* ctx);

// Ciphertext <-> BIGNUM with validation (DataLoss naming what was wrong).
StatusOr<Bn> CiphertextToBn(const PublicKeyImpl& key, const Ciphertext& c);
Ciphertext BnToCiphertext(const PublicKeyImpl& key, const BIGNUM* c);

// Runs fn(begin, end, ctx) over [0, count) split into contiguous chunks, one per worker of
// `pool` (or all in the calling thread when pool is null), each with its own BN_CTX.
void ParallelFor(size_t count, ThreadPool* pool,
                 const std::function<void(size_t begin, size_t end, BN_CTX* ctx)>& fn);

}  // namespace fedra::paillier::internal

#endif  // FEDRA_SRC_PRIVACY_PAILLIER_KEY_IMPL_H_
