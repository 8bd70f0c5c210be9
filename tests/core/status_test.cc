#include "fedra/core/status.h"

#include <gtest/gtest.h>

#include <memory>

namespace fedra {
namespace {

StatusOr<int> Half(int x) {
  if (x % 2 != 0) return InvalidArgumentError(std::to_string(x) + " is odd");
  return x / 2;
}

StatusOr<int> Quarter(int x) {
  FEDRA_ASSIGN_OR_RETURN(int h, Half(x));
  FEDRA_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

Status CheckPositive(int x) {
  if (x <= 0) return OutOfRangeError("not positive");
  return OkStatus();
}

Status Both(int a, int b) {
  FEDRA_RETURN_IF_ERROR(CheckPositive(a));
  FEDRA_RETURN_IF_ERROR(CheckPositive(b).WithContext("second"));
  return OkStatus();
}

TEST(StatusTest, OkAndErrorsCarryCodeAndMessage) {
  EXPECT_TRUE(OkStatus().ok());
  EXPECT_EQ(OkStatus().ToString(), "OK");
  const Status s = DataLossError("file x.idx is truncated");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_EQ(s.ToString(), "DATA_LOSS: file x.idx is truncated");
  EXPECT_EQ(s.WithContext("loading").message(), "loading: file x.idx is truncated");
  EXPECT_TRUE(OkStatus().WithContext("ignored").ok());
}

TEST(StatusTest, MacrosPropagateTheFirstError) {
  EXPECT_EQ(*Quarter(12), 3);
  EXPECT_EQ(Quarter(6).status().message(), "3 is odd");
  EXPECT_EQ(Quarter(7).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Both(1, 2).ok());
  EXPECT_EQ(Both(-1, 2).message(), "not positive");
  EXPECT_EQ(Both(1, -2).message(), "second: not positive");
}

TEST(StatusOrTest, HoldsMoveOnlyValues) {
  StatusOr<std::unique_ptr<int>> p = std::make_unique<int>(4);
  ASSERT_TRUE(p.ok());
  std::unique_ptr<int> owned = std::move(p).value();
  EXPECT_EQ(*owned, 4);
}

TEST(StatusOrTest, OkStatusWithoutValueBecomesInternalError) {
  StatusOr<int> s = OkStatus();
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kInternal);
}

TEST(StatusOrDeathTest, ValueOfErrorAborts) {
  StatusOr<int> s = NotFoundError("nope");
  EXPECT_DEATH((void)s.value(), "nope");
}

}  // namespace
}  // namespace fedra
