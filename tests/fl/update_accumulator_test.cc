#include "fedra/fl/update_accumulator.h"

#include <gtest/gtest.h>

namespace fedra {
namespace {

TEST(UpdateAccumulatorTest, WeightedSumsAndScalars) {
  Parameters a, b;
  a.Add("w", {2});
  b.Add("w", {2});
  a.data()[0] = 1, a.data()[1] = 2;
  b.data()[0] = 10, b.data()[1] = 20;
  UpdateAccumulator acc;
  EXPECT_FALSE(acc.has("update"));
  EXPECT_EQ(acc.scalar("weight"), 0.0);
  acc.Add("update", 2.0f, a);
  acc.Add("update", 0.5f, b);
  acc.AddScalar("weight", 2.5);
  acc.AddScalar("weight", 1.5);
  ASSERT_TRUE(acc.has("update"));
  EXPECT_EQ(acc.sum("update").data()[0], 7.0f);   // 2 * 1 + 0.5 * 10
  EXPECT_EQ(acc.sum("update").data()[1], 14.0f);  // 2 * 2 + 0.5 * 20
  EXPECT_EQ(acc.scalar("weight"), 4.0);
  acc.Clear();
  EXPECT_FALSE(acc.has("update"));
}

}  // namespace
}  // namespace fedra
