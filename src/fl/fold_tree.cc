#include "fedra/fl/fold_tree.h"

#include <bit>

#include "fedra/core/logging.h"

namespace fedra {
namespace {

// The first client of leaf `leaf`.
size_t LeafStart(size_t leaf, size_t num_clients) { return leaf * num_clients / FoldTree::kLeaves; }

size_t LeafOf(ClientId client, size_t num_clients) {
  if (client >= num_clients) return FoldTree::kLeaves - 1;
  // The last leaf that starts at or before `client` (empty leaves start where the next does).
  size_t leaf = static_cast<size_t>(client) * FoldTree::kLeaves / num_clients;
  while (leaf + 1 < FoldTree::kLeaves && LeafStart(leaf + 1, num_clients) <= client) ++leaf;
  while (leaf > 0 && LeafStart(leaf, num_clients) > client) --leaf;
  return leaf;
}

}  // namespace

StatusOr<FoldTree> FoldTree::Create(size_t num_clients, const RoundPlan& plan, size_t part,
                                    size_t parts) {
  if (num_clients == 0) return InvalidArgumentError("a fold tree needs at least one client");
  if (parts == 0 || parts > kLeaves || !std::has_single_bit(parts)) {
    return InvalidArgumentError("the simulation splits into 1, 2, 4, ... or 64 parts, not " +
                                std::to_string(parts));
  }
  if (part >= parts) {
    return InvalidArgumentError("part " + std::to_string(part) + " of " + std::to_string(parts));
  }
  FoldTree t;
  const size_t width = kLeaves / parts;
  t.first_leaf_ = part * width;
  t.end_leaf_ = t.first_leaf_ + width;
  t.top_level_ = static_cast<size_t>(std::countr_zero(width));
  t.remaining_.assign(kLeaves, 0);
  t.leaf_of_task_.resize(plan.tasks.size());
  for (size_t i = 0; i < plan.tasks.size(); ++i) {
    const size_t leaf = LeafOf(plan.tasks[i].client, num_clients);
    const bool mine = leaf >= t.first_leaf_ && leaf < t.end_leaf_;
    t.leaf_of_task_[i] = mine ? leaf : kLeaves;
    if (!mine) continue;
    t.tasks_.push_back(i);
    ++t.remaining_[leaf];
  }
  // Leaves without a task are complete (and empty) from the start.
  for (size_t leaf = t.first_leaf_; leaf < t.end_leaf_; ++leaf) {
    if (t.remaining_[leaf] == 0) t.Complete(0, leaf, UpdateAccumulator());
  }
  return t;
}

size_t FoldTree::PartOf(ClientId client, size_t num_clients, size_t parts) {
  return LeafOf(client, num_clients) / (kLeaves / parts);
}

UpdateAccumulator& FoldTree::SumsOf(size_t task) {
  FEDRA_CHECK(task < leaf_of_task_.size() && leaf_of_task_[task] < kLeaves);
  return open_[leaf_of_task_[task]];
}

void FoldTree::Done(size_t task) {
  FEDRA_CHECK(task < leaf_of_task_.size() && leaf_of_task_[task] < kLeaves);
  const size_t leaf = leaf_of_task_[task];
  FEDRA_CHECK_MSG(remaining_[leaf] > 0, "a task of the fold tree is done twice");
  if (--remaining_[leaf] > 0) return;
  // A copy without the fold's spare buffers (UpdateAccumulator keeps one per sum).
  UpdateAccumulator sums;
  auto it = open_.find(leaf);
  if (it != open_.end()) {
    sums.Merge(it->second);
    open_.erase(it);
  }
  Complete(0, leaf, std::move(sums));
}

void FoldTree::Complete(size_t level, size_t index, UpdateAccumulator sums) {
  while (level < top_level_) {
    auto sibling = complete_.find({level, index ^ 1});
    if (sibling == complete_.end()) break;
    if (index % 2 == 0) {
      sums.Merge(sibling->second);
    } else {
      sibling->second.Merge(sums);
      sums = std::move(sibling->second);
    }
    complete_.erase(sibling);
    ++level;
    index /= 2;
  }
  complete_.emplace(std::make_pair(level, index), std::move(sums));
}

UpdateAccumulator FoldTree::Take() {
  auto it = complete_.find({top_level_, first_leaf_ >> top_level_});
  FEDRA_CHECK_MSG(it != complete_.end() && complete_.size() == 1,
                  "FoldTree::Take() before every task is done");
  UpdateAccumulator sums = std::move(it->second);
  complete_.clear();
  return sums;
}

UpdateAccumulator FoldTree::CombineParts(std::vector<UpdateAccumulator> parts) {
  FEDRA_CHECK(!parts.empty() && std::has_single_bit(parts.size()));
  for (size_t stride = 1; stride < parts.size(); stride *= 2) {
    for (size_t i = 0; i + stride < parts.size(); i += 2 * stride)
      parts[i].Merge(parts[i + stride]);
  }
  return std::move(parts.front());
}

}  // namespace fedra
