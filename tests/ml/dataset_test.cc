#include "fedra/ml/dataset.h"

#include <gtest/gtest.h>

#include <cmath>

#include "fedra/core/rng.h"

namespace fedra {
namespace {

Dataset Counting(int n) {
  Dataset d;
  d.example_shape = {2};
  d.num_classes = 3;
  d.features.resize(2, n);
  d.targets.resize(1, n);
  for (int i = 0; i < n; ++i) {
    d.features(0, i) = static_cast<float>(i);
    d.features(1, i) = static_cast<float>(-i);
    d.targets(0, i) = static_cast<float>(i % 3);
  }
  return d;
}

TEST(DatasetTest, SubsetKeepsOrderAndMetadata) {
  const Dataset d = Counting(10);
  const std::vector<size_t> idx{7, 2, 2};
  const Dataset s = d.Subset(idx);
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s.features(0, 0), 7.0f);
  EXPECT_EQ(s.features(1, 1), -2.0f);
  EXPECT_EQ(s.Label(0), 1);
  EXPECT_EQ(s.num_classes, 3);
  EXPECT_EQ(s.example_shape, d.example_shape);
  EXPECT_EQ(d.Labels()[5], 2);
}

TEST(DatasetTest, ValidateFindsEachProblem) {
  EXPECT_TRUE(Counting(5).Validate().ok());
  Dataset bad_shape = Counting(5);
  bad_shape.example_shape = {3};
  EXPECT_NE(bad_shape.Validate().message().find("[3]"), std::string::npos);
  Dataset bad_count = Counting(5);
  bad_count.targets.resize(1, 4);
  EXPECT_FALSE(bad_count.Validate().ok());
  Dataset nan = Counting(5);
  nan.features(0, 3) = std::nanf("");
  EXPECT_NE(nan.Validate().message().find("NaN"), std::string::npos);
  Dataset bad_label = Counting(5);
  bad_label.targets(0, 2) = 3;
  EXPECT_NE(bad_label.Validate().message().find("example 2"), std::string::npos);
  Dataset fractional = Counting(5);
  fractional.targets(0, 1) = 0.5f;
  EXPECT_FALSE(fractional.Validate().ok());
}

TEST(DatasetTest, SplitTrainTestIsADisjointCover) {
  Rng rng(1);
  const Dataset d = Counting(100);
  const TrainTestSplit split = SplitTrainTest(d, 0.25, rng);
  EXPECT_EQ(split.test.size(), 25u);
  EXPECT_EQ(split.train.size(), 75u);
  std::vector<int> seen(100, 0);
  for (const Dataset* part : {&split.train, &split.test}) {
    for (size_t i = 0; i < part->size(); ++i)
      seen[static_cast<size_t>(part->features(0, static_cast<Eigen::Index>(i)))]++;
  }
  for (int c : seen) EXPECT_EQ(c, 1);
}

}  // namespace
}  // namespace fedra
