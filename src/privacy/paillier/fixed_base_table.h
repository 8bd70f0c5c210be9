// Private to src/privacy/paillier: fixed-base exponentiation base^e mod m from a precomputed
// table, for the DJN obfuscator h_s^alpha.
//
// Row i holds base^(j * 2^(w i)) for j in [0, 2^w), in Montgomery form as fixed-width words.
// Pow() multiplies one entry per row, chosen by the i-th w-bit digit of e. The entry is fetched
// by reading every entry of the row and keeping the wanted one with a mask, so which memory is
// read does not depend on e (a cache-timing attacker learns nothing of the digits).
//
// The modulus may be secret (the key holder's tables modulo p^2 and q^2): `mont` should then be
// built from a BN_FLG_CONSTTIME modulus; nothing here branches on the modulus or the entries.
//
// Thread-safety: immutable after construction; PowMont() may be called concurrently.
#ifndef FEDRA_SRC_PRIVACY_PAILLIER_FIXED_BASE_TABLE_H_
#define FEDRA_SRC_PRIVACY_PAILLIER_FIXED_BASE_TABLE_H_

#include <openssl/bn.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace fedra::paillier::internal {

class FixedBaseTable {
 public:
  // REQUIRES: 0 < base < modulus, `mont` set for the odd `modulus`, exp_bits >= 1,
  // 1 <= window <= 8.
  FixedBaseTable(const BIGNUM* base, const BIGNUM* modulus, BN_MONT_CTX* mont, int exp_bits,
                 int window, BN_CTX* ctx);
  // Wipes the entries: a table modulo a secret prime power is itself secret.
  ~FixedBaseTable();
  FixedBaseTable(const FixedBaseTable&) = delete;
  FixedBaseTable& operator=(const FixedBaseTable&) = delete;

  // out = base^e * R mod m (Montgomery form), so a caller can multiply it with a plain value
  // by one BN_mod_mul_montgomery and get a plain result. REQUIRES: 0 <= e < 2^exp_bits.
  void PowMont(const BIGNUM* e, BIGNUM* out, BN_CTX* ctx) const;
  int exp_bits() const { return exp_bits_; }
  size_t size_bytes() const { return entries_.size() * sizeof(uint64_t); }

 private:
  // Copies entry `digit` of `row` into `out` reading every entry of the row.
  void Lookup(int row, uint32_t digit, uint64_t* out) const;

  BN_MONT_CTX* mont_;
  int exp_bits_;
  int window_;
  int rows_;
  size_t words_;                   // 64-bit words per entry
  std::vector<uint64_t> entries_;  // rows_ * 2^window_ * words_, little-endian words
};

}  // namespace fedra::paillier::internal

#endif  // FEDRA_SRC_PRIVACY_PAILLIER_FIXED_BASE_TABLE_H_
