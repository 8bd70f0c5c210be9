// Prg: a cryptographic pseudo-random generator, the AES-256-CTR keystream under a full 256-bit
// key with a zero IV. SecAgg expands every mask with it (the key is a self-mask seed b_u or an
// HKDF output of a pairwise X25519 agreement), so client and server expand the same key to the
// same stream. It doubles as the CSPRNG for Shamir coefficients and stochastic rounding, keyed
// from RAND_priv_bytes (FromSystem) or, only in tests and reproducible experiments, a fixed key.
//
// A key must never be used for two different streams: masks use fresh per-round keys.
// Thread-safety: not thread-safe; one Prg per thread.
#ifndef FEDRA_PRIVACY_SECAGG_PRG_H_
#define FEDRA_PRIVACY_SECAGG_PRG_H_

#include <cstdint>
#include <memory>
#include <span>

#include "fedra/core/status.h"
#include "fedra/privacy/secagg/crypto.h"

namespace fedra::secagg {

class Prg {
 public:
  // The stream of AES-256-CTR(key, IV = 0). FEDRA_CHECKs that OpenSSL accepts the key.
  explicit Prg(const Key256& key);
  // Keyed from RAND_priv_bytes.
  static StatusOr<Prg> FromSystem();
  ~Prg();
  Prg(Prg&& other) noexcept;
  Prg& operator=(Prg&& other) noexcept;
  Prg(const Prg&) = delete;
  Prg& operator=(const Prg&) = delete;

  // The next out.size() bytes of the stream.
  void Fill(std::span<uint8_t> out);
  uint64_t NextU64();
  // Uniform in [0, bound), by rejection. REQUIRES: bound > 0.
  uint64_t UniformBelow(uint64_t bound);

  // acc[i] += (or -=) the next acc.size() stream words, read as little-endian uint32, mod 2^32.
  void AddTo(std::span<uint32_t> acc);
  void SubtractFrom(std::span<uint32_t> acc);

 private:
  template <bool kAdd>
  void Accumulate(std::span<uint32_t> acc);

  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

// Adds sign * PRG(key)[0..acc.size()) to acc, mod 2^32 (sign = +1 or -1). A shorthand for one
// mask expansion.
void AddMask(const Key256& key, int sign, std::span<uint32_t> acc);

}  // namespace fedra::secagg

#endif  // FEDRA_PRIVACY_SECAGG_PRG_H_
