// SecAggConfig: the public parameters of one secure-aggregation round, identical on the server
// and every client (the server announces them with the round). Clients are numbered 0..n-1
// within the round; client i holds Shamir evaluation point i + 1.
//
// Two modes:
//  - classic SecAgg (Bonawitz et al., CCS 2017): neighbours = 0, every client masks with and
//    shares to every other client; threshold t defaults to floor(n/2) + 1.
//  - SecAgg+ (Bell et al., CCS 2020): neighbours = k > 0 (even), each client masks with and
//    shares to its k neighbours on a random circulant k-regular graph drawn from graph_seed
//    (public randomness); threshold t counts shares among the k neighbours plus the client
//    itself and defaults to k/2 + 1. DefaultNeighbours(n) gives k = 3 * ceil(log2 n) rounded
//    up to even (a heuristic: 42 for n = 10,000), or the complete graph when that is >= n - 1.
//
// Thread-safety: value type.
#ifndef FEDRA_PRIVACY_SECAGG_CONFIG_H_
#define FEDRA_PRIVACY_SECAGG_CONFIG_H_

#include <array>
#include <cstddef>
#include <cstdint>

#include "fedra/core/status.h"

namespace fedra::secagg {

struct SecAggConfig {
  uint64_t round = 0;                    // bound into every key derivation and ciphertext
  uint32_t num_clients = 0;              // n: clients selected for the round, ids 0..n-1
  uint32_t threshold = 0;                // t; 0 = the mode's default
  uint32_t neighbours = 0;               // k; 0 = classic SecAgg (complete graph)
  size_t vector_length = 0;              // m: uint32 words per input vector (Z_2^32)
  std::array<uint8_t, 32> graph_seed{};  // public randomness for the SecAgg+ graph
  // The server aborts a stage when fewer than this many clients answered it; 0 = threshold.
  uint32_t min_survivors = 0;
};

// SecAgg+ neighbourhood size for n clients (see above).
uint32_t DefaultNeighbours(uint32_t num_clients);

// `config` with defaults filled in, or InvalidArgument naming the bad field: n >= 2,
// m >= 1, k even and >= 2 when set (k >= n - 1 becomes the complete graph), 2 <= t <= holders
// (n for classic, k + 1 for SecAgg+), t > holders / 2 unless allow_low_threshold,
// min_survivors <= n.
StatusOr<SecAggConfig> ResolveConfig(const SecAggConfig& config, bool allow_low_threshold = false);

// True when every client is every other client's neighbour (classic SecAgg).
inline bool IsComplete(const SecAggConfig& c) { return c.neighbours == 0; }

}  // namespace fedra::secagg

#endif  // FEDRA_PRIVACY_SECAGG_CONFIG_H_
