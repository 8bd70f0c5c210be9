#include "fedra/ml/idx_loader.h"

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "testing/temp_dir.h"

namespace fedra {
namespace {

using ::testing::HasSubstr;

void AppendBigEndian32(uint32_t v, std::string* out) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out->push_back(static_cast<char>((v >> shift) & 0xFF));
}

std::string ImagesBytes(uint32_t n, uint32_t rows, uint32_t cols, const std::vector<uint8_t>& px,
                        uint32_t magic = 0x00000803) {
  std::string out;
  AppendBigEndian32(magic, &out);
  AppendBigEndian32(n, &out);
  AppendBigEndian32(rows, &out);
  AppendBigEndian32(cols, &out);
  out.append(px.begin(), px.end());
  return out;
}

std::string LabelsBytes(const std::vector<uint8_t>& labels, uint32_t magic = 0x00000801) {
  std::string out;
  AppendBigEndian32(magic, &out);
  AppendBigEndian32(static_cast<uint32_t>(labels.size()), &out);
  out.append(labels.begin(), labels.end());
  return out;
}

// Three 2x3 images; image i's pixel at (r, c) is kPixels[6 i + 3 r + c].
const std::vector<uint8_t> kPixels = {0,  255, 128, 1,   2, 3,   10, 20,  30,
                                      40, 50,  60,  255, 0, 255, 0,  255, 0};
const std::vector<uint8_t> kLabels = {7, 0, 9};

class IdxLoaderTest : public ::testing::Test {
 protected:
  std::string GoodImages() const { return dir_.Write("img", ImagesBytes(3, 2, 3, kPixels)); }
  std::string GoodLabels() const { return dir_.Write("lbl", LabelsBytes(kLabels)); }

  // Loads `images` with good labels and expects `code` with the images path in the message.
  void ExpectImagesError(const std::string& images, StatusCode code, const std::string& what) {
    const StatusOr<Dataset> data = LoadIdx(dir_.Write("img", images), GoodLabels());
    ASSERT_FALSE(data.ok());
    EXPECT_EQ(data.status().code(), code) << data.status().ToString();
    EXPECT_THAT(data.status().message(), HasSubstr(dir_.File("img")));
    EXPECT_THAT(data.status().message(), HasSubstr(what));
  }

  testing::TempDir dir_;
};

void ExpectMatchesFixture(const Dataset& data) {
  ASSERT_TRUE(data.Validate().ok()) << data.Validate().ToString();
  EXPECT_EQ(data.example_shape, (Shape{1, 2, 3}));
  EXPECT_EQ(data.num_classes, 10);
  ASSERT_EQ(data.size(), 3u);
  ASSERT_EQ(data.features.rows(), 6);
  for (Eigen::Index i = 0; i < 3; ++i) {
    for (Eigen::Index k = 0; k < 6; ++k) {
      EXPECT_FLOAT_EQ(data.features(k, i), kPixels[static_cast<size_t>(6 * i + k)] / 255.0f);
    }
  }
  EXPECT_EQ(data.features(1, 0), 1.0f);  // pixel 255 is exactly 1
  EXPECT_EQ(data.features(0, 0), 0.0f);
  EXPECT_EQ(data.Labels(), (std::vector<int>{7, 0, 9}));
}

TEST_F(IdxLoaderTest, LoadsPlainFiles) {
  const StatusOr<Dataset> data = LoadIdx(GoodImages(), GoodLabels());
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  ExpectMatchesFixture(*data);
}

TEST_F(IdxLoaderTest, LoadsGzipFilesDetectedByContent) {
  // Names without ".gz": the format is detected from the bytes.
  const std::string images = dir_.WriteGzip("img_z", ImagesBytes(3, 2, 3, kPixels));
  const std::string labels = dir_.WriteGzip("lbl_z", LabelsBytes(kLabels));
  ASSERT_NE(std::filesystem::file_size(images), ImagesBytes(3, 2, 3, kPixels).size());
  const StatusOr<Dataset> data = LoadIdx(images, labels);
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  ExpectMatchesFixture(*data);
}

TEST_F(IdxLoaderTest, MixesPlainAndGzip) {
  const StatusOr<Dataset> data =
      LoadIdx(GoodImages(), dir_.WriteGzip("lbl.gz", LabelsBytes(kLabels)));
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  ExpectMatchesFixture(*data);
}

TEST_F(IdxLoaderTest, MissingFileIsNotFound) {
  const std::string missing = dir_.File("does-not-exist");
  StatusOr<Dataset> data = LoadIdx(missing, GoodLabels());
  ASSERT_FALSE(data.ok());
  EXPECT_EQ(data.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(data.status().message(), HasSubstr(missing));
  data = LoadIdx(GoodImages(), missing);
  ASSERT_FALSE(data.ok());
  EXPECT_EQ(data.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(data.status().message(), HasSubstr(missing));
}

TEST_F(IdxLoaderTest, RejectsBadMagic) {
  ExpectImagesError(ImagesBytes(3, 2, 3, kPixels, 0x12340803), StatusCode::kDataLoss, "magic");
}

TEST_F(IdxLoaderTest, RejectsWrongTypeByte) {
  // 0x0D is the IDX code for float32.
  ExpectImagesError(ImagesBytes(3, 2, 3, kPixels, 0x00000D03), StatusCode::kDataLoss, "0x08");
}

TEST_F(IdxLoaderTest, RejectsWrongRank) {
  ExpectImagesError(LabelsBytes(kLabels), StatusCode::kDataLoss, "rank");
}

TEST_F(IdxLoaderTest, RejectsTruncatedImages) {
  std::string bytes = ImagesBytes(3, 2, 3, kPixels);
  bytes.pop_back();
  ExpectImagesError(bytes, StatusCode::kDataLoss, "truncated");
}

TEST_F(IdxLoaderTest, RejectsTruncatedHeader) {
  ExpectImagesError(ImagesBytes(3, 2, 3, kPixels).substr(0, 10), StatusCode::kDataLoss,
                    "truncated");
}

TEST_F(IdxLoaderTest, RejectsTrailingBytes) {
  ExpectImagesError(ImagesBytes(3, 2, 3, kPixels) + "x", StatusCode::kDataLoss, "trailing");
}

TEST_F(IdxLoaderTest, RejectsEmptyFile) {
  ExpectImagesError("", StatusCode::kDataLoss, "0 bytes");
  const StatusOr<Dataset> data = LoadIdx(GoodImages(), dir_.WriteGzip("empty.gz", ""));
  ASSERT_FALSE(data.ok());
  EXPECT_EQ(data.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(data.status().message(), HasSubstr(dir_.File("empty.gz")));
}

TEST_F(IdxLoaderTest, RejectsCorruptGzipStream) {
  const std::string gz = dir_.WriteGzip("full.gz", ImagesBytes(3, 2, 3, kPixels));
  std::ifstream in(gz, std::ios::binary);
  const std::string compressed((std::istreambuf_iterator<char>(in)), {});
  ASSERT_GT(compressed.size(), 12u);
  ExpectImagesError(compressed.substr(0, compressed.size() - 6), StatusCode::kDataLoss, "");
}

TEST_F(IdxLoaderTest, RejectsCountMismatch) {
  const std::string labels = dir_.Write("lbl2", LabelsBytes({1, 2}));
  const StatusOr<Dataset> data = LoadIdx(GoodImages(), labels);
  ASSERT_FALSE(data.ok());
  EXPECT_EQ(data.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(data.status().message(), HasSubstr(dir_.File("img")));
  EXPECT_THAT(data.status().message(), HasSubstr(labels));
}

TEST_F(IdxLoaderTest, RejectsLabelOutOfRange) {
  const std::string labels = dir_.Write("lbl3", LabelsBytes({1, 10, 2}));
  StatusOr<Dataset> data = LoadIdx(GoodImages(), labels);
  ASSERT_FALSE(data.ok());
  EXPECT_EQ(data.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(data.status().message(), HasSubstr(labels));
  // The same file is fine with more classes, and label 9 is out of range for 9 classes.
  EXPECT_TRUE(LoadIdx(GoodImages(), labels, 11).ok());
  data = LoadIdx(GoodImages(), GoodLabels(), 9);
  ASSERT_FALSE(data.ok());
  EXPECT_EQ(data.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(IdxLoaderTest, RejectsBadNumClasses) {
  EXPECT_EQ(LoadIdx(GoodImages(), GoodLabels(), 0).status().code(), StatusCode::kInvalidArgument);
}

TEST(IdxLoaderFashionMnistTest, MissingDirectoryIsNotFound) {
  testing::TempDir dir;
  const StatusOr<Dataset> data = LoadFashionMnist(Split::kTest, dir.path());
  ASSERT_FALSE(data.ok());
  EXPECT_EQ(data.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(data.status().message(), HasSubstr(dir.path() + "/t10k-"));
}

TEST(IdxLoaderFashionMnistTest, LoadsRealTestSplit) {
  if (!std::filesystem::exists(std::string(kFashionMnistDir) + "/t10k-images-idx3-ubyte.gz")) {
    GTEST_SKIP() << "Fashion-MNIST not installed in " << kFashionMnistDir;
  }
  const StatusOr<Dataset> data = LoadFashionMnist(Split::kTest);
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  EXPECT_EQ(data->size(), 10000u);
  EXPECT_EQ(data->features.rows(), 784);
  EXPECT_EQ(data->example_shape, (Shape{1, 28, 28}));
  EXPECT_TRUE(data->Validate().ok());
  std::vector<int> per_class(10, 0);
  for (int label : data->Labels()) ++per_class[static_cast<size_t>(label)];
  EXPECT_EQ(per_class, std::vector<int>(10, 1000));
  EXPECT_GE(data->features.minCoeff(), 0.0f);
  EXPECT_EQ(data->features.maxCoeff(), 1.0f);
}

}  // namespace
}  // namespace fedra
