#include "fedra/fl/update_accumulator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

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

Parameters Vec(std::initializer_list<float> values) {
  Parameters p;
  p.Add("w", {static_cast<int64_t>(values.size())});
  std::copy(values.begin(), values.end(), p.data());
  return p;
}

TEST(UpdateAccumulatorTest, ACommittedFoldEqualsPlainAdds) {
  UpdateAccumulator staged, plain;
  for (float w : {2.0f, 0.5f, 3.0f}) {
    const Parameters x = Vec({1.5f * w, -2.0f, 7.0f});
    staged.BeginFold();
    staged.Add("update", w, x);
    staged.Add("update", 1.0f, x);  // a second term of the same sum in one fold
    staged.AddScalar("weight", w);
    ASSERT_TRUE(staged.CommitFold().ok());
    plain.Add("update", w, x);
    plain.Add("update", 1.0f, x);
    plain.AddScalar("weight", w);
  }
  EXPECT_EQ(staged.sum("update").Flat(), plain.sum("update").Flat());
  EXPECT_EQ(staged.scalar("weight"), plain.scalar("weight"));
}

TEST(UpdateAccumulatorTest, ABadFoldLeavesTheSumsUntouched) {
  UpdateAccumulator acc;
  acc.BeginFold();
  acc.Add("update", 1.0f, Vec({1, 2, 3}));
  acc.AddScalar("weight", 1.0);
  ASSERT_TRUE(acc.CommitFold().ok());
  const Vector before = acc.sum("update").Flat();
  struct Case {
    float weight;
    Parameters x;
    const char* why;
  };
  const float huge = 3e38f;
  for (const Case& c :
       {Case{1.0f, Vec({0, NAN, 0}), "NaN"}, Case{1.0f, Vec({INFINITY, 0, 0}), "Inf"},
        Case{huge, Vec({0, 0, huge}), "overflow"}}) {
    acc.BeginFold();
    acc.Add("update", c.weight, c.x);
    acc.AddScalar("weight", 1.0);
    const Status s = acc.CommitFold();
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << c.why;
    EXPECT_NE(s.message().find("'update'"), std::string::npos) << s.message();
    EXPECT_EQ(acc.sum("update").Flat(), before) << c.why;
    EXPECT_EQ(acc.scalar("weight"), 1.0) << c.why;
  }
  acc.BeginFold();
  acc.AddScalar("weight", INFINITY);
  EXPECT_EQ(acc.CommitFold().code(), StatusCode::kInvalidArgument);
  acc.BeginFold();
  acc.Add("update", 1.0f, Vec({1, 1, 1}));
  acc.AbortFold();
  EXPECT_EQ(acc.sum("update").Flat(), before);
  EXPECT_EQ(acc.scalar("weight"), 1.0);
}

}  // namespace
}  // namespace fedra
