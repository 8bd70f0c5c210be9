#include "fedra/ml/csv_loader.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "testing/temp_dir.h"

namespace fedra {
namespace {

using ::testing::HasSubstr;

class CsvLoaderTest : public ::testing::Test {
 protected:
  StatusOr<Dataset> Load(const std::string& text, const CsvOptions& options = {}) {
    path_ = dir_.Write("data.csv", text);
    return LoadCsv(path_, options);
  }

  // Expects InvalidArgument whose message names the file, "line: column col" and `what`.
  void ExpectError(const std::string& text, const CsvOptions& options, int line, int column,
                   const std::string& what) {
    const StatusOr<Dataset> data = Load(text, options);
    ASSERT_FALSE(data.ok()) << text;
    EXPECT_EQ(data.status().code(), StatusCode::kInvalidArgument);
    const std::string msg = data.status().message();
    EXPECT_THAT(msg, HasSubstr(path_ + ":" + std::to_string(line) + ":"));
    if (column > 0) {
      EXPECT_THAT(msg, HasSubstr("column " + std::to_string(column)));
    }
    EXPECT_THAT(msg, HasSubstr(what));
  }

  testing::TempDir dir_;
  std::string path_;
};

CsvOptions Classes(int num_classes, int label_column = -1, bool has_header = false) {
  CsvOptions options;
  options.num_classes = num_classes;
  options.label_column = label_column;
  options.has_header = has_header;
  return options;
}

TEST_F(CsvLoaderTest, SkipsHeaderLabelLast) {
  const StatusOr<Dataset> data = Load("a,b,label\n1.5,-2,1\n3e2,0.25,0\n", Classes(2, -1, true));
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  ASSERT_TRUE(data->Validate().ok());
  EXPECT_EQ(data->example_shape, (Shape{2}));
  EXPECT_EQ(data->num_classes, 2);
  ASSERT_EQ(data->size(), 2u);
  EXPECT_FLOAT_EQ(data->features(0, 0), 1.5f);
  EXPECT_FLOAT_EQ(data->features(1, 0), -2.0f);
  EXPECT_FLOAT_EQ(data->features(0, 1), 300.0f);
  EXPECT_FLOAT_EQ(data->features(1, 1), 0.25f);
  EXPECT_EQ(data->Labels(), (std::vector<int>{1, 0}));
}

TEST_F(CsvLoaderTest, LabelColumnFirst) {
  const StatusOr<Dataset> data = Load("2,0.5,0.75,1\n0,4,5,6\n", Classes(3, 0));
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  EXPECT_EQ(data->example_shape, (Shape{3}));
  EXPECT_EQ(data->Labels(), (std::vector<int>{2, 0}));
  EXPECT_FLOAT_EQ(data->features(0, 0), 0.5f);
  EXPECT_FLOAT_EQ(data->features(2, 1), 6.0f);
}

TEST_F(CsvLoaderTest, LabelColumnInTheMiddleAndFromTheEnd) {
  const StatusOr<Dataset> data = Load("10;1;20\n30;0;40\n", [] {
    CsvOptions o = Classes(2, -2);
    o.delimiter = ';';
    return o;
  }());
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  EXPECT_EQ(data->Labels(), (std::vector<int>{1, 0}));
  EXPECT_FLOAT_EQ(data->features(1, 0), 20.0f);
  EXPECT_FLOAT_EQ(data->features(0, 1), 30.0f);
}

TEST_F(CsvLoaderTest, RegressionTargets) {
  // CRLF line ends, spaces around fields, integral-looking labels as floats, blank tail.
  const StatusOr<Dataset> data = Load("1, 2, -0.5\r\n3, +4, 1e-3\r\n\r\n\n", CsvOptions{});
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  EXPECT_FALSE(data->is_classification());
  ASSERT_EQ(data->size(), 2u);
  EXPECT_EQ(data->targets.rows(), 1);
  EXPECT_FLOAT_EQ(data->targets(0, 0), -0.5f);
  EXPECT_FLOAT_EQ(data->targets(0, 1), 1e-3f);
  EXPECT_FLOAT_EQ(data->features(1, 1), 4.0f);
}

TEST_F(CsvLoaderTest, AcceptsIntegralFloatLabels) {
  const StatusOr<Dataset> data = Load("0.5,2.0\n", Classes(3));
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  EXPECT_EQ(data->Label(0), 2);
}

TEST_F(CsvLoaderTest, RejectsMissingFile) {
  const StatusOr<Dataset> data = LoadCsv(dir_.File("nope.csv"));
  ASSERT_FALSE(data.ok());
  EXPECT_EQ(data.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(data.status().message(), HasSubstr(dir_.File("nope.csv")));
}

TEST_F(CsvLoaderTest, RejectsEmptyFile) {
  for (const std::string text : {"", "\n\n", "a,b,c\n"}) {
    const StatusOr<Dataset> data = Load(text, Classes(0, -1, /*has_header=*/true));
    ASSERT_FALSE(data.ok()) << "'" << text << "'";
    EXPECT_EQ(data.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(data.status().message(), HasSubstr(path_));
  }
}

TEST_F(CsvLoaderTest, RejectsRaggedRow) {
  ExpectError("1,2,3\n4,5,6\n7,8\n", CsvOptions{}, 3, 0, "2 fields, expected 3");
  ExpectError("1,2,3\n\n4,5,6\n", CsvOptions{}, 2, 0, "1 fields, expected 3");
}

TEST_F(CsvLoaderTest, RejectsNonNumbers) {
  ExpectError("1,2,3\n4,x5,6\n", CsvOptions{}, 2, 2, "not a number");
  ExpectError("1,2,3\n4,5 6,6\n", CsvOptions{}, 2, 2, "not a number");
  ExpectError("1,2,3\n4,5,6abc\n", CsvOptions{}, 2, 3, "not a number");
  ExpectError("1,,3\n", CsvOptions{}, 1, 2, "empty");
  ExpectError("h1,h2\n1,2\n3,--4\n", Classes(0, -1, true), 3, 2, "not a number");
}

TEST_F(CsvLoaderTest, RejectsNanAndInf) {
  ExpectError("1,2,3\nnan,5,6\n", CsvOptions{}, 2, 1, "NaN");
  ExpectError("1,inf,3\n", CsvOptions{}, 1, 2, "NaN/Inf");
  ExpectError("1,2,-Infinity\n", CsvOptions{}, 1, 3, "NaN/Inf");
  ExpectError("1,1e39,3\n", CsvOptions{}, 1, 2, "out of range");
}

TEST_F(CsvLoaderTest, RejectsBadClassLabels) {
  ExpectError("1,2,0\n1,2,1.5\n", Classes(3), 2, 3, "not an integer in [0, 3)");
  ExpectError("1,2,3\n", Classes(3), 1, 3, "not an integer in [0, 3)");
  ExpectError("-1,2,0\n", Classes(3, 0), 1, 1, "not an integer in [0, 3)");
}

TEST_F(CsvLoaderTest, RejectsBadOptions) {
  EXPECT_EQ(Load("1,2\n", Classes(-1)).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Load("1,2\n", Classes(2, 2)).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Load("1,2\n", Classes(2, -3)).status().code(), StatusCode::kInvalidArgument);
  const StatusOr<Dataset> one_column = Load("1\n2\n", Classes(0));
  ASSERT_FALSE(one_column.ok());
  EXPECT_THAT(one_column.status().message(), HasSubstr("at least 2"));
}

}  // namespace
}  // namespace fedra
