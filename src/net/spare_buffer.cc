#include "net/spare_buffer.h"

namespace fedra::net {

void SpareBuffer::Put(Parameters p) {
  if (p.size() == 0) return;
  Parameters dropped;  // freed outside the lock
  std::lock_guard lock(mu_);
  if (spare_.size() == 0) {
    spare_ = std::move(p);
  } else {
    dropped = std::move(p);
  }
}

std::optional<Parameters> SpareBuffer::TakeIf(
    const std::vector<std::pair<std::string, Shape>>& layout) {
  std::lock_guard lock(mu_);
  const std::vector<TensorInfo>& have = spare_.tensors();
  if (spare_.size() == 0 || have.size() != layout.size()) return std::nullopt;
  for (size_t i = 0; i < layout.size(); ++i) {
    if (have[i].name != layout[i].first || have[i].shape != layout[i].second) return std::nullopt;
  }
  return std::exchange(spare_, Parameters());
}

Parameters SpareBuffer::Take() {
  std::lock_guard lock(mu_);
  return std::exchange(spare_, Parameters());
}

void SpareBuffer::Clear() {
  Parameters dropped;
  std::lock_guard lock(mu_);
  dropped = std::exchange(spare_, Parameters());
}

size_t SpareBuffer::bytes() const {
  std::lock_guard lock(mu_);
  return spare_.num_bytes();
}

}  // namespace fedra::net
