#include "fedra/privacy/secagg/shamir.h"

#include <algorithm>
#include <string>

namespace fedra::secagg {
namespace {

uint64_t Reduce(__uint128_t v) {
  // 2^61 = 1 (mod p): fold the high bits down twice, then one conditional subtraction.
  uint64_t lo = static_cast<uint64_t>(v & kShamirPrime);
  uint64_t hi = static_cast<uint64_t>(v >> 61);
  uint64_t r = lo + (hi & kShamirPrime) + (hi >> 61);
  r = (r & kShamirPrime) + (r >> 61);
  return r >= kShamirPrime ? r - kShamirPrime : r;
}

}  // namespace

uint64_t FieldMul(uint64_t a, uint64_t b) { return Reduce(static_cast<__uint128_t>(a) * b); }
uint64_t FieldAdd(uint64_t a, uint64_t b) {
  uint64_t r = a + b;
  return r >= kShamirPrime ? r - kShamirPrime : r;
}
uint64_t FieldSub(uint64_t a, uint64_t b) { return a >= b ? a - b : a + kShamirPrime - b; }

uint64_t FieldInverse(uint64_t a) {
  FEDRA_CHECK(a != 0 && a < kShamirPrime);
  uint64_t result = 1, base = a, e = kShamirPrime - 2;
  while (e > 0) {
    if (e & 1) result = FieldMul(result, base);
    base = FieldMul(base, base);
    e >>= 1;
  }
  return result;
}

StatusOr<std::vector<ShamirShare>> ShamirSplit(const Key256& secret, size_t threshold,
                                               std::span<const uint64_t> xs, Prg& rng) {
  if (threshold < 1 || threshold > xs.size())
    return InvalidArgumentError("Shamir threshold " + std::to_string(threshold) +
                                " must be in [1, number of holders = " + std::to_string(xs.size()) +
                                "]");
  std::vector<uint64_t> sorted(xs.begin(), xs.end());
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end())
    return InvalidArgumentError("Shamir evaluation points must be distinct");
  if (!sorted.empty() && (sorted.front() == 0 || sorted.back() >= kShamirPrime))
    return InvalidArgumentError("Shamir evaluation points must be in [1, p)");

  std::vector<ShamirShare> shares(xs.size());
  for (size_t i = 0; i < xs.size(); ++i) shares[i].x = xs[i];
  std::vector<uint64_t> coef(threshold);
  for (size_t c = 0; c < kShamirChunks; ++c) {
    uint64_t chunk = 0;
    for (size_t b = kShamirChunkStart[c]; b < kShamirChunkStart[c + 1]; ++b)
      chunk |= uint64_t{secret[b]} << (8 * (b - kShamirChunkStart[c]));
    coef[0] = chunk;
    for (size_t k = 1; k < threshold; ++k) coef[k] = rng.UniformBelow(kShamirPrime);
    for (auto& share : shares) {  // Horner
      uint64_t acc = 0;
      for (size_t k = threshold; k-- > 0;) acc = FieldAdd(FieldMul(acc, share.x), coef[k]);
      share.y[c] = acc;
    }
  }
  std::fill(coef.begin(), coef.end(), 0);
  return shares;
}

StatusOr<std::vector<uint64_t>> LagrangeAtZero(std::span<const uint64_t> xs) {
  for (size_t i = 0; i < xs.size(); ++i) {
    if (xs[i] == 0 || xs[i] >= kShamirPrime)
      return InvalidArgumentError("Lagrange point " + std::to_string(xs[i]) + " is not in [1, p)");
    for (size_t j = 0; j < i; ++j)
      if (xs[i] == xs[j])
        return InvalidArgumentError("Lagrange point " + std::to_string(xs[i]) + " repeated");
  }
  // lambda_i = prod_{j != i} x_j / (x_j - x_i); one inversion per point.
  std::vector<uint64_t> out(xs.size());
  for (size_t i = 0; i < xs.size(); ++i) {
    uint64_t num = 1, den = 1;
    for (size_t j = 0; j < xs.size(); ++j) {
      if (j == i) continue;
      num = FieldMul(num, xs[j]);
      den = FieldMul(den, FieldSub(xs[j], xs[i]));
    }
    out[i] = FieldMul(num, FieldInverse(den));
  }
  return out;
}

StatusOr<Key256> ShamirCombine(std::span<const uint64_t> coefficients,
                               std::span<const ShamirShare> shares) {
  if (coefficients.size() != shares.size() || shares.empty())
    return InvalidArgumentError("ShamirCombine needs one coefficient per share, got " +
                                std::to_string(coefficients.size()) + " for " +
                                std::to_string(shares.size()) + " shares");
  Key256 secret{};
  for (size_t c = 0; c < kShamirChunks; ++c) {
    uint64_t acc = 0;
    for (size_t i = 0; i < shares.size(); ++i) {
      if (shares[i].y[c] >= kShamirPrime)
        return DataLossError("Shamir share value is outside the field");
      acc = FieldAdd(acc, FieldMul(coefficients[i], shares[i].y[c]));
    }
    const size_t width = kShamirChunkStart[c + 1] - kShamirChunkStart[c];
    if (acc >> (8 * width) != 0)
      return DataLossError("Shamir shares are inconsistent: reconstructed chunk " +
                           std::to_string(c) + " is not a " + std::to_string(width) +
                           "-byte value");
    for (size_t b = 0; b < width; ++b)
      secret[kShamirChunkStart[c] + b] = static_cast<uint8_t>(acc >> (8 * b));
  }
  return secret;
}

}  // namespace fedra::secagg
