// Rng: a seeded, deterministic, splittable pseudo-random generator for experiments
// (initialisation, shuffling, sampling, partitioning, synthetic data).
//
// Split(id) derives an independent child stream from the generator's *key*, not from
// its current position, so client 17's stream is the same whether it is created first or
// last, on one thread or many: results never depend on thread count or scheduling.
// Distributions are implemented here (not std::*_distribution) so a seed gives the same
// numbers with every standard library.
//
// NOT for secrets: keys, masks and DP noise use OpenSSL's RAND (see privacy/).
// Thread-safety: not thread-safe; give each thread its own Split().
#ifndef FEDRA_CORE_RNG_H_
#define FEDRA_CORE_RNG_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace fedra {

class Rng {
 public:
  using result_type = uint64_t;

  explicit Rng(uint64_t seed);

  // Child generator for stream `id`; depends only on this generator's key and `id`.
  Rng Split(uint64_t id) const;
  uint64_t key() const { return key_; }

  uint64_t NextU64();
  // Uniform in [0, 1) with 53 random bits.
  double Uniform();
  // Uniform integer in [0, n). REQUIRES: n > 0. Unbiased (Lemire's method).
  uint64_t UniformInt(uint64_t n);
  // Standard normal N(0, 1) (Box-Muller; caches the second value).
  double Normal();
  double Normal(double mean, double stddev) { return mean + stddev * Normal(); }
  // Gamma(shape, 1) (Marsaglia-Tsang). REQUIRES: shape > 0.
  double Gamma(double shape);
  // A draw from Dirichlet(alpha, ..., alpha) of dimension k. REQUIRES: alpha > 0, k > 0.
  std::vector<double> Dirichlet(double alpha, size_t k);
  bool Bernoulli(double p) { return Uniform() < p; }

  // Fisher-Yates shuffle.
  template <typename T>
  void Shuffle(std::span<T> items) {
    for (size_t i = items.size(); i > 1; --i) {
      size_t j = UniformInt(i);
      std::swap(items[i - 1], items[j]);
    }
  }
  template <typename T>
  void Shuffle(std::vector<T>& items) {
    Shuffle(std::span<T>(items));
  }

  // k distinct indices from [0, n), in random order. REQUIRES: k <= n.
  std::vector<size_t> SampleWithoutReplacement(size_t n, size_t k);

  // std::UniformRandomBitGenerator, for interoperation only.
  static constexpr uint64_t min() { return 0; }
  static constexpr uint64_t max() { return ~uint64_t{0}; }
  uint64_t operator()() { return NextU64(); }

 private:
  uint64_t key_;
  std::array<uint64_t, 4> s_;  // xoshiro256** state
  bool has_spare_normal_ = false;
  double spare_normal_ = 0.0;
};

}  // namespace fedra

#endif  // FEDRA_CORE_RNG_H_
