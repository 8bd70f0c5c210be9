// Tests for the private file helpers in src/core/file_util.h.
#include "core/file_util.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "testing/temp_dir.h"

namespace fedra::internal {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  return names;
}

TEST(FileUtilTest, ErrnoErrorMapsErrnoToStatusCode) {
  const std::vector<std::pair<int, StatusCode>> cases = {
      {ENOENT, StatusCode::kNotFound},
      {ENOTDIR, StatusCode::kNotFound},
      {ENOSPC, StatusCode::kResourceExhausted},
      {EDQUOT, StatusCode::kResourceExhausted},
      {EACCES, StatusCode::kFailedPrecondition},
      {EPERM, StatusCode::kFailedPrecondition},
      {EROFS, StatusCode::kFailedPrecondition},
      {EISDIR, StatusCode::kFailedPrecondition},
      {EIO, StatusCode::kInternal},
      {EINVAL, StatusCode::kInternal},
  };
  for (const auto& [err, code] : cases) {
    const Status status = ErrnoError("doing it", err);
    EXPECT_EQ(status.code(), code) << err;
  }
  EXPECT_EQ(ErrnoError("cannot open x", ENOENT).message(),
            "cannot open x: No such file or directory");
}

TEST(FileUtilTest, WriteFileAtomicallyOverwritesAndLeavesNoTemporaryFile) {
  testing::TempDir dir;
  const std::string path = dir.File("out.txt");
  ASSERT_TRUE(WriteFileAtomically(path, "first version\n").ok());
  ASSERT_TRUE(WriteFileAtomically(path, "second").ok());
  StatusOr<std::string> read = ReadFile(path);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(*read, "second");
  EXPECT_EQ(ListDir(dir.path()), std::vector<std::string>{"out.txt"});
}

TEST(FileUtilTest, FailedWriteRemovesTemporaryFile) {
  testing::TempDir dir;
  // The target is a directory, so the final rename fails after the temporary file is written.
  const std::string path = dir.File("taken");
  std::filesystem::create_directory(path);
  const Status status = WriteFileAtomically(path, "bytes");
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(status.message(), StartsWith(path + ": "));
  EXPECT_THAT(status.message(), HasSubstr("rename"));
  EXPECT_EQ(ListDir(dir.path()), std::vector<std::string>{"taken"});
}

TEST(FileUtilTest, WriteIntoMissingDirectoryIsNotFoundNamingThePath) {
  testing::TempDir dir;
  const std::string path = dir.File("no/such/dir/out.txt");
  const Status status = WriteFileAtomically(path, "bytes");
  EXPECT_EQ(status.code(), StatusCode::kNotFound) << status.ToString();
  EXPECT_THAT(status.message(), StartsWith(path + ": "));
}

TEST(FileUtilTest, ReadFileErrorsNameThePath) {
  testing::TempDir dir;
  const std::string missing = dir.File("absent.txt");
  StatusOr<std::string> read = ReadFile(missing);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(read.status().message(), StartsWith(missing + ": "));

  read = ReadFile(dir.path());
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(read.status().message(), StartsWith(dir.path() + ": "));
  EXPECT_THAT(read.status().message(), HasSubstr("not a regular file"));
}

TEST(FileUtilTest, ReadFileReadsEmptyAndBinaryFiles) {
  testing::TempDir dir;
  const std::string bytes("a\0b\n", 4);
  StatusOr<std::string> read = ReadFile(dir.Write("bin", bytes));
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(*read, bytes);
  read = ReadFile(dir.Write("empty", ""));
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(*read, "");
}

}  // namespace
}  // namespace fedra::internal
