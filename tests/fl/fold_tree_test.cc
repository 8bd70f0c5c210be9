#include "fedra/fl/fold_tree.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>

namespace fedra {
namespace {

constexpr int64_t kDim = 33;

// Client c's update: values of very different magnitudes, so the order of a float sum shows.
Parameters UpdateOf(ClientId c, uint32_t seed) {
  std::mt19937 gen(seed * 7919u + static_cast<uint32_t>(c));
  std::uniform_real_distribution<float> u(-1, 1);
  Parameters p;
  p.Add("w", {kDim});
  for (int64_t i = 0; i < kDim; ++i) p.data()[i] = u(gen) * std::pow(10.0f, (i % 9) - 4);
  return p;
}

RoundPlan PlanOf(std::vector<ClientId> clients) {
  RoundPlan plan;
  for (ClientId c : clients) plan.tasks.push_back({.client = c});
  return plan;
}

// The sums of part `part` of `parts`: client c adds (c+1) * update into "update" and 1 into
// "count"; the updates of clients listed in `fail` hold a NaN, so their fold is refused.
UpdateAccumulator PartSums(size_t n, const RoundPlan& plan, size_t part, size_t parts,
                           uint32_t seed, const std::vector<ClientId>& fail = {}) {
  auto tree = FoldTree::Create(n, plan, part, parts);
  EXPECT_TRUE(tree.ok()) << tree.status().ToString();
  for (size_t task : tree->tasks()) {
    const ClientId c = plan.tasks[task].client;
    const bool bad = std::find(fail.begin(), fail.end(), c) != fail.end();
    Parameters update = UpdateOf(c, seed);
    if (bad) update.data()[kDim / 2] = std::nanf("");
    UpdateAccumulator& sums = tree->SumsOf(task);
    sums.BeginFold();
    sums.Add("update", static_cast<float>(c + 1), update);
    sums.AddScalar("count", 1);
    EXPECT_EQ(sums.CommitFold().ok(), !bad);
    tree->Done(task);
  }
  return tree->Take();
}

bool SameBits(const UpdateAccumulator& a, const UpdateAccumulator& b) {
  if (a.sums().size() != b.sums().size() || a.scalars() != b.scalars()) return false;
  for (const auto& [name, sum] : a.sums()) {
    if (!b.has(name) || !sum.SameLayout(b.sum(name))) return false;
    if (std::memcmp(sum.data(), b.sum(name).data(), sum.num_bytes()) != 0) return false;
  }
  return true;
}

std::vector<ClientId> Sample(size_t n, size_t k, bool sorted, std::mt19937& gen) {
  std::vector<ClientId> all(n);
  for (size_t i = 0; i < n; ++i) all[i] = i;
  std::shuffle(all.begin(), all.end(), gen);
  all.resize(k);
  if (sorted) std::sort(all.begin(), all.end());
  return all;
}

// The property the MPI simulation rests on: any power-of-two split, combined in part order,
// gives the bits of the whole, for sorted and unsorted plans and any number of clients.
TEST(FoldTreeTest, PartsCombineToTheBitsOfTheWhole) {
  std::mt19937 gen(5);
  for (size_t n : {1, 3, 10, 37, 64, 100, 1000}) {
    for (bool sorted : {true, false}) {
      const RoundPlan plan = PlanOf(Sample(n, std::max<size_t>(1, n / 2 + 1), sorted, gen));
      const UpdateAccumulator whole = PartSums(n, plan, 0, 1, 11);
      ASSERT_EQ(whole.scalar("count"), static_cast<double>(plan.tasks.size()));
      for (size_t parts : {2, 4, 8, 64}) {
        std::vector<UpdateAccumulator> each;
        size_t tasks = 0;
        for (size_t p = 0; p < parts; ++p) {
          each.push_back(PartSums(n, plan, p, parts, 11));
          tasks += static_cast<size_t>(each.back().scalar("count"));
        }
        EXPECT_EQ(tasks, plan.tasks.size()) << "every task in exactly one part";
        EXPECT_TRUE(SameBits(whole, FoldTree::CombineParts(std::move(each))))
            << n << " clients, " << parts << " parts, sorted " << sorted;
      }
    }
  }
}

// The tree's sum is the plain sum, up to float rounding (it only reorders the additions).
TEST(FoldTreeTest, EqualsThePlainSumToRounding) {
  std::mt19937 gen(9);
  const size_t n = 200;
  const RoundPlan plan = PlanOf(Sample(n, 150, false, gen));
  const UpdateAccumulator tree = PartSums(n, plan, 0, 1, 3);
  std::vector<double> plain(kDim, 0.0);
  for (const FitTask& t : plan.tasks) {
    const Parameters u = UpdateOf(t.client, 3);
    for (int64_t i = 0; i < kDim; ++i) plain[i] += static_cast<double>(t.client + 1) * u.data()[i];
  }
  for (int64_t i = 0; i < kDim; ++i) {
    const double scale = std::pow(10.0, (i % 9) - 4) * 150 * 200;
    EXPECT_NEAR(tree.sum("update").data()[i], plain[i], 1e-5 * scale) << i;
  }
}

TEST(FoldTreeTest, RefusedResultsLeaveNoTrace) {
  const size_t n = 200;  // leaves of 3 or 4 clients: [3, 6) holds 4, [9, 12) holds 9 and 10
  // Client 4 is alone in its leaf in this plan, client 9 shares one with client 10.
  const RoundPlan with = PlanOf({1, 4, 9, 10, 15}), without = PlanOf({1, 10, 15});
  EXPECT_TRUE(SameBits(PartSums(n, with, 0, 1, 2, /*fail=*/{4, 9}), PartSums(n, without, 0, 1, 2)));
}

TEST(FoldTreeTest, PartsAreConsecutiveClientRanges) {
  const size_t n = 10;
  for (size_t parts : {1, 2, 4}) {
    for (size_t p = 0; p < parts; ++p) {
      for (ClientId c = p * n / parts; c < (p + 1) * n / parts; ++c) {
        EXPECT_EQ(FoldTree::PartOf(c, n, parts), p) << c << " of " << parts;
      }
    }
  }
  // An id no client has belongs to the last part, which reports its failure.
  EXPECT_EQ(FoldTree::PartOf(n + 5, n, 4), 3u);
  auto tree = FoldTree::Create(n, PlanOf({0, 2, 5, 7, 9, 12}), 1, 2);
  ASSERT_TRUE(tree.ok());
  EXPECT_EQ(tree->tasks(), (std::vector<size_t>{2, 3, 4, 5}));
}

TEST(FoldTreeTest, RefusesSplitsThatAreNotSubtrees) {
  const RoundPlan plan = PlanOf({0});
  EXPECT_FALSE(FoldTree::Create(4, plan, 0, 3).ok());
  EXPECT_FALSE(FoldTree::Create(4, plan, 0, 0).ok());
  EXPECT_FALSE(FoldTree::Create(4, plan, 0, 128).ok());
  EXPECT_FALSE(FoldTree::Create(4, plan, 2, 2).ok());
  EXPECT_FALSE(FoldTree::Create(0, plan, 0, 1).ok());
  EXPECT_TRUE(FoldTree::Create(4, plan, 63, 64).ok());
}

TEST(FoldTreeTest, AnEmptyPartHasEmptySums) {
  auto tree = FoldTree::Create(8, PlanOf({0, 1}), 1, 2);
  ASSERT_TRUE(tree.ok());
  EXPECT_TRUE(tree->tasks().empty());
  const UpdateAccumulator sums = tree->Take();
  EXPECT_TRUE(sums.sums().empty());
  EXPECT_TRUE(sums.scalars().empty());
}

}  // namespace
}  // namespace fedra
