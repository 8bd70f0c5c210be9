#include "fedra/privacy/paillier/phe_number.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include <nlohmann/json.hpp>

#include "privacy/paillier/key_impl.h"

namespace fedra::paillier {
namespace {

using internal::Bn;
using Json = nlohmann::json;

constexpr int kMaxExponent = 300;

// floor(n / 3) - 1, phe's max_int.
Bn MaxInt(const BIGNUM* n, BN_CTX* ctx) {
  Bn m = internal::NewBn();
  FEDRA_CHECK(BN_div(m.get(), nullptr, n, internal::BnFromU64(3).get(), ctx) == 1);
  FEDRA_CHECK(BN_sub_word(m.get(), 1) == 1);
  return m;
}

// The low 64 bits of x.
uint64_t Low64(const BIGNUM* x) {
  uint64_t v = 0;
  const BigBytes b = internal::ToBytes(x, static_cast<size_t>(std::max(BN_num_bytes(x), 8)));
  for (size_t i = b.size() - 8; i < b.size(); ++i) v = (v << 8) | b[i];
  return v;
}

// x * 2^e2 for x >= 0, rounded once to the nearest double (ties to even), subnormals included.
// OutOfRange if it exceeds the largest double.
StatusOr<double> ScaleToDouble(const BIGNUM* x, int e2) {
  const int bits = BN_num_bits(x);
  // Drop the low bits that cannot be kept: all but 53, and those below 2^-1074.
  const int drop = std::max(bits - 53, -1074 - e2);
  double result = 0;
  if (drop <= 0) {
    result = std::ldexp(static_cast<double>(Low64(x)), e2);  // exact: at most 53 bits
  } else {
    Bn top = internal::NewBn();
    FEDRA_CHECK(BN_rshift(top.get(), x, drop) == 1);
    uint64_t kept = drop < bits ? Low64(top.get()) : 0;
    const bool half = BN_is_bit_set(x, drop - 1) == 1;
    bool below_half = false;  // any bit under the half bit
    for (int i = 0; i < drop - 1 && !below_half; ++i) below_half = BN_is_bit_set(x, i) == 1;
    if (half && (below_half || (kept & 1) != 0)) ++kept;
    result = std::ldexp(static_cast<double>(kept), drop + e2);  // exact: kept <= 2^53
  }
  if (std::isinf(result)) {
    return OutOfRangeError("phe number of " + std::to_string(bits) + " bits times 2^" +
                           std::to_string(e2) + " exceeds the largest double");
  }
  return result;
}

}  // namespace

StatusOr<BigBytes> EncodePheNumber(const PublicKey& key, double value, int exponent) {
  if (!std::isfinite(value)) return InvalidArgumentError("cannot encode a non-finite number");
  if (exponent < -kMaxExponent || exponent > kMaxExponent) {
    return InvalidArgumentError("phe exponent " + std::to_string(exponent) +
                                " is out of range (expected -300..300)");
  }
  const internal::PublicKeyImpl& k = key.impl();
  internal::BnCtx ctx = internal::NewCtx();
  // value = m53 * 2^(e2 - 53) exactly; the mantissa is value * 2^(-4 exponent), rounded.
  int e2 = 0;
  const double frac = std::frexp(std::fabs(value), &e2);
  const uint64_t m53 = static_cast<uint64_t>(std::ldexp(frac, 53));
  const int shift = e2 - 53 - 4 * exponent;
  Bn mag = internal::NewBn();
  if (shift >= 0) {
    mag = internal::BnFromU64(m53);
    FEDRA_CHECK(BN_lshift(mag.get(), mag.get(), shift) == 1);
  } else if (-shift <= 60) {
    const uint64_t half = uint64_t{1} << (-shift - 1);
    mag = internal::BnFromU64((m53 + half) >> -shift);
  }  // else |value| < 16^exponent / 2^7: rounds to zero
  if (BN_cmp(mag.get(), MaxInt(k.n.get(), ctx.get()).get()) > 0) {
    return InvalidArgumentError("value " + std::to_string(value) + " at exponent " +
                                std::to_string(exponent) +
                                " overflows phe's max_int = n/3 - 1 for this key");
  }
  if (value < 0 && !BN_is_zero(mag.get())) FEDRA_CHECK(BN_sub(mag.get(), k.n.get(), mag.get()));
  return internal::ToBytes(mag.get(), k.n_bytes);
}

StatusOr<double> DecodePheNumber(const PublicKey& key, std::span<const uint8_t> mantissa,
                                 int exponent) {
  if (exponent < -kMaxExponent || exponent > kMaxExponent) {
    return InvalidArgumentError("phe exponent " + std::to_string(exponent) +
                                " is out of range (expected -300..300)");
  }
  const internal::PublicKeyImpl& k = key.impl();
  internal::BnCtx ctx = internal::NewCtx();
  Bn m = internal::FromBytes(mantissa);
  if (BN_cmp(m.get(), k.n.get()) >= 0) return InvalidArgumentError("phe mantissa is not below n");
  const Bn max_int = MaxInt(k.n.get(), ctx.get());
  Bn neg_start = internal::NewBn();  // n - max_int
  FEDRA_CHECK(BN_sub(neg_start.get(), k.n.get(), max_int.get()) == 1);
  double sign = 1;
  if (BN_cmp(m.get(), max_int.get()) > 0) {
    if (BN_cmp(m.get(), neg_start.get()) < 0) {
      return OutOfRangeError("phe mantissa is in the overflow band (max_int, n - max_int)");
    }
    FEDRA_CHECK(BN_sub(m.get(), k.n.get(), m.get()) == 1);
    sign = -1;
  }
  FEDRA_ASSIGN_OR_RETURN(const double magnitude, ScaleToDouble(m.get(), 4 * exponent));
  return sign * magnitude;
}

StatusOr<PheEncryptedNumber> EncryptPheNumber(const PublicKey& key, double value, int exponent) {
  FEDRA_ASSIGN_OR_RETURN(const BigBytes m, EncodePheNumber(key, value, exponent));
  PheEncryptedNumber out;
  out.exponent = exponent;
  FEDRA_ASSIGN_OR_RETURN(out.ciphertext, key.Encrypt(m));
  return out;
}

StatusOr<double> DecryptPheNumber(const SecretKey& key, const PheEncryptedNumber& number) {
  FEDRA_ASSIGN_OR_RETURN(const BigBytes m, key.Decrypt(number.ciphertext));
  return DecodePheNumber(key.public_key(), m, number.exponent);
}

std::string PheEncryptedNumberToJson(const PheEncryptedNumber& number) {
  Bn c = internal::FromBytes(number.ciphertext.bytes);
  return Json{{"v", internal::ToDecimal(c.get())}, {"e", number.exponent}}.dump();
}

StatusOr<PheEncryptedNumber> PheEncryptedNumberFromJson(const PublicKey& key,
                                                        std::string_view json) {
  const Json j = Json::parse(json.begin(), json.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return DataLossError("phe encrypted number is not a JSON object (truncated or corrupt?)");
  }
  auto v = j.find("v");
  auto e = j.find("e");
  if (v == j.end() || !v->is_string()) {
    return DataLossError("phe encrypted number has no string \"v\" (the ciphertext)");
  }
  if (e == j.end() || !e->is_number_integer()) {
    return DataLossError("phe encrypted number has no integer \"e\" (the exponent)");
  }
  const int64_t exponent = e->get<int64_t>();
  if (exponent < -kMaxExponent || exponent > kMaxExponent) {
    return DataLossError("phe exponent " + std::to_string(exponent) + " is out of range");
  }
  FEDRA_ASSIGN_OR_RETURN(Bn c, internal::FromDecimal(v->get<std::string>(), "phe ciphertext"));
  const internal::PublicKeyImpl& k = key.impl();
  if (BN_is_zero(c.get()) || BN_cmp(c.get(), k.n2.get()) >= 0) {
    return DataLossError("phe ciphertext is not in (0, n^2) for Paillier key " + KeyIdHex(k.id));
  }
  PheEncryptedNumber out;
  out.exponent = static_cast<int>(exponent);
  out.ciphertext = internal::BnToCiphertext(k, c.get());
  return out;
}

}  // namespace fedra::paillier
