#include "fedra/core/rng.h"

#include <cmath>
#include <numeric>

#include "fedra/core/status.h"

namespace fedra {
namespace {

uint64_t SplitMix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

Rng::Rng(uint64_t seed) : key_(seed) {
  uint64_t x = seed;
  for (auto& word : s_) word = SplitMix64(x);
}

Rng Rng::Split(uint64_t id) const {
  // Mix key and id through two SplitMix rounds so nearby ids give unrelated keys.
  uint64_t x = key_ ^ 0x6a09e667f3bcc909ULL;
  uint64_t a = SplitMix64(x);
  uint64_t y = a ^ (id * 0xd1342543de82ef95ULL + 0x2545f4914f6cdd1dULL);
  return Rng(SplitMix64(y));
}

uint64_t Rng::NextU64() {
  const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = Rotl(s_[3], 45);
  return result;
}

double Rng::Uniform() { return static_cast<double>(NextU64() >> 11) * 0x1.0p-53; }

uint64_t Rng::UniformInt(uint64_t n) {
  FEDRA_CHECK(n > 0);
  __uint128_t m = static_cast<__uint128_t>(NextU64()) * n;
  uint64_t low = static_cast<uint64_t>(m);
  if (low < n) {
    const uint64_t threshold = (0 - n) % n;
    while (low < threshold) {
      m = static_cast<__uint128_t>(NextU64()) * n;
      low = static_cast<uint64_t>(m);
    }
  }
  return static_cast<uint64_t>(m >> 64);
}

double Rng::Normal() {
  if (has_spare_normal_) {
    has_spare_normal_ = false;
    return spare_normal_;
  }
  double u1 = Uniform();
  while (u1 <= 0.0) u1 = Uniform();
  const double u2 = Uniform();
  const double r = std::sqrt(-2.0 * std::log(u1));
  const double theta = 2.0 * M_PI * u2;
  spare_normal_ = r * std::sin(theta);
  has_spare_normal_ = true;
  return r * std::cos(theta);
}

double Rng::Gamma(double shape) {
  FEDRA_CHECK(shape > 0);
  if (shape < 1.0) {
    // Boost: Gamma(a) = Gamma(a + 1) * U^(1/a).
    double u = Uniform();
    while (u <= 0.0) u = Uniform();
    return Gamma(shape + 1.0) * std::pow(u, 1.0 / shape);
  }
  const double d = shape - 1.0 / 3.0;
  const double c = 1.0 / std::sqrt(9.0 * d);
  for (;;) {
    double x, v;
    do {
      x = Normal();
      v = 1.0 + c * x;
    } while (v <= 0.0);
    v = v * v * v;
    const double u = Uniform();
    if (u < 1.0 - 0.0331 * x * x * x * x) return d * v;
    if (u > 0.0 && std::log(u) < 0.5 * x * x + d * (1.0 - v + std::log(v))) return d * v;
  }
}

std::vector<double> Rng::Dirichlet(double alpha, size_t k) {
  FEDRA_CHECK(alpha > 0 && k > 0);
  std::vector<double> g(k);
  double sum = 0;
  for (auto& x : g) sum += (x = Gamma(alpha));
  if (sum <= 0) {  // every draw underflowed (tiny alpha): put all mass on one component
    std::fill(g.begin(), g.end(), 0.0);
    g[UniformInt(k)] = 1.0;
    return g;
  }
  for (auto& x : g) x /= sum;
  return g;
}

std::vector<size_t> Rng::SampleWithoutReplacement(size_t n, size_t k) {
  FEDRA_CHECK(k <= n);
  std::vector<size_t> idx(n);
  std::iota(idx.begin(), idx.end(), size_t{0});
  // Partial Fisher-Yates: the first k slots end up a uniform random k-subset.
  for (size_t i = 0; i < k; ++i) std::swap(idx[i], idx[i + UniformInt(n - i)]);
  idx.resize(k);
  return idx;
}

}  // namespace fedra
