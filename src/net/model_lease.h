// Private to the net layer: the model (and broadcast vectors) that a batch of tasks sends,
// lent by the round driver without a copy. Downloads read it a chunk at a time under the
// lease's lock. Before the driver may change its model (the batch has closed), the server
// calls Return(): a download still reading then gets the lease's own copy, so a copy of the
// model exists only while such a late download runs, not in every round.
//
// Thread-safety: thread-safe.
#ifndef FEDRA_SRC_NET_MODEL_LEASE_H_
#define FEDRA_SRC_NET_MODEL_LEASE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "fedra/ml/parameters.h"
#include "net/wire.h"

namespace fedra::net {

class ModelLease {
 public:
  // REQUIRES: `global` and `broadcast` stay unchanged until Return().
  ModelLease(const Parameters& global, const std::map<std::string, Parameters>& broadcast);

  // The payload's specs ("global", then "broadcast/<name>") into `specs`; its byte count.
  uint64_t Describe(SpecList* specs) const;
  // A cursor over the payload, read through Next().
  struct Reader {
    std::optional<ChunkCursor> cursor;
    uint64_t generation = 0;
  };
  Reader NewReader(size_t chunk_bytes) const;
  // The next chunk of `reader`'s payload into `chunk`; false when it is exhausted.
  bool Next(Reader& reader, std::string* chunk) const;

  // The lender's model is about to change: copies it (and the broadcast) into the lease if
  // anyone but the lender still holds it (`holders` > 1, the shared_ptr's use count), else
  // lets go. Returns whether it copied. Called once, by the lender only.
  bool Return(long holders);

  // The tensors of the model, for checks of uploads' layouts (a copy: lives on its own).
  std::shared_ptr<const std::vector<TensorInfo>> layout() const { return layout_; }

 private:
  std::vector<PayloadGroup> GroupsLocked() const;

  mutable std::mutex mu_;
  const Parameters* global_;
  const std::map<std::string, Parameters>* broadcast_;
  uint64_t generation_ = 0;  // bumped when the lease starts reading its own copy
  std::unique_ptr<Parameters> own_global_;
  std::unique_ptr<std::map<std::string, Parameters>> own_broadcast_;
  std::shared_ptr<const std::vector<TensorInfo>> layout_;
};

}  // namespace fedra::net

#endif  // FEDRA_SRC_NET_MODEL_LEASE_H_
