#include "net/model_lease.h"

namespace fedra::net {

ModelLease::ModelLease(const Parameters& global, const std::map<std::string, Parameters>& broadcast)
    : global_(&global),
      broadcast_(&broadcast),
      layout_(std::make_shared<const std::vector<TensorInfo>>(global.tensors())) {}

std::vector<PayloadGroup> ModelLease::GroupsLocked() const {
  std::vector<PayloadGroup> groups{{"global", global_}};
  for (const auto& [name, p] : *broadcast_) groups.push_back({"broadcast/" + name, &p});
  return groups;
}

uint64_t ModelLease::Describe(SpecList* specs) const {
  std::lock_guard lock(mu_);
  return DescribePayload(GroupsLocked(), specs);
}

ModelLease::Reader ModelLease::NewReader(size_t chunk_bytes) const {
  std::lock_guard lock(mu_);
  Reader r;
  r.cursor.emplace(GroupsLocked(), chunk_bytes);
  r.generation = generation_;
  return r;
}

bool ModelLease::Next(Reader& reader, std::string* chunk) const {
  std::lock_guard lock(mu_);
  if (reader.generation != generation_) {
    reader.cursor->Rebind(GroupsLocked());
    reader.generation = generation_;
  }
  return reader.cursor->Next(chunk);
}

bool ModelLease::Return(long holders) {
  // Only the lender calls this, and its model stays unchanged until we return: the copy is
  // made without the lock, so downloads go on meanwhile.
  if (own_global_ || !global_) return false;
  if (holders <= 1) {
    std::lock_guard lock(mu_);
    global_ = nullptr;
    broadcast_ = nullptr;
    return false;
  }
  auto global = std::make_unique<Parameters>(*global_);
  auto broadcast = std::make_unique<std::map<std::string, Parameters>>(*broadcast_);
  std::lock_guard lock(mu_);
  own_global_ = std::move(global);
  own_broadcast_ = std::move(broadcast);
  global_ = own_global_.get();
  broadcast_ = own_broadcast_.get();
  ++generation_;
  return true;
}

}  // namespace fedra::net
