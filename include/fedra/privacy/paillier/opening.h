// Verifiable Paillier decryption. Whoever holds the secret key can "open" a ciphertext: give
// not only its plaintext m but also the randomness r in Z_n* with c = (1 + m n) r^n mod n^2,
// which is unique for a valid c (Z_n x Z_n* -> Z_n^2* is a bijection when gcd(n, phi(n)) = 1).
// Anyone with the public key can then check the claim, so a server that asks a client to
// decrypt a total does not have to trust the answer.
//
// VerifyOpenings checks a batch at once (Bellare-Garay-Rabin small-exponent test): with random
// 128-bit e_i it compares prod c_i^e_i with (1 + (sum e_i m_i) n) (prod r_i^e_i)^n mod n^2.
// A wrong plaintext passes with probability at most 2^-128; a wrong r for the right plaintext
// (which changes nothing that is used) may pass. Cost per ciphertext: two 128-bit
// exponentiations (one mod n^2, one mod n) instead of a full r^n mod n^2.
//
// Thread-safety: free functions; concurrent calls on distinct data are safe.
#ifndef FEDRA_PRIVACY_PAILLIER_OPENING_H_
#define FEDRA_PRIVACY_PAILLIER_OPENING_H_

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fedra/core/status.h"
#include "fedra/core/thread_pool.h"
#include "fedra/privacy/paillier/public_key.h"
#include "fedra/privacy/paillier/secret_key.h"

namespace fedra::paillier {

struct Opening {
  BigBytes m;  // plaintext in [0, n), big-endian, modulus_bytes() long
  BigBytes r;  // randomness in Z_n*, big-endian, modulus_bytes() long
  bool operator==(const Opening&) const = default;
};

// The opening of every ciphertext (computed modulo p and q, constant time in the secret).
// DataLoss for a value that is no ciphertext of this key.
StatusOr<std::vector<Opening>> OpenBatch(const SecretKey& key, std::span<const Ciphertext> cs,
                                         ThreadPool* pool = nullptr);

// OK iff every opening matches its ciphertext (up to the 2^-128 above). InvalidArgument for a
// count or width mismatch or m >= n or r outside [1, n); DataLoss when the check fails.
Status VerifyOpenings(const PublicKey& key, std::span<const Ciphertext> cs,
                      std::span<const Opening> openings, ThreadPool* pool = nullptr);

// Wire form: every m, then every r, each modulus_bytes() wide, big-endian.
std::string SerializeOpenings(const PublicKey& key, std::span<const Opening> openings);
// Strict inverse; InvalidArgument unless `bytes` holds exactly `count` openings.
StatusOr<std::vector<Opening>> ParseOpenings(const PublicKey& key, std::string_view bytes,
                                             size_t count);

}  // namespace fedra::paillier

#endif  // FEDRA_PRIVACY_PAILLIER_OPENING_H_
