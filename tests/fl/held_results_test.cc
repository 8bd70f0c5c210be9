// HeldResults: the influence bound's calibration results kept in memory up to a budget and
// spilled to an unlinked temporary file beyond it; each comes back bit for bit, read into a
// spare buffer of the same layout when one is given.
#include "fl/held_results.h"

#include <gtest/gtest.h>

#include <vector>

#include "testing/fl_fixtures.h"

namespace fedra::internal {
namespace {

// A result whose update and extra "control" hold distinct values derived from `seed`.
FitResult Numbered(ClientId client, float seed, int64_t n) {
  FitResult r{.client = client, .num_examples = 10 + client};
  r.update.Add("a", {n});
  r.update.Add("b", {2});
  Parameters control;
  control.Add("a", {n});
  control.Add("b", {2});
  for (size_t i = 0; i < r.update.size(); ++i) {
    r.update.span()[i] = seed + 0.25f * static_cast<float>(i);
    control.span()[i] = -seed - static_cast<float>(i);
  }
  r.extras["control"] = std::move(control);
  return r;
}

void ExpectSame(const FitResult& a, const FitResult& b) {
  EXPECT_EQ(a.client, b.client);
  EXPECT_EQ(a.num_examples, b.num_examples);
  EXPECT_EQ(a.update.tensors(), b.update.tensors());
  EXPECT_EQ(testing::Values(a.update), testing::Values(b.update));
  ASSERT_EQ(a.extras.size(), b.extras.size());
  EXPECT_EQ(testing::Values(a.extras.at("control")), testing::Values(b.extras.at("control")));
}

TEST(HeldResultsTest, ResultsBeyondTheBudgetGoToDiskAndComeBackWhole) {
  const FitResult one = Numbered(1, 1.5f, 1000);
  const size_t bytes = one.update.num_bytes() * 2;  // the update and its extra
  HeldResults held(bytes, "");                      // room for one result in memory
  for (ClientId c = 1; c <= 3; ++c) ASSERT_TRUE(held.Hold(Numbered(c, 1.5f * c, 1000)).ok());
  EXPECT_EQ(held.size(), 3u);
  EXPECT_EQ(held.bytes_in_memory(), bytes);
  EXPECT_EQ(held.bytes_spilled(), 2 * bytes);
  for (size_t i = 0; i < 3; ++i) {
    auto r = held.Take(i);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ExpectSame(*r, Numbered(static_cast<ClientId>(i + 1), 1.5f * static_cast<float>(i + 1), 1000));
  }
  held.Clear();
  EXPECT_EQ(held.size(), 0u);
}

TEST(HeldResultsTest, ASpareOfTheSameLayoutIsReadIntoAndAnotherIsIgnored) {
  HeldResults held(0, "");  // everything spilled
  for (ClientId c = 1; c <= 2; ++c) ASSERT_TRUE(held.Hold(Numbered(c, 3.0f * c, 500)).ok());
  Parameters spare = Numbered(9, 100.0f, 500).update;  // same layout, other values
  const float* memory = spare.data();
  auto first = held.Take(0, std::move(spare));
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->update.data(), memory);  // no new allocation for the update
  ExpectSame(*first, Numbered(1, 3.0f, 500));
  Parameters other = Numbered(9, 100.0f, 499).update;  // another layout: not used
  auto second = held.Take(1, std::move(other));
  ASSERT_TRUE(second.ok());
  ExpectSame(*second, Numbered(2, 6.0f, 500));
}

}  // namespace
}  // namespace fedra::internal
