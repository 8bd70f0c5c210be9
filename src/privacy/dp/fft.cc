#include "privacy/dp/fft.h"

#include <cmath>
#include <numbers>
#include <utility>

#include "fedra/core/status.h"

namespace fedra::dp {

void Fft(std::vector<std::complex<double>>& a, bool inverse) {
  const size_t n = a.size();
  FEDRA_CHECK((n & (n - 1)) == 0);
  for (size_t i = 1, j = 0; i < n; ++i) {  // bit-reversal permutation
    size_t bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) std::swap(a[i], a[j]);
  }
  for (size_t len = 2; len <= n; len <<= 1) {
    const double angle = 2 * std::numbers::pi / static_cast<double>(len) * (inverse ? 1 : -1);
    const std::complex<double> step(std::cos(angle), std::sin(angle));
    // Twiddles computed directly every 64 steps to bound the drift of the recurrence.
    for (size_t i = 0; i < n; i += len) {
      std::complex<double> w(1, 0);
      for (size_t k = 0; k < len / 2; ++k) {
        if (k % 64 == 0) {
          const double t = angle * static_cast<double>(k);
          w = {std::cos(t), std::sin(t)};
        }
        const std::complex<double> u = a[i + k], v = a[i + k + len / 2] * w;
        a[i + k] = u + v;
        a[i + k + len / 2] = u - v;
        w *= step;
      }
    }
  }
  if (inverse) {
    for (auto& x : a) x /= static_cast<double>(n);
  }
}

std::vector<double> Convolve(std::span<const double> a, std::span<const double> b) {
  FEDRA_CHECK(!a.empty() && !b.empty());
  const size_t out = a.size() + b.size() - 1;
  size_t n = 1;
  while (n < out) n <<= 1;
  // Both real inputs in one complex transform: x = a + i b, then A B from X's symmetries.
  std::vector<std::complex<double>> x(n);
  for (size_t i = 0; i < a.size(); ++i) x[i].real(a[i]);
  for (size_t i = 0; i < b.size(); ++i) x[i].imag(b[i]);
  Fft(x, false);
  std::vector<std::complex<double>> y(n);
  for (size_t k = 0; k < n; ++k) {
    const std::complex<double> xk = x[k], xn = std::conj(x[(n - k) & (n - 1)]);
    const std::complex<double> fa = (xk + xn) * 0.5;
    const std::complex<double> fb = (xk - xn) * std::complex<double>(0, -0.5);
    y[k] = fa * fb;
  }
  Fft(y, true);
  std::vector<double> c(out);
  for (size_t i = 0; i < out; ++i) c[i] = y[i].real();
  return c;
}

}  // namespace fedra::dp
