#include "fedra/ml/idx_loader.h"

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string_view>

#include <zlib.h>

namespace fedra {
namespace {

constexpr uint8_t kUnsignedByteType = 0x08;
constexpr uint32_t kLabelsMagic = 0x00000801;
constexpr uint32_t kImagesMagic = 0x00000803;
constexpr size_t kChunkBytes = size_t{1} << 20;

std::string Hex(uint32_t value) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "0x%08X", value);
  return buf;
}

// Reads the whole file, decompressing it if it is gzip'd (gzread passes plain files through).
StatusOr<std::string> ReadWholeFile(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return NotFoundError(path + ": no such file");
  if (std::filesystem::is_directory(path, ec)) {
    return InvalidArgumentError(path + ": is a directory, expected an IDX file");
  }
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) {
    return NotFoundError(path + ": cannot open: " + std::strerror(errno));
  }
  std::string bytes;
  for (;;) {
    const size_t old_size = bytes.size();
    bytes.resize(old_size + kChunkBytes);
    const int n = gzread(file, bytes.data() + old_size, static_cast<unsigned>(kChunkBytes));
    bytes.resize(old_size + static_cast<size_t>(n > 0 ? n : 0));
    if (n <= 0) break;
  }
  int err = Z_OK;
  const char* msg = gzerror(file, &err);
  const std::string zmsg = msg ? msg : "";
  gzclose(file);
  if (err != Z_OK && err != Z_STREAM_END) {
    return DataLossError(path + ": read failed (corrupt or truncated gzip stream?): " + zmsg);
  }
  return bytes;
}

uint32_t ReadBigEndian32(std::string_view bytes, size_t offset) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(bytes[offset + i]);
  return v;
}

// A parsed IDX file: its dimensions and a view of the payload after the header.
struct IdxFile {
  std::vector<uint32_t> dims;
  std::string_view payload;
};

// Checks the magic number: two zero bytes, the unsigned-byte type code, then the rank.
Status CheckMagic(const std::string& path, std::string_view bytes, uint32_t magic) {
  if (bytes.size() < 4) {
    return DataLossError(path + ": file is " + std::to_string(bytes.size()) +
                         " bytes, expected at least a 4-byte IDX magic number " + Hex(magic));
  }
  const uint32_t got = ReadBigEndian32(bytes, 0);
  if ((got >> 16) != 0) {
    return DataLossError(path + ": bad magic number " + Hex(got) + ", expected " + Hex(magic) +
                         " (is this an IDX file?)");
  }
  if (((got >> 8) & 0xFF) != kUnsignedByteType) {
    return DataLossError(path + ": element type byte is " + Hex((got >> 8) & 0xFF) +
                         ", expected 0x08 (unsigned byte)");
  }
  if ((got & 0xFF) != (magic & 0xFF)) {
    return DataLossError(path + ": rank is " + std::to_string(got & 0xFF) + ", expected " +
                         std::to_string(magic & 0xFF) + " (magic " + Hex(got) + ", expected " +
                         Hex(magic) + ")");
  }
  return OkStatus();
}

// Checks the header and that the payload length matches the dimensions exactly (no
// truncation, no trailing bytes). `bytes` must outlive the returned view.
StatusOr<IdxFile> ParseIdx(const std::string& path, std::string_view bytes, uint32_t magic) {
  FEDRA_RETURN_IF_ERROR(CheckMagic(path, bytes, magic));
  const size_t rank = magic & 0xFF;
  const size_t header = 4 + 4 * rank;
  if (bytes.size() < header) {
    return DataLossError(path + ": truncated: file is " + std::to_string(bytes.size()) +
                         " bytes, expected a " + std::to_string(header) + "-byte header");
  }
  constexpr uint64_t kMaxBytes = uint64_t{1} << 40;
  IdxFile out;
  uint64_t expected = 1;
  for (size_t i = 0; i < rank; ++i) {
    const uint32_t dim = ReadBigEndian32(bytes, 4 + 4 * i);
    if (i > 0 && dim == 0) {
      return DataLossError(path + ": dimension " + std::to_string(i) + " is 0, expected > 0");
    }
    if (dim != 0 && expected > kMaxBytes / dim) {
      return DataLossError(path + ": header dimensions are implausibly large");
    }
    expected *= dim;
    out.dims.push_back(dim);
  }
  const uint64_t actual = bytes.size() - header;
  if (actual != expected) {
    return DataLossError(path + ": " + (actual < expected ? "truncated" : "trailing bytes") +
                         ": header dimensions need " + std::to_string(expected) +
                         " data bytes after the header, file has " + std::to_string(actual));
  }
  out.payload = bytes.substr(header);
  return out;
}

StatusOr<std::vector<uint8_t>> LoadLabels(const std::string& path, int num_classes) {
  FEDRA_ASSIGN_OR_RETURN(const std::string bytes, ReadWholeFile(path));
  FEDRA_ASSIGN_OR_RETURN(const IdxFile idx, ParseIdx(path, bytes, kLabelsMagic));
  std::vector<uint8_t> labels(idx.payload.begin(), idx.payload.end());
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] >= num_classes) {
      return InvalidArgumentError(path + ": label of example " + std::to_string(i) + " is " +
                                  std::to_string(labels[i]) + ", expected a class in [0, " +
                                  std::to_string(num_classes) + ")");
    }
  }
  return labels;
}

}  // namespace

StatusOr<Dataset> LoadIdx(const std::string& images_path, const std::string& labels_path,
                          int num_classes) {
  if (num_classes <= 0 || num_classes > 256) {
    return InvalidArgumentError("LoadIdx(" + images_path + "): num_classes is " +
                                std::to_string(num_classes) + ", expected 1..256");
  }
  FEDRA_ASSIGN_OR_RETURN(const std::vector<uint8_t> labels, LoadLabels(labels_path, num_classes));
  FEDRA_ASSIGN_OR_RETURN(const std::string bytes, ReadWholeFile(images_path));
  FEDRA_ASSIGN_OR_RETURN(const IdxFile images, ParseIdx(images_path, bytes, kImagesMagic));
  const size_t n = images.dims[0];
  if (n != labels.size()) {
    return InvalidArgumentError(images_path + " holds " + std::to_string(n) + " images but " +
                                labels_path + " holds " + std::to_string(labels.size()) +
                                " labels; expected equal counts");
  }
  const int64_t rows = images.dims[1];
  const int64_t cols = images.dims[2];
  Dataset data;
  data.example_shape = {1, rows, cols};
  data.num_classes = num_classes;
  data.features.resize(rows * cols, static_cast<Eigen::Index>(n));
  data.targets.resize(1, static_cast<Eigen::Index>(n));
  // IDX stores each image row-major, which is exactly one feature column.
  const auto* pixels = reinterpret_cast<const uint8_t*>(images.payload.data());
  float* out = data.features.data();
  for (size_t i = 0; i < images.payload.size(); ++i) {
    out[i] = static_cast<float>(pixels[i]) / 255.0f;
  }
  for (size_t i = 0; i < n; ++i) data.targets(0, static_cast<Eigen::Index>(i)) = labels[i];
  return data;
}

StatusOr<Dataset> LoadFashionMnist(Split split, const std::string& dir) {
  const std::string prefix = dir + (split == Split::kTrain ? "/train" : "/t10k");
  return LoadIdx(prefix + "-images-idx3-ubyte.gz", prefix + "-labels-idx1-ubyte.gz", 10);
}

}  // namespace fedra
