// Private to src/net: the memory of one upload the round driver is done with, kept for the
// next upload of the same layout. Fresh memory for a large upload costs page faults and a
// zero fill (about 0.4 s per 100 MB on the 2-core VM of docs/benchmarks.md); memory that is
// mapped already costs neither. One buffer at most, and the server drops it when a round's
// fit ends: besides the uploads themselves it holds at most the buffer of the upload whose
// slot the next one takes over.
//
// Thread-safe.
#ifndef FEDRA_SRC_NET_SPARE_BUFFER_H_
#define FEDRA_SRC_NET_SPARE_BUFFER_H_

#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "fedra/ml/parameters.h"

namespace fedra::net {

class SpareBuffer {
 public:
  // Keeps `p` unless a buffer is kept already.
  void Put(Parameters p);
  // The kept buffer (its values are stale) if its tensors are `layout`, names and shapes in
  // order; nothing otherwise.
  std::optional<Parameters> TakeIf(const std::vector<std::pair<std::string, Shape>>& layout);
  // The kept buffer, whatever its layout (empty if none).
  Parameters Take();
  void Clear();
  size_t bytes() const;

 private:
  mutable std::mutex mu_;
  Parameters spare_;  // size() == 0: none
};

}  // namespace fedra::net

#endif  // FEDRA_SRC_NET_SPARE_BUFFER_H_
