#include "fedra/ml/safetensors.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/file_util.h"

namespace fedra {
namespace {

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian; fedra reads and writes it with memcpy");
static_assert(sizeof(float) == 4 && std::numeric_limits<float>::is_iec559);
static_assert(sizeof(double) == 8 && std::numeric_limits<double>::is_iec559);

// ordered_json keeps the file's key order, so tensors sharing a begin offset (empty tensors)
// come back in the order they were written.
using Json = nlohmann::ordered_json;

constexpr uint64_t kMaxHeaderBytes = 100'000'000;
constexpr size_t kMaxTensors = 1 << 16;
constexpr char kMetadataKey[] = "__metadata__";

enum class Dtype { kF32, kF64 };

struct Entry {
  std::string name;
  Dtype dtype = Dtype::kF32;
  Shape shape;
  uint64_t begin = 0;
  uint64_t end = 0;
};

std::string Quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

std::string OffsetsToString(const Entry& e) {
  return "[" + std::to_string(e.begin) + ", " + std::to_string(e.end) + "]";
}

// ---------------------------------------------------------------------------------------
// Header parsing.

StatusOr<uint64_t> ReadHeaderLength(std::string_view bytes) {
  if (bytes.size() < 8) {
    return DataLossError("file too short (" + std::to_string(bytes.size()) +
                         " bytes) to hold the 8-byte header length");
  }
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  if (n > kMaxHeaderBytes) {
    return DataLossError("header length " + std::to_string(n) + " exceeds the limit of " +
                         std::to_string(kMaxHeaderBytes) + " bytes");
  }
  if (n > bytes.size() - 8) {
    return DataLossError("header length " + std::to_string(n) + " exceeds the " +
                         std::to_string(bytes.size() - 8) + " bytes that follow it");
  }
  return n;
}

// Parses the header JSON, rejecting duplicate keys in any object (nlohmann would silently
// keep the last one).
StatusOr<Json> ParseHeaderJson(std::string_view text) {
  std::vector<std::unordered_set<std::string>> open_objects;
  std::string duplicate;
  bool duplicate_is_tensor = false;
  auto callback = [&](int /*depth*/, nlohmann::json::parse_event_t event, Json& parsed) {
    using Event = nlohmann::json::parse_event_t;
    if (event == Event::object_start) {
      open_objects.emplace_back();
    } else if (event == Event::object_end) {
      open_objects.pop_back();
    } else if (event == Event::key && !open_objects.empty() && duplicate.empty()) {
      const std::string& key = parsed.get_ref<const std::string&>();
      if (!open_objects.back().insert(key).second) {
        duplicate = key;
        duplicate_is_tensor = open_objects.size() == 1 && key != kMetadataKey;
      }
    }
    return true;
  };
  Json header;
  try {
    header = Json::parse(text.begin(), text.end(), callback);
  } catch (const nlohmann::json::exception& e) {
    return DataLossError(std::string("header is not valid JSON: ") + e.what());
  }
  if (!duplicate.empty()) {
    return DataLossError((duplicate_is_tensor ? "duplicate tensor name " : "duplicate key ") +
                         Quoted(duplicate));
  }
  if (!header.is_object()) return DataLossError("header is not a JSON object");
  return header;
}

// A JSON number that is a non-negative integer, as uint64_t.
bool GetUnsigned(const Json& j, uint64_t* out) {
  if (!j.is_number_unsigned()) return false;
  *out = j.get<uint64_t>();
  return true;
}

StatusOr<Dtype> ParseDtype(const Json& j) {
  if (!j.is_string()) return DataLossError("dtype is not a string");
  const std::string& s = j.get_ref<const std::string&>();
  if (s == "F32") return Dtype::kF32;
  if (s == "F64") return Dtype::kF64;
  return DataLossError("unsupported dtype " + Quoted(s) + " (fedra reads F32 and F64)");
}

size_t DtypeSize(Dtype dtype) { return dtype == Dtype::kF32 ? 4 : 8; }
const char* DtypeName(Dtype dtype) { return dtype == Dtype::kF32 ? "F32" : "F64"; }

// Dimensions must be non-negative integers whose running product fits in int64_t.
StatusOr<Shape> ParseShape(const Json& j) {
  if (!j.is_array()) return DataLossError("shape is not an array");
  Shape shape;
  uint64_t elements = 1;
  for (const Json& d : j) {
    uint64_t dim = 0;
    if (d.is_number_integer() && !d.is_number_unsigned()) {
      return DataLossError("shape has a negative dimension");
    }
    if (!GetUnsigned(d, &dim)) return DataLossError("shape has a non-integer dimension");
    constexpr auto kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
    if (dim > kMax || (dim != 0 && elements > kMax / dim)) {
      return DataLossError("shape is too large");
    }
    elements *= dim;
    shape.push_back(static_cast<int64_t>(dim));
  }
  return shape;
}

Status ParseOffsets(const Json& j, uint64_t data_size, Entry* e) {
  if (!j.is_array() || j.size() != 2 || !GetUnsigned(j[0], &e->begin) ||
      !GetUnsigned(j[1], &e->end) || e->begin > e->end) {
    return DataLossError("data_offsets must be [begin, end] with integers 0 <= begin <= end");
  }
  if (e->end > data_size) {
    return DataLossError("data_offsets " + OffsetsToString(*e) + " out of bounds of the " +
                         std::to_string(data_size) + "-byte data section (truncated file?)");
  }
  const uint64_t elements = static_cast<uint64_t>(NumElements(e->shape));
  const uint64_t span = e->end - e->begin;
  if (elements > span / DtypeSize(e->dtype) || elements * DtypeSize(e->dtype) != span) {
    return DataLossError("shape " + ShapeToString(e->shape) + " of dtype " + DtypeName(e->dtype) +
                         " does not match data_offsets " + OffsetsToString(*e));
  }
  return OkStatus();
}

Status ParseEntryFields(const Json& j, uint64_t data_size, Entry* e) {
  if (!j.is_object()) return DataLossError("entry is not a JSON object");
  for (const auto& [key, value] : j.items()) {
    if (key != "dtype" && key != "shape" && key != "data_offsets") {
      return DataLossError("unexpected field " + Quoted(key));
    }
  }
  for (const char* field : {"dtype", "shape", "data_offsets"}) {
    if (!j.contains(field)) return DataLossError(std::string("missing field '") + field + "'");
  }
  FEDRA_ASSIGN_OR_RETURN(e->dtype, ParseDtype(j.at("dtype")));
  FEDRA_ASSIGN_OR_RETURN(e->shape, ParseShape(j.at("shape")));
  return ParseOffsets(j.at("data_offsets"), data_size, e);
}

Status ParseMetadata(const Json& j, Metadata* metadata) {
  if (!j.is_object()) return DataLossError("__metadata__ is not a JSON object");
  for (const auto& [key, value] : j.items()) {
    if (!value.is_string()) {
      return DataLossError("__metadata__ value for " + Quoted(key) + " is not a string");
    }
    (*metadata)[key] = value.get<std::string>();
  }
  return OkStatus();
}

// Splits the header into tensor entries (in key order) and metadata.
Status ParseHeaderUnchecked(const Json& header, uint64_t data_size, std::vector<Entry>* entries,
                            Metadata* metadata) {
  for (const auto& [key, value] : header.items()) {
    if (key == kMetadataKey) {
      FEDRA_RETURN_IF_ERROR(ParseMetadata(value, metadata));
      continue;
    }
    if (entries->size() == kMaxTensors) {
      return DataLossError("more than " + std::to_string(kMaxTensors) + " tensors");
    }
    Entry e;
    e.name = key;
    FEDRA_RETURN_IF_ERROR(
        ParseEntryFields(value, data_size, &e).WithContext("tensor " + Quoted(key)));
    entries->push_back(std::move(e));
  }
  return OkStatus();
}

// ParseHeaderUnchecked checks every type before it reads a value; this is a backstop so a
// missed case still cannot let a nlohmann exception escape.
Status ParseHeader(const Json& header, uint64_t data_size, std::vector<Entry>* entries,
                   Metadata* metadata) {
  try {
    return ParseHeaderUnchecked(header, data_size, entries, metadata);
  } catch (const nlohmann::json::exception& e) {
    return DataLossError(std::string("malformed header: ") + e.what());
  }
}

// Sorts entries by offset and checks that they tile [0, data_size) exactly.
Status CheckLayout(std::vector<Entry>* entries, uint64_t data_size) {
  std::stable_sort(entries->begin(), entries->end(), [](const Entry& a, const Entry& b) {
    return std::pair(a.begin, a.end) < std::pair(b.begin, b.end);
  });
  uint64_t covered = 0;
  const Entry* previous = nullptr;
  for (const Entry& e : *entries) {
    if (e.begin < covered) {
      return DataLossError("tensors " + Quoted(previous->name) + " and " + Quoted(e.name) +
                           " overlap (data_offsets " + OffsetsToString(*previous) + " and " +
                           OffsetsToString(e) + ")");
    }
    if (e.begin > covered) {
      return DataLossError("gap in the data section: bytes [" + std::to_string(covered) + ", " +
                           std::to_string(e.begin) + ") belong to no tensor");
    }
    covered = e.end;
    previous = &e;
  }
  if (covered != data_size) {
    return DataLossError(std::to_string(data_size - covered) +
                         " trailing bytes after the last tensor");
  }
  return OkStatus();
}

Parameters BuildParameters(const std::vector<Entry>& entries, const char* data) {
  Parameters params;
  for (const Entry& e : entries) params.Add(e.name, e.shape);
  for (size_t i = 0; i < entries.size(); ++i) {
    const Entry& e = entries[i];
    float* out = params.data() + params.info(i).offset;
    const size_t n = params.info(i).size;
    if (e.dtype == Dtype::kF32) {
      if (n > 0) std::memcpy(out, data + e.begin, n * sizeof(float));
      continue;
    }
    for (size_t k = 0; k < n; ++k) {
      double v = 0.0;
      std::memcpy(&v, data + e.begin + k * sizeof(double), sizeof(double));
      out[k] = static_cast<float>(v);
    }
  }
  return params;
}

Status CheckF64Range(const std::vector<Entry>& entries, const char* data) {
  constexpr double kMaxFloat = std::numeric_limits<float>::max();
  for (const Entry& e : entries) {
    if (e.dtype != Dtype::kF64) continue;
    for (uint64_t pos = e.begin; pos < e.end; pos += sizeof(double)) {
      double v = 0.0;
      std::memcpy(&v, data + pos, sizeof(double));
      if (std::isfinite(v) && std::abs(v) > kMaxFloat) {
        return DataLossError("tensor " + Quoted(e.name) + ": F64 value out of float range");
      }
    }
  }
  return OkStatus();
}

}  // namespace

std::string EncodeSafetensors(const Parameters& params, const Metadata& metadata) {
  Json header = Json::object();
  if (!metadata.empty()) header[kMetadataKey] = metadata;
  uint64_t offset = 0;
  for (const TensorInfo& t : params.tensors()) {
    FEDRA_CHECK_MSG(t.name != kMetadataKey, "a tensor may not be named __metadata__");
    const uint64_t end = offset + t.size * sizeof(float);
    Json entry = Json::object();
    entry["dtype"] = "F32";
    entry["shape"] = t.shape;
    entry["data_offsets"] = {offset, end};
    header[t.name] = std::move(entry);
    offset = end;
  }
  std::string text = header.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  text.append((8 - text.size() % 8) % 8, ' ');
  const uint64_t header_size = text.size();
  std::string out(8, '\0');
  std::memcpy(out.data(), &header_size, 8);
  out.reserve(8 + text.size() + params.num_bytes());
  out += text;
  out.append(reinterpret_cast<const char*>(params.data()), params.num_bytes());
  return out;
}

StatusOr<Parameters> DecodeSafetensors(const std::string& bytes, Metadata* metadata) {
  FEDRA_ASSIGN_OR_RETURN(const uint64_t header_size, ReadHeaderLength(bytes));
  const std::string_view text = std::string_view(bytes).substr(8, header_size);
  FEDRA_ASSIGN_OR_RETURN(const Json header, ParseHeaderJson(text));
  const char* data = bytes.data() + 8 + header_size;
  const uint64_t data_size = bytes.size() - 8 - header_size;
  std::vector<Entry> entries;
  Metadata parsed_metadata;
  FEDRA_RETURN_IF_ERROR(ParseHeader(header, data_size, &entries, &parsed_metadata));
  FEDRA_RETURN_IF_ERROR(CheckLayout(&entries, data_size));
  FEDRA_RETURN_IF_ERROR(CheckF64Range(entries, data));
  if (metadata != nullptr) *metadata = std::move(parsed_metadata);
  return BuildParameters(entries, data);
}

Status SaveSafetensors(const std::string& path, const Parameters& params,
                       const Metadata& metadata) {
  if (params.Find(kMetadataKey).ok()) {
    return InvalidArgumentError(path + ": a tensor may not be named __metadata__");
  }
  return internal::WriteFileAtomically(path, EncodeSafetensors(params, metadata));
}

StatusOr<Parameters> LoadSafetensors(const std::string& path, Metadata* metadata) {
  FEDRA_ASSIGN_OR_RETURN(const std::string bytes, internal::ReadFile(path));  // names `path`
  StatusOr<Parameters> params = DecodeSafetensors(bytes, metadata);
  if (!params.ok()) return params.status().WithContext(path);
  return params;
}

}  // namespace fedra
