#include "fedra/fl/update_accumulator.h"

#include "fedra/fl/strategy.h"

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

// A fold reading its vectors in place touches nothing unless every sum it adds to stays
// finite: a later sum's overflow leaves an earlier, finite one unchanged too.
TEST(UpdateAccumulatorTest, AFoldIsCommittedWholeOrNotAtAll) {
  UpdateAccumulator acc;
  const Parameters u = Vec({1, 2, 3}), c = Vec({4, 5, 6});
  acc.BeginFold({&u, &c});
  acc.Add("update", 1.0f, u);
  acc.Add("control", 1.0f, c);
  ASSERT_TRUE(acc.CommitFold().ok());
  const Parameters good = Vec({0.5f, 0.25f, 0.125f}), bad = Vec({0, 3e38f, 0});
  acc.BeginFold({&good, &bad});
  acc.Add("update", 1.0f, good);
  acc.Add("control", 2.0f, bad);  // 2 * 3e38 overflows
  acc.AddScalar("weight", 1.0);
  const Status s = acc.CommitFold();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("'control'"), std::string::npos) << s.message();
  EXPECT_EQ(acc.sum("update").Flat(), u.Flat());
  EXPECT_EQ(acc.sum("control").Flat(), c.Flat());
  EXPECT_EQ(acc.scalar("weight"), 0.0);
  // A sum that a refused fold would have started does not exist afterwards.
  acc.BeginFold();
  acc.Add("fresh", 1.0f, Vec({NAN, 0, 0}));
  EXPECT_FALSE(acc.CommitFold().ok());
  EXPECT_FALSE(acc.has("fresh"));
}

// The staged fold gives the same bits whether it reads its vectors in place or copies them,
// for a vector longer than the kernel's blocks and several terms per sum; plain axpys agree to
// rounding (the fold kernel may fuse multiply-adds where the CPU has them, Eigen's may not).
TEST(UpdateAccumulatorTest, StagedFoldsMatchAxpysBitForBit) {
  Parameters x, y;
  x.Add("w", {5000});
  y.Add("w", {5000});
  for (size_t i = 0; i < x.size(); ++i) {
    x.data()[i] = std::sin(static_cast<float>(i)) * 1e3f;
    y.data()[i] = std::cos(static_cast<float>(i) * 0.7f) / 3.0f;
  }
  UpdateAccumulator in_place, copied, plain;
  for (float w : {0.3f, 1.7f, -2.1f}) {
    in_place.BeginFold({&x, &y});
    copied.BeginFold();
    for (UpdateAccumulator* a : {&in_place, &copied}) {
      a->Add("s", w, x);
      a->Add("s", 1.0f / w, y);
    }
    ASSERT_TRUE(in_place.CommitFold().ok());
    ASSERT_TRUE(copied.CommitFold().ok());
    plain.Add("s", w, x);
    plain.Add("s", 1.0f / w, y);
  }
  EXPECT_EQ(in_place.sum("s").Flat(), copied.sum("s").Flat());
  const Vector d = in_place.sum("s").Flat() - plain.sum("s").Flat();
  EXPECT_LE(d.cwiseAbs().maxCoeff(), 1e-6f * 3e3f);  // ulps of the terms' magnitude
}

// A strategy takes a sum without a copy when the driver says the sums are spent, and gets a
// copy (the sums untouched) otherwise.
TEST(UpdateAccumulatorTest, TakeSumMovesSpentSumsAndCopiesOthers) {
  UpdateAccumulator acc;
  acc.Add("update", 2.0f, Vec({1, 2}));
  const float* storage = acc.sum("update").data();
  AggregateInput kept{.sums = &acc};
  Parameters copy = kept.TakeSum("update");
  EXPECT_EQ(copy.Flat(), acc.sum("update").Flat());
  EXPECT_NE(copy.data(), storage);
  AggregateInput spent{.sums = &acc, .spent_sums = &acc};
  Parameters moved = spent.TakeSum("update");
  EXPECT_EQ(moved.data(), storage);
  EXPECT_EQ(moved.Flat(), copy.Flat());
  EXPECT_FALSE(acc.has("update"));
}

}  // namespace
}  // namespace fedra
