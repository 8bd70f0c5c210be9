#include "privacy/paillier/fixed_base_table.h"

#include <openssl/crypto.h>

#include <bit>
#include <cstring>

#include "fedra/core/status.h"
#include "privacy/paillier/bn_util.h"

namespace fedra::paillier::internal {
namespace {

static_assert(std::endian::native == std::endian::little,
              "the table stores BN_bn2lebinpad bytes as native 64-bit words");

// All ones if a == b, else zero, without a branch on either.
inline uint64_t EqMask(uint64_t a, uint64_t b) {
  const uint64_t x = a ^ b;  // zero iff equal; < 2^8 here
  return 0 - ((x - 1) >> 63);
}

// Two 64-bit lanes (SSE2 on x86-64, NEON on ARM; plain words elsewhere).
using U64x2 = uint64_t __attribute__((vector_size(16)));

}  // namespace

FixedBaseTable::FixedBaseTable(const BIGNUM* base, const BIGNUM* modulus, BN_MONT_CTX* mont,
                               int exp_bits, int window, BN_CTX* ctx)
    : mont_(mont),
      exp_bits_(exp_bits),
      window_(window),
      rows_((exp_bits + window - 1) / window),
      words_((static_cast<size_t>(BN_num_bytes(modulus)) + 7) / 8) {
  FEDRA_CHECK(exp_bits >= 1 && window >= 1 && window <= 8);
  const size_t per_row = size_t{1} << window_;
  entries_.assign(static_cast<size_t>(rows_) * per_row * words_, 0);
  const int width = static_cast<int>(words_ * 8);

  Bn one_mont = NewSecretBn();  // R mod m: Montgomery form of 1
  Bn b = NewSecretBn();         // Montgomery form of base^(2^(w i)) for the current row
  Bn e = NewSecretBn();
  FEDRA_CHECK(BN_to_montgomery(one_mont.get(), BN_value_one(), mont, ctx) == 1);
  FEDRA_CHECK(BN_to_montgomery(b.get(), base, mont, ctx) == 1);
  for (int row = 0; row < rows_; ++row) {
    uint64_t* dst = &entries_[static_cast<size_t>(row) * per_row * words_];
    FEDRA_CHECK(BN_copy(e.get(), one_mont.get()) != nullptr);
    for (size_t j = 0; j < per_row; ++j) {
      FEDRA_CHECK(BN_bn2lebinpad(e.get(), reinterpret_cast<unsigned char*>(dst + j * words_),
                                 width) == width);
      FEDRA_CHECK(BN_mod_mul_montgomery(e.get(), e.get(), b.get(), mont, ctx) == 1);
    }
    // After the loop e = b^(2^w): the base of the next row.
    std::swap(b, e);
  }
}

FixedBaseTable::~FixedBaseTable() {
  OPENSSL_cleanse(entries_.data(), entries_.size() * sizeof(uint64_t));
}

void FixedBaseTable::Lookup(int row, uint32_t digit, uint64_t* out) const {
  const size_t per_row = size_t{1} << window_;
  const uint64_t* src = &entries_[static_cast<size_t>(row) * per_row * words_];
  uint64_t mask[size_t{1} << 8];
  for (size_t j = 0; j < per_row; ++j) mask[j] = EqMask(j, digit);
  // Eight words at a time in four 128-bit accumulators that stay in registers. The scan is a
  // table exponentiation's largest cost after the multiplications, and a word loop that ORs
  // into `out` (which may alias the table for all the compiler knows) measured twice as slow.
  size_t k = 0;
  for (; k + 8 <= words_; k += 8) {
    U64x2 acc[4] = {};
    const uint64_t* e = src + k;
    for (size_t j = 0; j < per_row; ++j, e += words_) {
      const U64x2 m = {mask[j], mask[j]};
      for (int v = 0; v < 4; ++v) {
        U64x2 x;
        std::memcpy(&x, e + 2 * v, sizeof(x));
        acc[v] |= x & m;
      }
    }
    std::memcpy(out + k, acc, sizeof(acc));
  }
  for (; k < words_; ++k) {
    uint64_t acc = 0;
    for (size_t j = 0; j < per_row; ++j) acc |= src[j * words_ + k] & mask[j];
    out[k] = acc;
  }
  OPENSSL_cleanse(mask, per_row * sizeof(uint64_t));  // it encodes the digit
}

void FixedBaseTable::PowMont(const BIGNUM* e, BIGNUM* out, BN_CTX* ctx) const {
  FEDRA_CHECK(BN_num_bits(e) <= exp_bits_);
  // Digits come from a fixed-width copy of e so their extraction does not depend on e either.
  const size_t e_bytes = static_cast<size_t>(rows_ * window_ + 7) / 8 + 1;
  std::vector<uint8_t> le(e_bytes);
  FEDRA_CHECK(BN_bn2lebinpad(e, le.data(), static_cast<int>(e_bytes)) == static_cast<int>(e_bytes));
  std::vector<uint64_t> word(words_);
  Bn entry = NewSecretBn();
  const int width = static_cast<int>(words_ * 8);
  for (int row = 0; row < rows_; ++row) {
    const int bit = row * window_;
    const uint32_t two =
        static_cast<uint32_t>(le[bit / 8]) | (static_cast<uint32_t>(le[bit / 8 + 1]) << 8);
    const uint32_t digit = (two >> (bit % 8)) & ((1u << window_) - 1);
    Lookup(row, digit, word.data());
    BIGNUM* target = row == 0 ? out : entry.get();
    FEDRA_CHECK(BN_lebin2bn(reinterpret_cast<const unsigned char*>(word.data()), width, target) !=
                nullptr);
    if (row > 0) FEDRA_CHECK(BN_mod_mul_montgomery(out, out, entry.get(), mont_, ctx) == 1);
  }
  OPENSSL_cleanse(word.data(), word.size() * sizeof(uint64_t));
  OPENSSL_cleanse(le.data(), le.size());
}

}  // namespace fedra::paillier::internal
