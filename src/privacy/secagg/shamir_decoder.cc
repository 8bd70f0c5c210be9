#include "fedra/privacy/secagg/shamir_decoder.h"

#include <algorithm>
#include <set>
#include <string>

namespace fedra::secagg {
namespace {

uint64_t Evaluate(std::span<const uint64_t> poly, uint64_t x) {
  uint64_t acc = 0;
  for (size_t k = poly.size(); k-- > 0;) acc = FieldAdd(FieldMul(acc, x), poly[k]);
  return acc;
}

std::string N(size_t v) { return std::to_string(v); }

}  // namespace

StatusOr<ShamirDecoder> ShamirDecoder::Create(std::span<const uint64_t> xs, size_t threshold) {
  if (threshold < 1 || threshold > xs.size())
    return InvalidArgumentError("Shamir decoding needs 1 <= threshold (" + N(threshold) +
                                ") <= number of shares (" + N(xs.size()) + ")");
  std::set<uint64_t> seen;
  for (uint64_t x : xs) {
    if (x == 0 || x >= kShamirPrime)
      return InvalidArgumentError("Shamir point " + N(x) + " is not in [1, p)");
    if (!seen.insert(x).second) return InvalidArgumentError("Shamir point " + N(x) + " repeated");
  }
  ShamirDecoder d;
  d.xs_.assign(xs.begin(), xs.end());
  d.threshold_ = threshold;
  const std::span<const uint64_t> base(d.xs_.data(), threshold);
  FEDRA_ASSIGN_OR_RETURN(d.at_zero_, LagrangeAtZero(base));
  // Weight of y_i at z: prod_{m != i} (z - x_m) / (x_i - x_m) = P(z) / ((z - x_i) D_i).
  std::vector<uint64_t> inv_den(threshold);
  for (size_t i = 0; i < threshold; ++i) {
    uint64_t den = 1;
    for (size_t m = 0; m < threshold; ++m)
      if (m != i) den = FieldMul(den, FieldSub(base[i], base[m]));
    inv_den[i] = FieldInverse(den);
  }
  d.check_.resize((xs.size() - threshold) * threshold);
  for (size_t j = threshold; j < xs.size(); ++j) {
    const uint64_t z = d.xs_[j];
    uint64_t p = 1;
    for (uint64_t x : base) p = FieldMul(p, FieldSub(z, x));
    uint64_t* row = &d.check_[(j - threshold) * threshold];
    for (size_t i = 0; i < threshold; ++i)
      row[i] = FieldMul(FieldMul(p, FieldInverse(FieldSub(z, base[i]))), inv_den[i]);
  }
  return d;
}

StatusOr<std::vector<uint64_t>> ShamirDecoder::BerlekampWelch(std::span<const uint64_t> ys) const {
  const size_t k = xs_.size(), t = threshold_, e = correctable();
  auto disagree = [&] {
    return DataLossError("Shamir shares disagree: no polynomial of degree < " + N(t) +
                         " agrees with all but " + N(e) + " of the " + N(k) + " shares");
  };
  if (e == 0) return disagree();
  // Unknowns: Q (t + e coefficients), E without its leading 1 (e coefficients). Row i says
  // Q(x_i) = y_i E(x_i), i.e. sum_j Q_j x_i^j - y_i sum_j E_j x_i^j = y_i x_i^e.
  const size_t cols = t + 2 * e;
  std::vector<std::vector<uint64_t>> a(k, std::vector<uint64_t>(cols + 1));
  for (size_t i = 0; i < k; ++i) {
    uint64_t pw = 1;
    for (size_t j = 0; j < t + e; ++j) {
      a[i][j] = pw;
      if (j < e) a[i][t + e + j] = FieldSub(0, FieldMul(ys[i], pw));
      if (j == e) a[i][cols] = FieldMul(ys[i], pw);
      pw = FieldMul(pw, xs_[i]);
    }
  }
  // Gauss-Jordan; free unknowns are 0 (any solution gives Q / E = f when at most e are wrong).
  std::vector<size_t> pivot_col;
  size_t row = 0;
  for (size_t c = 0; c < cols && row < k; ++c) {
    size_t p = row;
    while (p < k && a[p][c] == 0) ++p;
    if (p == k) continue;
    std::swap(a[p], a[row]);
    const uint64_t inv = FieldInverse(a[row][c]);
    for (uint64_t& v : a[row]) v = FieldMul(v, inv);
    for (size_t r = 0; r < k; ++r) {
      if (r == row || a[r][c] == 0) continue;
      const uint64_t f = a[r][c];
      for (size_t j = c; j <= cols; ++j) a[r][j] = FieldSub(a[r][j], FieldMul(f, a[row][j]));
    }
    pivot_col.push_back(c);
    ++row;
  }
  for (size_t r = row; r < k; ++r)
    if (a[r][cols] != 0) return disagree();  // no solution
  std::vector<uint64_t> sol(cols, 0);
  for (size_t r = 0; r < row; ++r) sol[pivot_col[r]] = a[r][cols];
  // f = Q / E with E monic of degree e; the remainder must vanish.
  std::vector<uint64_t> rem(sol.begin(), sol.begin() + t + e), f(t, 0);
  std::vector<uint64_t> ec(sol.begin() + t + e, sol.end());
  ec.push_back(1);
  for (size_t d = t + e; d-- > e;) {
    const uint64_t q = rem[d];
    f[d - e] = q;
    for (size_t j = 0; j <= e; ++j) rem[d - e + j] = FieldSub(rem[d - e + j], FieldMul(q, ec[j]));
  }
  for (size_t j = 0; j < e; ++j)
    if (rem[j] != 0) return disagree();
  size_t wrong = 0;
  for (size_t i = 0; i < k; ++i) wrong += Evaluate(f, xs_[i]) != ys[i] ? 1 : 0;
  if (wrong > e) return disagree();
  return f;
}

StatusOr<ShamirDecoder::Result> ShamirDecoder::Decode(std::span<const ShamirShare> shares) const {
  const size_t k = xs_.size(), t = threshold_;
  if (shares.size() != k)
    return InvalidArgumentError("Shamir decoder for " + N(k) + " shares got " + N(shares.size()));
  for (size_t i = 0; i < k; ++i) {
    if (shares[i].x != xs_[i])
      return InvalidArgumentError("Shamir share " + N(i) + " is at x = " + N(shares[i].x) +
                                  ", the decoder's point is " + N(xs_[i]));
    for (uint64_t y : shares[i].y)
      if (y >= kShamirPrime) return DataLossError("Shamir share value is outside the field");
  }
  Result out;
  std::set<uint64_t> wrong;
  std::vector<uint64_t> ys(k);
  for (size_t c = 0; c < kShamirChunks; ++c) {
    for (size_t i = 0; i < k; ++i) ys[i] = shares[i].y[c];
    bool consistent = true;
    for (size_t j = t; j < k && consistent; ++j) {
      const uint64_t* row = &check_[(j - t) * t];
      uint64_t v = 0;
      for (size_t i = 0; i < t; ++i) v = FieldAdd(v, FieldMul(row[i], ys[i]));
      consistent = v == ys[j];
    }
    uint64_t value = 0;
    if (consistent) {
      for (size_t i = 0; i < t; ++i) value = FieldAdd(value, FieldMul(at_zero_[i], ys[i]));
    } else {
      auto f = BerlekampWelch(ys);
      if (!f.ok()) return f.status().WithContext("chunk " + N(c));
      value = (*f)[0];
      for (size_t i = 0; i < k; ++i)
        if (Evaluate(*f, xs_[i]) != ys[i]) wrong.insert(xs_[i]);
    }
    const size_t width = kShamirChunkStart[c + 1] - kShamirChunkStart[c];
    if (value >> (8 * width) != 0)
      return DataLossError("Shamir shares are inconsistent: reconstructed chunk " + N(c) +
                           " is not a " + N(width) + "-byte value");
    for (size_t b = 0; b < width; ++b)
      out.secret[kShamirChunkStart[c] + b] = static_cast<uint8_t>(value >> (8 * b));
  }
  out.wrong.assign(wrong.begin(), wrong.end());
  return out;
}

}  // namespace fedra::secagg
