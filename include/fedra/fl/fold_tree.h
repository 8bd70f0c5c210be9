// FoldTree: the fixed order in which the simulation sums the results it folds where they are
// trained, so that the sums are bit-identical however its clients are spread over processes
// (MPI ranks, fedra/mpi/mpi_simulation.h) or threads.
//
// Clients 0..N-1 fall into kLeaves = 64 leaves of consecutive ids: leaf l holds the clients
// [l*N/64, (l+1)*N/64) (ids >= N, which no client has, go to the last leaf). A leaf folds its
// clients' results in the order of the plan's tasks; leaves combine pairwise up a binary tree,
// ((l0 + l1) + (l2 + l3)) + ..., with UpdateAccumulator::Merge. Part p of P (P a power of two
// <= 64) is the subtree over leaves [p*64/P, (p+1)*64/P), that is the clients
// [p*N/P, (p+1)*N/P): P processes that each sum their part and then combine the parts
// pairwise in part order (CombineParts) reach the bits of one process summing everything.
//
// Memory, per sum of the fold: a node is merged as soon as both halves are complete, so a plan
// sorted by client (as SampleClients makes it) holds at most one partial sum per tree level
// (6) plus the open leaf (2 buffers: UpdateAccumulator's fold keeps a spare); an unsorted plan
// up to two per leaf.
//
// Thread-safety: not thread-safe.
#ifndef FEDRA_FL_FOLD_TREE_H_
#define FEDRA_FL_FOLD_TREE_H_

#include <cstddef>
#include <map>
#include <utility>
#include <vector>

#include "fedra/core/status.h"
#include "fedra/fl/types.h"
#include "fedra/fl/update_accumulator.h"

namespace fedra {

class FoldTree {
 public:
  static constexpr size_t kLeaves = 64;

  // The tree of `plan` over clients 0..num_clients-1, restricted to part `part` of `parts`.
  // InvalidArgument unless num_clients > 0, parts is a power of two in [1, 64] and part < parts.
  static StatusOr<FoldTree> Create(size_t num_clients, const RoundPlan& plan, size_t part = 0,
                                   size_t parts = 1);

  // The part that holds `client` (of `parts` over num_clients clients).
  static size_t PartOf(ClientId client, size_t num_clients, size_t parts);

  // The tasks of the plan that belong to this part, in plan order.
  const std::vector<size_t>& tasks() const { return tasks_; }

  // The sums that the result of plan task `task` folds into (its leaf's).
  // REQUIRES: `task` is one of tasks() and not yet Done().
  UpdateAccumulator& SumsOf(size_t task);
  // Marks `task` folded (or failed); completes its leaf when it was the leaf's last task.
  void Done(size_t task);

  // The part's sums. REQUIRES: every task of tasks() is Done().
  UpdateAccumulator Take();

  // The whole tree's sums from its parts' sums given in part order (a power-of-two count):
  // what P processes combine after each took its part.
  static UpdateAccumulator CombineParts(std::vector<UpdateAccumulator> parts);

 private:
  FoldTree() = default;
  // Stores a complete node and merges it up while its sibling is complete too.
  void Complete(size_t level, size_t index, UpdateAccumulator sums);

  size_t first_leaf_ = 0, end_leaf_ = 0;
  size_t top_level_ = 0;  // the part's root: (top_level_, first_leaf_ >> top_level_)
  std::vector<size_t> tasks_;
  std::vector<size_t> leaf_of_task_;          // per plan task (kLeaves: another part's)
  std::vector<size_t> remaining_;             // per leaf: tasks not yet Done
  std::map<size_t, UpdateAccumulator> open_;  // leaves being folded
  std::map<std::pair<size_t, size_t>, UpdateAccumulator> complete_;  // (level, index)
};

}  // namespace fedra

#endif  // FEDRA_FL_FOLD_TREE_H_
