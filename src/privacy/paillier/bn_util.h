// Private to src/privacy/paillier: owning handles for OpenSSL BIGNUM objects and the few
// conversions the Paillier code needs (fixed-width bytes, base64url, decimal).
//
// Thread-safety: the handles are like std::unique_ptr; the free functions are thread-safe.
#ifndef FEDRA_SRC_PRIVACY_PAILLIER_BN_UTIL_H_
#define FEDRA_SRC_PRIVACY_PAILLIER_BN_UTIL_H_

#include <openssl/bn.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fedra/core/status.h"

namespace fedra::paillier::internal {

struct BnFree {
  // Clears before freeing: many of our BIGNUMs hold secrets or their derivatives.
  void operator()(BIGNUM* b) const { BN_clear_free(b); }
};
struct BnCtxFree {
  void operator()(BN_CTX* c) const { BN_CTX_free(c); }
};
struct MontFree {
  void operator()(BN_MONT_CTX* m) const { BN_MONT_CTX_free(m); }
};
using Bn = std::unique_ptr<BIGNUM, BnFree>;
using BnCtx = std::unique_ptr<BN_CTX, BnCtxFree>;
using Mont = std::unique_ptr<BN_MONT_CTX, MontFree>;

// A new zero BIGNUM; FEDRA_CHECKs allocation (out of memory is not an input error).
Bn NewBn();
// A new BIGNUM in secure memory with BN_FLG_CONSTTIME set, for secrets.
Bn NewSecretBn();
Bn CopyBn(const BIGNUM* b);
Bn BnFromU64(uint64_t v);
BnCtx NewCtx();
// Montgomery context for the odd modulus `m`.
Mont NewMont(const BIGNUM* m, BN_CTX* ctx);

// Big-endian, left-padded to `width` bytes. REQUIRES: b fits in `width` bytes.
std::vector<uint8_t> ToBytes(const BIGNUM* b, size_t width);
void ToBytes(const BIGNUM* b, std::span<uint8_t> out);
Bn FromBytes(std::span<const uint8_t> big_endian);

// Unpadded base64url (RFC 7515 section 2) of the minimal big-endian bytes, as python-paillier's
// phe.util.int_to_base64 writes it. REQUIRES: b > 0.
std::string ToBase64Url(const BIGNUM* b);
// Accepts base64url with or without '=' padding; rejects other characters.
StatusOr<Bn> FromBase64Url(std::string_view text, std::string_view what);

std::string ToDecimal(const BIGNUM* b);
// Non-negative decimal integer without sign or spaces.
StatusOr<Bn> FromDecimal(std::string_view text, std::string_view what);

// Uniform in [1, n) via RAND_priv (BN_priv_rand_range_ex). REQUIRES: n > 1.
void RandomNonZeroBelow(const BIGNUM* n, BIGNUM* out, BN_CTX* ctx);

// floor(sqrt(a)) for a >= 0 (Newton's method).
Bn IntegerSqrt(const BIGNUM* a, BN_CTX* ctx);

}  // namespace fedra::paillier::internal

#endif  // FEDRA_SRC_PRIVACY_PAILLIER_BN_UTIL_H_
