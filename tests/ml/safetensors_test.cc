#include "fedra/ml/safetensors.h"

#include <bit>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <ostream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "testing/temp_dir.h"

namespace fedra {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// The 8-byte little-endian length prefix, built byte by byte (independent of the code under
// test and of the host's byte order).
std::string U64Le(uint64_t n) {
  std::string out;
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  return out;
}

std::string MakeFile(const std::string& header, const std::string& data) {
  return U64Le(header.size()) + header + data;
}

std::vector<uint32_t> Bits(const Parameters& p) {
  std::vector<uint32_t> bits;
  for (float x : p.span()) bits.push_back(std::bit_cast<uint32_t>(x));
  return bits;
}

// Tensors of several ranks (including a scalar and an empty tensor) holding values whose
// bits must survive: signed zero, a subnormal, infinities and a NaN with a payload.
Parameters MakeParameters() {
  Parameters p;
  p.Add("conv.weight", {2, 1, 3, 3});
  p.Add("conv.bias", {2});
  p.Add("scalar", {});
  p.Add("empty", {0, 4});
  p.Add("fc.weight", {3, 2});
  std::span<float> s = p.span();
  for (size_t i = 0; i < s.size(); ++i) s[i] = 0.37f * static_cast<float>(i) - 3.0f;
  s[0] = -0.0f;
  s[1] = std::numeric_limits<float>::denorm_min();
  s[2] = std::numeric_limits<float>::infinity();
  s[3] = -std::numeric_limits<float>::infinity();
  s[4] = std::bit_cast<float>(uint32_t{0x7fc01234});
  return p;
}

TEST(SafetensorsTest, RoundTripsTensorsValuesAndMetadata) {
  const Parameters params = MakeParameters();
  const Metadata metadata = {{"format", "pt"}, {"round", "7"}, {"note", "caf\xc3\xa9"}};
  Metadata decoded_metadata;
  StatusOr<Parameters> decoded =
      DecodeSafetensors(EncodeSafetensors(params, metadata), &decoded_metadata);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->tensors(), params.tensors());
  EXPECT_EQ(Bits(*decoded), Bits(params));
  EXPECT_EQ(decoded_metadata, metadata);
}

TEST(SafetensorsTest, RoundTripsEmptyParameters) {
  Metadata metadata = {{"stale", "value"}};
  StatusOr<Parameters> decoded = DecodeSafetensors(EncodeSafetensors(Parameters()), &metadata);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->num_tensors(), 0u);
  EXPECT_TRUE(metadata.empty());  // no "__metadata__" in the file: cleared
}

// A file written by hand from the format spec, as PyTorch's safetensors would lay it out:
// the JSON lists "b" before "a", but "a" comes first in the data, so it comes first here.
TEST(SafetensorsTest, DecodesHandBuiltFile) {
  const std::string header = R"({"__metadata__":{"format":"pt"},)"
                             R"("b":{"dtype":"F32","shape":[1,1],"data_offsets":[8,12]},)"
                             R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  ASSERT_EQ(header.size(), 141u);
  const std::string bytes = std::string("\x8d\0\0\0\0\0\0\0", 8) + header +
                            std::string(
                                "\x00\x00\x80\x3f"   // a[0] = 1.0f
                                "\x00\x00\x00\xc0"   // a[1] = -2.0f
                                "\x00\x00\x00\x3f",  // b[0][0] = 0.5f
                                12);
  Metadata metadata;
  StatusOr<Parameters> p = DecodeSafetensors(bytes, &metadata);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_EQ(p->num_tensors(), 2u);
  EXPECT_EQ(p->info(0).name, "a");
  EXPECT_EQ(p->info(0).shape, (Shape{2}));
  EXPECT_EQ(p->info(1).name, "b");
  EXPECT_EQ(p->info(1).shape, (Shape{1, 1}));
  EXPECT_EQ(std::vector<float>(p->span().begin(), p->span().end()),
            (std::vector<float>{1.0f, -2.0f, 0.5f}));
  EXPECT_EQ(metadata, (Metadata{{"format", "pt"}}));
}

TEST(SafetensorsTest, DecodesF64AsFloat) {
  const std::string header = R"({"x":{"dtype":"F64","shape":[2],"data_offsets":[0,16]}})";
  const std::string data(
      "\x00\x00\x00\x00\x00\x00\xd0\x3f"   // 0.25
      "\x00\x00\x00\x00\x00\x00\x04\xc0",  // -2.5
      16);
  StatusOr<Parameters> p = DecodeSafetensors(MakeFile(header, data));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(std::vector<float>(p->span().begin(), p->span().end()),
            (std::vector<float>{0.25f, -2.5f}));
}

// The writer's exact layout for the hand-built example above: tensors in Parameters order,
// ascending offsets, metadata first, compact JSON padded with spaces to 8 bytes.
TEST(SafetensorsTest, EncodesReferenceLayout) {
  Parameters p;
  p.Add("a", {2});
  p.Add("b", {1, 1});
  p.span()[0] = 1.0f;
  p.span()[1] = -2.0f;
  p.span()[2] = 0.5f;
  const std::string header = R"({"__metadata__":{"format":"pt"},)"
                             R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                             R"("b":{"dtype":"F32","shape":[1,1],"data_offsets":[8,12]}})"
                             "   ";  // 141 bytes of JSON + 3 spaces = 144
  const std::string expected = std::string("\x90\0\0\0\0\0\0\0", 8) + header +
                               std::string("\x00\x00\x80\x3f\x00\x00\x00\xc0\x00\x00\x00\x3f", 12);
  EXPECT_EQ(EncodeSafetensors(p, {{"format", "pt"}}), expected);
}

TEST(SafetensorsTest, HeaderIsPaddedToEightBytesWithSpaces) {
  for (size_t name_length = 1; name_length <= 16; ++name_length) {
    SCOPED_TRACE("name length " + std::to_string(name_length));
    Parameters p;
    p.Add(std::string(name_length, 'w'), {3});
    const std::string bytes = EncodeSafetensors(p);
    uint64_t n = 0;
    for (int i = 0; i < 8; ++i) n |= uint64_t{static_cast<unsigned char>(bytes[i])} << (8 * i);
    ASSERT_EQ((8 + n) % 8, 0u);
    ASSERT_EQ(bytes.size(), 8 + n + 3 * sizeof(float));
    const std::string header = bytes.substr(8, n);
    const size_t json_end = header.find_last_not_of(' ');
    EXPECT_EQ(header[json_end], '}');
    EXPECT_LT(header.size() - json_end - 1, 8u);
    EXPECT_TRUE(DecodeSafetensors(bytes).ok());
  }
}

struct CorruptCase {
  const char* name;
  std::string bytes;
  const char* message;  // expected substring of the error
};

void PrintTo(const CorruptCase& c, std::ostream* os) { *os << c.name; }

// A valid one-tensor header for "a" with the given dtype, shape and offsets.
std::string Entry(const std::string& name, const std::string& shape, int begin, int end,
                  const std::string& dtype = "F32") {
  return "\"" + name + R"(":{"dtype":")" + dtype + R"(","shape":)" + shape +
         R"(,"data_offsets":[)" + std::to_string(begin) + "," + std::to_string(end) + "]}";
}

std::string Zeros(size_t n) { return std::string(n, '\0'); }

std::vector<CorruptCase> CorruptCases() {
  const std::string valid = EncodeSafetensors(MakeParameters());
  return {
      {"TooShort", "\x01\x02", "too short"},
      {"TruncatedHeader", valid.substr(0, 30), "exceeds the 22 bytes"},
      {"TruncatedData", valid.substr(0, valid.size() - 4), "out of bounds"},
      {"HeaderLengthBeyondFile", U64Le(100) + "{}", "header length 100 exceeds"},
      {"HeaderLengthAbsurd", U64Le(uint64_t{1} << 40) + "{}", "exceeds the limit"},
      {"BadJson", MakeFile(R"({"a":)", ""), "not valid JSON"},
      {"InvalidUtf8", MakeFile("{\"\xff\":1}", ""), "not valid JSON"},
      {"NotAnObject", MakeFile("[1,2]", ""), "not a JSON object"},
      {"EntryNotAnObject", MakeFile(R"({"a":3})", ""), "tensor 'a': entry is not a JSON object"},
      {"UnsupportedDtype", MakeFile("{" + Entry("a", "[1]", 0, 2, "F16") + "}", Zeros(2)),
       "tensor 'a': unsupported dtype 'F16'"},
      {"DtypeNotString", MakeFile(R"({"a":{"dtype":1,"shape":[],"data_offsets":[0,4]}})", Zeros(4)),
       "dtype is not a string"},
      {"MissingField", MakeFile(R"({"a":{"dtype":"F32","data_offsets":[0,4]}})", Zeros(4)),
       "missing field 'shape'"},
      {"UnexpectedField",
       MakeFile(R"({"a":{"dtype":"F32","shape":[],"data_offsets":[0,4],"x":0}})", Zeros(4)),
       "unexpected field 'x'"},
      {"NegativeDim", MakeFile("{" + Entry("a", "[-1]", 0, 4) + "}", Zeros(4)), "negative"},
      {"FractionalDim", MakeFile("{" + Entry("a", "[1.5]", 0, 4) + "}", Zeros(4)), "non-integer"},
      {"ShapeOverflow", MakeFile("{" + Entry("a", "[4294967296,4294967296]", 0, 4) + "}", Zeros(4)),
       "too large"},
      {"ShapeOffsetMismatch", MakeFile("{" + Entry("a", "[3]", 0, 8) + "}", Zeros(8)),
       "shape [3] of dtype F32 does not match data_offsets [0, 8]"},
      {"ReversedOffsets", MakeFile("{" + Entry("a", "[0]", 8, 4) + "}", Zeros(8)), "begin <= end"},
      {"OffsetsOutOfBounds", MakeFile("{" + Entry("a", "[2]", 0, 8) + "}", Zeros(4)),
       "out of bounds"},
      {"HugeOffset",
       MakeFile(R"({"a":{"dtype":"F32","shape":[],"data_offsets":[0,18446744073709551615]}})",
                Zeros(4)),
       "out of bounds"},
      {"Overlap",
       MakeFile("{" + Entry("a", "[2]", 0, 8) + "," + Entry("b", "[2]", 4, 12) + "}", Zeros(12)),
       "'a' and 'b' overlap"},
      {"Gap",
       MakeFile("{" + Entry("a", "[1]", 0, 4) + "," + Entry("b", "[1]", 8, 12) + "}", Zeros(12)),
       "gap in the data section: bytes [4, 8)"},
      {"GapAtStart", MakeFile("{" + Entry("a", "[1]", 4, 8) + "}", Zeros(8)), "bytes [0, 4)"},
      {"DuplicateName",
       MakeFile("{" + Entry("a", "[1]", 0, 4) + "," + Entry("a", "[1]", 4, 8) + "}", Zeros(8)),
       "duplicate tensor name 'a'"},
      {"DuplicateField",
       MakeFile(R"({"a":{"dtype":"F32","dtype":"F32","shape":[],"data_offsets":[0,4]}})", Zeros(4)),
       "duplicate key 'dtype'"},
      {"TrailingBytes", MakeFile("{" + Entry("a", "[1]", 0, 4) + "}", Zeros(8)),
       "4 trailing bytes"},
      {"MetadataNotString", MakeFile(R"({"__metadata__":{"k":1}})", ""),
       "__metadata__ value for 'k' is not a string"},
      {"F64OutOfFloatRange",
       MakeFile("{" + Entry("a", "[1]", 0, 8, "F64") + "}",
                std::string("\x00\x00\x00\x00\x00\x00\xf0\x7e", 8)),  // 2^1008, about 2.7e303
       "out of float range"},
  };
}

class SafetensorsCorruptTest : public ::testing::TestWithParam<CorruptCase> {};

TEST_P(SafetensorsCorruptTest, DecodeSaysWhatIsWrong) {
  Metadata metadata = {{"untouched", "yes"}};
  StatusOr<Parameters> p = DecodeSafetensors(GetParam().bytes, &metadata);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kDataLoss) << p.status().ToString();
  EXPECT_THAT(p.status().message(), HasSubstr(GetParam().message));
  EXPECT_EQ(metadata, (Metadata{{"untouched", "yes"}}));
}

TEST_P(SafetensorsCorruptTest, LoadNamesThePath) {
  testing::TempDir dir;
  const std::string path = dir.Write("corrupt.safetensors", GetParam().bytes);
  StatusOr<Parameters> p = LoadSafetensors(path);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(p.status().message(), StartsWith(path + ": "));
  EXPECT_THAT(p.status().message(), HasSubstr(GetParam().message));
}

INSTANTIATE_TEST_SUITE_P(Cases, SafetensorsCorruptTest, ::testing::ValuesIn(CorruptCases()),
                         [](const ::testing::TestParamInfo<CorruptCase>& test_case) {
                           return std::string(test_case.param.name);
                         });

std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  return names;
}

TEST(SafetensorsTest, SaveAndLoadRoundTrip) {
  testing::TempDir dir;
  const std::string path = dir.File("model.safetensors");
  const Parameters params = MakeParameters();
  ASSERT_TRUE(SaveSafetensors(path, params, {{"epoch", "3"}}).ok());
  EXPECT_EQ(ListDir(dir.path()), std::vector<std::string>{"model.safetensors"});
  Metadata metadata;
  StatusOr<Parameters> loaded = LoadSafetensors(path, &metadata);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->tensors(), params.tensors());
  EXPECT_EQ(Bits(*loaded), Bits(params));
  EXPECT_EQ(metadata, (Metadata{{"epoch", "3"}}));
}

TEST(SafetensorsTest, SaveOverwritesExistingFile) {
  testing::TempDir dir;
  const std::string path = dir.Write("model.safetensors", "old contents, not safetensors");
  Parameters params;
  params.Add("w", {2});
  params.span()[0] = 4.0f;
  params.span()[1] = -1.0f;
  ASSERT_TRUE(SaveSafetensors(path, params).ok());
  params.span()[0] = 5.0f;
  ASSERT_TRUE(SaveSafetensors(path, params).ok());
  StatusOr<Parameters> loaded = LoadSafetensors(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(std::vector<float>(loaded->span().begin(), loaded->span().end()),
            (std::vector<float>{5.0f, -1.0f}));
  EXPECT_EQ(ListDir(dir.path()), std::vector<std::string>{"model.safetensors"});
}

TEST(SafetensorsTest, FailedSaveRemovesTemporaryFile) {
  testing::TempDir dir;
  // The target is a directory, so the final rename fails after the temporary file is written.
  const std::string path = dir.File("model.safetensors");
  std::filesystem::create_directory(path);
  Status status = SaveSafetensors(path, MakeParameters());
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(status.message(), StartsWith(path + ": "));
  EXPECT_THAT(status.message(), HasSubstr("rename"));
  EXPECT_EQ(ListDir(dir.path()), std::vector<std::string>{"model.safetensors"});
}

TEST(SafetensorsTest, SaveIntoMissingDirectoryIsNotFound) {
  testing::TempDir dir;
  const std::string path = dir.File("no_such_dir/model.safetensors");
  Status status = SaveSafetensors(path, MakeParameters());
  EXPECT_EQ(status.code(), StatusCode::kNotFound) << status.ToString();
  EXPECT_THAT(status.message(), StartsWith(path + ": "));
}

TEST(SafetensorsTest, SaveRejectsTensorNamedMetadata) {
  testing::TempDir dir;
  Parameters params;
  params.Add("__metadata__", {1});
  Status status = SaveSafetensors(dir.File("m.safetensors"), params);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("__metadata__"));
  EXPECT_TRUE(ListDir(dir.path()).empty());
}

TEST(SafetensorsTest, LoadMissingFileIsNotFound) {
  testing::TempDir dir;
  const std::string path = dir.File("absent.safetensors");
  StatusOr<Parameters> p = LoadSafetensors(path);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(p.status().message(), StartsWith(path + ": "));
}

TEST(SafetensorsTest, LoadDirectoryIsAnError) {
  testing::TempDir dir;
  StatusOr<Parameters> p = LoadSafetensors(dir.path());
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(p.status().message(), HasSubstr("not a regular file"));
}

}  // namespace
}  // namespace fedra
