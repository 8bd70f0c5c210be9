// Linear convolution of real sequences by a radix-2 complex FFT (private to the PLD
// accountant). Round-off is of order 1e-16 times the largest input, so results may hold
// tiny negative values; callers clamp them.
#ifndef FEDRA_PRIVACY_DP_FFT_H_
#define FEDRA_PRIVACY_DP_FFT_H_

#include <complex>
#include <span>
#include <vector>

namespace fedra::dp {

// In-place FFT (inverse: conjugate twiddles, scaled by 1/n). REQUIRES: size a power of two.
void Fft(std::vector<std::complex<double>>& a, bool inverse);

// c[k] = sum_i a[i] b[k - i], of size a.size() + b.size() - 1. REQUIRES: non-empty inputs.
std::vector<double> Convolve(std::span<const double> a, std::span<const double> b);

}  // namespace fedra::dp

#endif  // FEDRA_PRIVACY_DP_FFT_H_
