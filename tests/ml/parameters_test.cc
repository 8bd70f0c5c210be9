#include "fedra/ml/parameters.h"

#include <gtest/gtest.h>

#include <cmath>

namespace fedra {
namespace {

Parameters Make(float start) {
  Parameters p;
  p.Add("w", {2, 3});
  p.Add("b", {3});
  for (size_t i = 0; i < p.size(); ++i) p.data()[i] = start + static_cast<float>(i);
  return p;
}

TEST(ParametersTest, LaysTensorsOutBackToBack) {
  Parameters p = Make(0);
  EXPECT_EQ(p.num_tensors(), 2u);
  EXPECT_EQ(p.size(), 9u);
  EXPECT_EQ(p.num_bytes(), 36u);
  EXPECT_EQ(p.info(1).offset, 6u);
  EXPECT_EQ(p.info(1).size, 3u);
  EXPECT_EQ(*p.Find("b"), 1u);
  EXPECT_EQ(p.Find("c").status().code(), StatusCode::kNotFound);
  // A tensor view aliases the flat buffer: writing through it is visible in Flat().
  p.Tensor(1)[2] = 100.0f;
  EXPECT_EQ(p.Flat()[8], 100.0f);
  EXPECT_EQ(p.Tensor(0)[5], 5.0f);
}

TEST(ParametersTest, ArithmeticWorkedByHand) {
  Parameters a = Make(0), b = Make(1);  // b = a + 1 element-wise
  Parameters c = a;
  c.AddInPlace(b);  // 2i + 1
  EXPECT_EQ(c.data()[4], 9.0f);
  c.SubInPlace(b);
  EXPECT_EQ(c.Flat(), a.Flat());
  c.Axpy(-2.0f, b);  // i - 2(i + 1) = -i - 2
  EXPECT_EQ(c.data()[3], -5.0f);
  c.Scale(0.5f);
  EXPECT_EQ(c.data()[3], -2.5f);
  // dot(a, b) = sum_{i<9} i (i + 1) = 240; |a|^2 = sum i^2 = 204.
  EXPECT_DOUBLE_EQ(a.Dot(b), 240.0);
  EXPECT_DOUBLE_EQ(a.L2Norm(), std::sqrt(204.0));
  c.SetZero();
  EXPECT_EQ(c.L2Norm(), 0.0);
  Parameters z = Parameters::ZerosLike(a);
  EXPECT_TRUE(z.SameLayout(a));
  EXPECT_EQ(z.L2Norm(), 0.0);
}

TEST(ParametersTest, LayoutCheckNamesTheDifference) {
  Parameters a = Make(0);
  Parameters other_shape;
  other_shape.Add("w", {3, 2});
  other_shape.Add("b", {3});
  Status s = a.CheckSameLayout(other_shape);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("'w'"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("[2, 3]"), std::string::npos) << s.message();
  Parameters other_name;
  other_name.Add("w", {2, 3});
  other_name.Add("bias", {3});
  EXPECT_NE(a.CheckSameLayout(other_name).message().find("bias"), std::string::npos);
  Parameters fewer;
  fewer.Add("w", {2, 3});
  EXPECT_FALSE(a.CheckSameLayout(fewer).ok());
  EXPECT_TRUE(a.CheckSameLayout(Make(5)).ok());
}

TEST(ParametersTest, CheckFiniteNamesTheTensor) {
  Parameters a = Make(0);
  EXPECT_TRUE(a.CheckFinite().ok());
  a.Tensor(1)[0] = INFINITY;
  Status s = a.CheckFinite();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("'b'"), std::string::npos);
  a.Tensor(1)[0] = 0;
  a.Tensor(0)[5] = -INFINITY;
  EXPECT_NE(a.CheckFinite().message().find("'w'"), std::string::npos);
  a.Tensor(0)[5] = std::nanf("");
  EXPECT_FALSE(a.CheckFinite().ok());
  a.Tensor(0)[5] = 3e38f;  // finite values whose sum would overflow are still finite
  a.Tensor(0)[4] = 3e38f;
  EXPECT_TRUE(a.CheckFinite().ok());
}

TEST(ParametersDeathTest, ArithmeticOnDifferentLayoutsIsABug) {
  Parameters a = Make(0);
  Parameters b;
  b.Add("x", {9});
  EXPECT_DEATH(a.AddInPlace(b), "SameLayout");
  EXPECT_DEATH(a.Add("w", {1}), "duplicate");
}

}  // namespace
}  // namespace fedra
