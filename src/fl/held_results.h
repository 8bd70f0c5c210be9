// Private to src/: the results the influence bound holds in the first round of a run, while
// it has no reference yet (fedra/fl/influence_bound.h). Up to `memory_bytes` of their vectors
// stay in memory; beyond that each further result's vectors go to an unlinked temporary file
// and come back one at a time when taken, so calibrating on 8 results of a 1 GB model costs
// disk, not 8 GB of server memory.
//
// Thread-safety: not thread-safe (the round driver's thread).
#ifndef FEDRA_SRC_FL_HELD_RESULTS_H_
#define FEDRA_SRC_FL_HELD_RESULTS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fedra/core/status.h"
#include "fedra/fl/types.h"

namespace fedra::internal {

class HeldResults {
 public:
  // `spill_dir`: where the temporary file goes ("" = $TMPDIR, else /tmp).
  HeldResults(size_t memory_bytes, std::string spill_dir);
  ~HeldResults();
  HeldResults(const HeldResults&) = delete;
  HeldResults& operator=(const HeldResults&) = delete;

  // Holds `result`. A result that does not fit the memory left is spilled; if the file cannot
  // be written (disk full), it stays in memory and the error is returned for the log. When
  // `spilled_update` is given, a spilled update's memory goes there (for reuse) instead of
  // back to the allocator.
  Status Hold(FitResult result, Parameters* spilled_update = nullptr);
  size_t size() const { return held_.size(); }
  // The i-th result held, whole again; each index once. An error if its spilled vectors
  // cannot be read back (the caller counts that client as failed). A spilled vector is read
  // into `spare` when it has the same layout (e.g. the previous result's update, done with):
  // memory that is mapped already costs no page faults and no zero fill, which for a large
  // model is most of reading it back.
  StatusOr<FitResult> Take(size_t i, Parameters spare = {});
  // Forgets every result and truncates the file.
  void Clear();

  size_t bytes_in_memory() const { return in_memory_; }
  uint64_t bytes_spilled() const { return spilled_; }

 private:
  struct Vector {      // a spilled Parameters: its layout, and where its floats are in the file
    std::string name;  // "" = the update, else the extra's name
    std::vector<TensorInfo> layout;
    uint64_t offset = 0;
  };
  struct Held {
    FitResult result;  // vectors emptied when spilled
    std::vector<Vector> spilled;
  };
  Status Spill(Held& h, Parameters* spilled_update);
  Status Open();

  size_t memory_bytes_;
  std::string spill_dir_;
  int fd_ = -1;
  uint64_t end_ = 0;  // where the next spilled vector goes
  size_t in_memory_ = 0;
  uint64_t spilled_ = 0;
  std::vector<Held> held_;
};

}  // namespace fedra::internal

#endif  // FEDRA_SRC_FL_HELD_RESULTS_H_
