#include "privacy/paillier/bn_util.h"

#include <openssl/crypto.h>

#include <array>
#include <string>

namespace fedra::paillier::internal {
namespace {

constexpr char kB64Alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// Digit value of a base64url character, or -1.
int B64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

}  // namespace

Bn NewBn() {
  Bn b(BN_new());
  FEDRA_CHECK_MSG(b != nullptr, "BN_new: out of memory");
  return b;
}

Bn NewSecretBn() {
  Bn b(BN_secure_new());
  FEDRA_CHECK_MSG(b != nullptr, "BN_secure_new: out of memory");
  BN_set_flags(b.get(), BN_FLG_CONSTTIME);
  return b;
}

Bn CopyBn(const BIGNUM* b) {
  Bn c(BN_dup(b));
  FEDRA_CHECK_MSG(c != nullptr, "BN_dup: out of memory");
  return c;
}

Bn BnFromU64(uint64_t v) {
  Bn b = NewBn();
  FEDRA_CHECK(BN_set_word(b.get(), v) == 1);
  return b;
}

BnCtx NewCtx() {
  BnCtx c(BN_CTX_secure_new());
  FEDRA_CHECK_MSG(c != nullptr, "BN_CTX_secure_new: out of memory");
  return c;
}

Mont NewMont(const BIGNUM* m, BN_CTX* ctx) {
  Mont mont(BN_MONT_CTX_new());
  FEDRA_CHECK(mont != nullptr);
  FEDRA_CHECK_MSG(BN_MONT_CTX_set(mont.get(), m, ctx) == 1, "BN_MONT_CTX_set failed");
  return mont;
}

std::vector<uint8_t> ToBytes(const BIGNUM* b, size_t width) {
  std::vector<uint8_t> out(width);
  ToBytes(b, out);
  return out;
}

void ToBytes(const BIGNUM* b, std::span<uint8_t> out) {
  FEDRA_CHECK(BN_bn2binpad(b, out.data(), static_cast<int>(out.size())) ==
              static_cast<int>(out.size()));
}

Bn FromBytes(std::span<const uint8_t> big_endian) {
  Bn b(BN_bin2bn(big_endian.data(), static_cast<int>(big_endian.size()), nullptr));
  FEDRA_CHECK(b != nullptr);
  return b;
}

std::string ToBase64Url(const BIGNUM* b) {
  FEDRA_CHECK(!BN_is_zero(b) && !BN_is_negative(b));
  const std::vector<uint8_t> bytes = ToBytes(b, static_cast<size_t>(BN_num_bytes(b)));
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (uint8_t byte : bytes) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kB64Alphabet[(acc >> bits) & 63]);
    }
  }
  if (bits > 0) out.push_back(kB64Alphabet[(acc << (6 - bits)) & 63]);
  return out;
}

StatusOr<Bn> FromBase64Url(std::string_view text, std::string_view what) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  if (text.empty()) return DataLossError(std::string(what) + ": empty base64url integer");
  if (text.size() % 4 == 1) {
    return DataLossError(std::string(what) + ": base64url length " + std::to_string(text.size()) +
                         " is impossible (truncated?)");
  }
  std::vector<uint8_t> bytes;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    const int v = B64Value(c);
    if (v < 0) {
      return DataLossError(std::string(what) + ": character '" + std::string(1, c) +
                           "' is not base64url (expected A-Z a-z 0-9 - _)");
    }
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes.push_back(static_cast<uint8_t>((acc >> bits) & 0xff));
    }
  }
  return FromBytes(bytes);
}

std::string ToDecimal(const BIGNUM* b) {
  char* s = BN_bn2dec(b);
  FEDRA_CHECK(s != nullptr);
  std::string out(s);
  OPENSSL_free(s);
  return out;
}

StatusOr<Bn> FromDecimal(std::string_view text, std::string_view what) {
  if (text.empty() || text.size() > 100000) {
    return DataLossError(std::string(what) + ": expected a decimal integer string, got " +
                         (text.empty() ? "an empty one" : "one too long"));
  }
  for (char c : text) {
    if (c < '0' || c > '9') {
      return DataLossError(std::string(what) + ": '" + std::string(1, c) +
                           "' in a decimal integer (expected digits only)");
    }
  }
  BIGNUM* raw = nullptr;
  const std::string s(text);
  if (BN_dec2bn(&raw, s.c_str()) != static_cast<int>(s.size())) {
    BN_free(raw);
    return DataLossError(std::string(what) + ": cannot parse decimal integer");
  }
  return Bn(raw);
}

void RandomNonZeroBelow(const BIGNUM* n, BIGNUM* out, BN_CTX* ctx) {
  do {
    FEDRA_CHECK_MSG(BN_priv_rand_range_ex(out, n, 0, ctx) == 1, "RAND_priv failed");
  } while (BN_is_zero(out));
}

Bn IntegerSqrt(const BIGNUM* a, BN_CTX* ctx) {
  if (BN_is_zero(a)) return NewBn();
  // x0 = 2^ceil(bits/2) >= sqrt(a); Newton steps decrease monotonically to floor(sqrt(a)).
  Bn x = NewBn();
  FEDRA_CHECK(BN_set_bit(x.get(), (BN_num_bits(a) + 1) / 2) == 1);
  Bn y = NewBn();
  for (;;) {
    FEDRA_CHECK(BN_div(y.get(), nullptr, a, x.get(), ctx) == 1);
    FEDRA_CHECK(BN_add(y.get(), y.get(), x.get()) == 1);
    FEDRA_CHECK(BN_rshift1(y.get(), y.get()) == 1);
    if (BN_cmp(y.get(), x.get()) >= 0) return x;
    std::swap(x, y);
  }
}

}  // namespace fedra::paillier::internal
