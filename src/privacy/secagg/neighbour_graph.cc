#include "fedra/privacy/secagg/neighbour_graph.h"

#include <algorithm>

#include "fedra/privacy/secagg/prg.h"

namespace fedra::secagg {

NeighbourGraph::NeighbourGraph(const SecAggConfig& config)
    : n_(config.num_clients), k_(config.neighbours), complete_(config.neighbours == 0) {
  if (complete_) return;
  FEDRA_CHECK(k_ % 2 == 0 && k_ < n_ - 1);
  client_.resize(n_);
  for (uint32_t i = 0; i < n_; ++i) client_[i] = i;
  Prg prg(config.graph_seed);  // public randomness: anyone can recompute the graph
  for (uint32_t i = n_; i > 1; --i) std::swap(client_[i - 1], client_[prg.UniformBelow(i)]);
  position_.resize(n_);
  for (uint32_t i = 0; i < n_; ++i) position_[client_[i]] = i;
}

std::vector<uint32_t> NeighbourGraph::Neighbours(uint32_t id) const {
  FEDRA_CHECK(id < n_);
  std::vector<uint32_t> out;
  if (complete_) {
    out.reserve(n_ - 1);
    for (uint32_t v = 0; v < n_; ++v)
      if (v != id) out.push_back(v);
    return out;
  }
  out.reserve(k_);
  const uint32_t p = position_[id];
  for (uint32_t d = 1; d <= k_ / 2; ++d) {
    out.push_back(client_[(p + d) % n_]);
    out.push_back(client_[(p + n_ - d) % n_]);
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool NeighbourGraph::Adjacent(uint32_t a, uint32_t b) const {
  if (a == b || a >= n_ || b >= n_) return false;
  if (complete_) return true;
  const uint32_t d = (position_[a] + n_ - position_[b]) % n_;
  return d <= k_ / 2 || n_ - d <= k_ / 2;
}

}  // namespace fedra::secagg
