// NeighbourGraph: who masks with and shares to whom in one round. Classic SecAgg uses the
// complete graph; SecAgg+ a circulant k-regular graph (a Harary graph H_{k,n}) on a random
// permutation of the clients: client at ring position i is adjacent to positions i +- 1..k/2.
// The permutation is drawn with AES-256-CTR keyed by the round's public graph_seed, so the
// server and every client build the same graph without talking. Memory is O(n), not O(n k).
//
// Thread-safety: immutable after construction; concurrent const use is safe.
#ifndef FEDRA_PRIVACY_SECAGG_NEIGHBOUR_GRAPH_H_
#define FEDRA_PRIVACY_SECAGG_NEIGHBOUR_GRAPH_H_

#include <cstdint>
#include <vector>

#include "fedra/privacy/secagg/config.h"

namespace fedra::secagg {

class NeighbourGraph {
 public:
  // REQUIRES: `config` came from ResolveConfig.
  explicit NeighbourGraph(const SecAggConfig& config);

  uint32_t num_clients() const { return n_; }
  // Neighbours of `id` (never `id` itself), sorted ascending. REQUIRES: id < n.
  std::vector<uint32_t> Neighbours(uint32_t id) const;
  size_t degree() const { return complete_ ? n_ - 1 : k_; }
  bool Adjacent(uint32_t a, uint32_t b) const;

 private:
  uint32_t n_;
  uint32_t k_;
  bool complete_;
  std::vector<uint32_t> position_;  // client id -> ring position (SecAgg+ only)
  std::vector<uint32_t> client_;    // ring position -> client id
};

}  // namespace fedra::secagg

#endif  // FEDRA_PRIVACY_SECAGG_NEIGHBOUR_GRAPH_H_
