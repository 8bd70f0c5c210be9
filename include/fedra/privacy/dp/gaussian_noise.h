// GaussianNoise: N(0, sigma^2) samples for differential privacy, from a cryptographically
// secure generator: the ChaCha20 keystream (OpenSSL EVP) under a 256-bit key from
// RAND_priv_bytes, turned into normals by Box-Muller on 53-bit uniforms in (0, 1].
// FromSeed() derives the key from a seed instead (SHA-256 of seed and stream): for tests and
// reproducible experiments only, never for a deployment whose noise must stay secret.
//
// Floating-point caveat (Mironov, "On Significance of the Least Significant Bits for
// Differential Privacy", CCS 2012): the DP guarantee is proved for real-valued noise; floating
// point samples miss values and their low-order bits can reveal the unnoised input. fedra
// samples in double precision and adds the noise to float32 values in double before rounding
// the result once to float32 (AddTo), which hides the sample's low-order bits behind float
// rounding but is not a proof; see docs/privacy-dp.md.
//
// Thread-safety: not thread-safe; give each thread its own generator.
#ifndef FEDRA_PRIVACY_DP_GAUSSIAN_NOISE_H_
#define FEDRA_PRIVACY_DP_GAUSSIAN_NOISE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "fedra/core/status.h"
#include "fedra/ml/parameters.h"

namespace fedra::dp {

class GaussianNoise {
 public:
  // Keyed from OpenSSL's RAND_priv_bytes. Internal error if OpenSSL fails.
  static StatusOr<GaussianNoise> FromOsEntropy();
  // Keyed from (seed, stream): the same pair always gives the same samples.
  static StatusOr<GaussianNoise> FromSeed(uint64_t seed, uint64_t stream = 0);

  GaussianNoise(GaussianNoise&&) noexcept;
  GaussianNoise& operator=(GaussianNoise&&) noexcept;
  ~GaussianNoise();

  // One N(0, 1) sample.
  double Normal();
  // x[i] += N(0, stddev^2) for every i (stddev 0: unchanged). REQUIRES: stddev >= 0.
  void AddTo(std::span<float> x, double stddev);
  void AddTo(Parameters& x, double stddev) { AddTo(x.span(), stddev); }

 private:
  struct Cipher;
  explicit GaussianNoise(std::unique_ptr<Cipher> cipher);
  static StatusOr<GaussianNoise> FromKey(const std::array<uint8_t, 32>& key);
  uint64_t NextU64();
  void Refill();

  std::unique_ptr<Cipher> cipher_;
  std::array<uint8_t, 4096> buffer_{};
  size_t pos_ = 0;
  bool has_spare_ = false;
  double spare_ = 0.0;
};

}  // namespace fedra::dp

#endif  // FEDRA_PRIVACY_DP_GAUSSIAN_NOISE_H_
