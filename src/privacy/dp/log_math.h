// Log-space arithmetic shared by the DP accountants (private header).
#ifndef FEDRA_PRIVACY_DP_LOG_MATH_H_
#define FEDRA_PRIVACY_DP_LOG_MATH_H_

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

namespace fedra::dp {

inline constexpr double kInf = std::numeric_limits<double>::infinity();

// log(exp(x) + exp(y)).
inline double LogAdd(double x, double y) {
  const double a = std::min(x, y), b = std::max(x, y);
  if (a == -std::numeric_limits<double>::infinity()) return b;
  return std::log1p(std::exp(a - b)) + b;
}

// log(exp(x) - exp(y)) for x >= y; -inf when equal (and, after rounding, when x < y).
inline double LogSub(double x, double y) {
  if (y == -std::numeric_limits<double>::infinity()) return x;
  if (x <= y) return -std::numeric_limits<double>::infinity();
  return std::log(std::expm1(x - y)) + y;
}

// log(erfc(x)), accurate far into the upper tail where erfc underflows.
inline double LogErfc(double x) {
  if (x < 25) return std::log(std::erfc(x));
  // Asymptotic series at infinity (as dp_accounting's fallback).
  const double x2 = x * x;
  return -std::log(std::numbers::pi) / 2 - std::log(x) - x2 - 0.5 / x2 + 0.625 / (x2 * x2) -
         37.0 / 24.0 / (x2 * x2 * x2) + 353.0 / 64.0 / (x2 * x2 * x2 * x2);
}

}  // namespace fedra::dp

#endif  // FEDRA_PRIVACY_DP_LOG_MATH_H_
