// Shamir t-of-n secret sharing of 32-byte secrets over the prime field GF(p), p = 2^61 - 1.
// A secret is cut into kShamirChunks field-sized chunks (four of 7 bytes, one of 4 bytes),
// each shared with its own random polynomial of degree t - 1; a share is the evaluation of all
// chunk polynomials at the holder's x-coordinate (x != 0). Any t shares give the secret back;
// fewer give no information about it.
//
// Reconstruction is split so that Lagrange coefficients are computed once per set of share
// holders and reused for every secret those holders reconstruct.
//
// Thread-safety: free functions on value types.
#ifndef FEDRA_PRIVACY_SECAGG_SHAMIR_H_
#define FEDRA_PRIVACY_SECAGG_SHAMIR_H_

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "fedra/core/status.h"
#include "fedra/privacy/secagg/crypto.h"
#include "fedra/privacy/secagg/prg.h"

namespace fedra::secagg {

inline constexpr uint64_t kShamirPrime = (uint64_t{1} << 61) - 1;
inline constexpr size_t kShamirChunks = 5;
// Chunk i holds secret bytes [kShamirChunkStart[i], kShamirChunkStart[i + 1]): 7,7,7,7,4 bytes,
// so every chunk is < 2^56 < p and an interpolated value of more bytes exposes bad shares.
inline constexpr std::array<size_t, kShamirChunks + 1> kShamirChunkStart = {0, 7, 14, 21, 28, 32};

struct ShamirShare {
  uint64_t x = 0;                           // holder's evaluation point, in [1, p)
  std::array<uint64_t, kShamirChunks> y{};  // one field element per chunk, each < p
};

// Field arithmetic mod kShamirPrime. REQUIRES: inputs < p.
uint64_t FieldMul(uint64_t a, uint64_t b);
uint64_t FieldAdd(uint64_t a, uint64_t b);
uint64_t FieldSub(uint64_t a, uint64_t b);
// a^(p-2). REQUIRES: a != 0.
uint64_t FieldInverse(uint64_t a);

// Shares `secret` at each of `xs` with threshold t, drawing polynomial coefficients from `rng`.
// InvalidArgument unless 1 <= t <= xs.size() and the xs are distinct and in [1, p).
StatusOr<std::vector<ShamirShare>> ShamirSplit(const Key256& secret, size_t threshold,
                                               std::span<const uint64_t> xs, Prg& rng);

// Lagrange coefficients for interpolating at 0 from the points `xs` (in that order).
// InvalidArgument for a zero, out-of-field or repeated x.
StatusOr<std::vector<uint64_t>> LagrangeAtZero(std::span<const uint64_t> xs);

// The secret from shares whose x-coordinates are, in order, those `coefficients` were computed
// for. DataLoss if a share value is out of the field or the interpolated chunks are not a
// valid encoding (which happens when shares are inconsistent or corrupted).
StatusOr<Key256> ShamirCombine(std::span<const uint64_t> coefficients,
                               std::span<const ShamirShare> shares);

}  // namespace fedra::secagg

#endif  // FEDRA_PRIVACY_SECAGG_SHAMIR_H_
