#include "fedra/fl/checkpoint.h"

#include <openssl/evp.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <string_view>
#include <system_error>
#include <utility>

#include <nlohmann/json.hpp>

#include "core/file_util.h"
#include "fedra/core/logging.h"
#include "fedra/fl/metrics_log.h"
#include "fedra/ml/safetensors.h"

namespace fedra {
namespace {

constexpr char kFileName[] = "checkpoint.safetensors";
constexpr char kFormat[] = "fedra-checkpoint-1";
constexpr std::string_view kGlobalPrefix = "global/";
constexpr std::string_view kStrategyPrefix = "strategy/";
constexpr std::string_view kClientsPrefix = "clients/";

// Metadata keys.
constexpr char kFormatKey[] = "format";
constexpr char kRoundKey[] = "round";
constexpr char kSeedKey[] = "seed";
constexpr char kRunIdKey[] = "run_id";
constexpr char kFingerprintKey[] = "fingerprint";
constexpr char kScalarsKey[] = "strategy_scalars";
constexpr char kHistoryKey[] = "history";
constexpr char kInfluenceKey[] = "influence_reference";  // optional
constexpr char kChecksumKey[] = "sha256";

// ---------------------------------------------------------------------------------------
// Numbers as text, independent of the C locale.

// The shortest decimal form that std::from_chars reads back to the same double (or "inf",
// "-inf", "nan").
std::string DoubleToString(double v) {
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  FEDRA_CHECK(ec == std::errc());
  return std::string(buf, end);
}

// The whole of `text` as a T, or nullopt.
template <typename T>
std::optional<T> ParseNumber(std::string_view text) {
  T value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

// ---------------------------------------------------------------------------------------
// Checksum: SHA-256 over every tensor (name, shape, bytes) and every metadata entry but the
// checksum itself, each field length-prefixed so that no two contents hash the same input.

class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new()) {
    FEDRA_CHECK(ctx_ != nullptr && EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) == 1);
  }
  void Bytes(const void* data, size_t n) {
    FEDRA_CHECK(EVP_DigestUpdate(ctx_.get(), data, n) == 1);
  }
  void U64(uint64_t v) {
    unsigned char le[8];
    for (int i = 0; i < 8; ++i) le[i] = static_cast<unsigned char>(v >> (8 * i));
    Bytes(le, sizeof(le));
  }
  void Field(std::string_view s) {
    U64(s.size());
    Bytes(s.data(), s.size());
  }
  std::string HexDigest() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    FEDRA_CHECK(EVP_DigestFinal_ex(ctx_.get(), md, &n) == 1);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string hex;
    for (unsigned int i = 0; i < n; ++i) {
      hex.push_back(kHex[md[i] >> 4]);
      hex.push_back(kHex[md[i] & 15]);
    }
    return hex;
  }

 private:
  struct Free {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
  };
  std::unique_ptr<EVP_MD_CTX, Free> ctx_;
};

std::string Checksum(const Parameters& tensors, const Metadata& metadata) {
  Sha256 h;
  h.Field(kFormat);
  h.U64(tensors.num_tensors());
  for (size_t i = 0; i < tensors.num_tensors(); ++i) {
    const TensorInfo& t = tensors.info(i);
    h.Field(t.name);
    h.U64(t.shape.size());
    for (int64_t d : t.shape) h.U64(static_cast<uint64_t>(d));
    h.U64(t.size * sizeof(float));
    h.Bytes(tensors.data() + t.offset, t.size * sizeof(float));
  }
  for (const auto& [key, value] : metadata) {
    if (key == kChecksumKey) continue;
    h.Field(key);
    h.Field(value);
  }
  return h.HexDigest();
}

// ---------------------------------------------------------------------------------------
// Saving.

std::string ScalarsToJson(const std::map<std::string, double>& scalars) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (const auto& [name, value] : scalars) j[name] = DoubleToString(value);
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string HistoryToJsonLines(const std::vector<RoundMetrics>& history) {
  std::string lines;
  for (const RoundMetrics& m : history) lines += RoundMetricsToJson(m) + "\n";
  return lines;
}

// The model and the strategy vectors in one Parameters, under their prefixes.
Parameters PrefixedTensors(const Checkpoint& c) {
  Parameters all;
  for (const TensorInfo& t : c.global.tensors())
    all.Add(std::string(kGlobalPrefix) + t.name, t.shape);
  for (const auto& [name, v] : c.strategy.vectors) {
    all.Add(std::string(kStrategyPrefix) + name, {static_cast<int64_t>(v.size())});
  }
  for (const auto& [name, v] : c.clients) {
    all.Add(std::string(kClientsPrefix) + name, {static_cast<int64_t>(v.size())});
  }
  float* out = all.data();
  out = std::copy(c.global.data(), c.global.data() + c.global.size(), out);
  for (const auto& [name, v] : c.strategy.vectors) out = std::copy(v.begin(), v.end(), out);
  for (const auto& [name, v] : c.clients) out = std::copy(v.begin(), v.end(), out);
  return all;
}

// Temporary files of WriteFileAtomically ("<path>.tmp.<pid>.<n>") left in `dir` by processes
// that no longer run: a writer killed mid-save. Best effort; failures are only logged.
void RemoveStaleTempFiles(const std::string& dir) {
  const std::string prefix = std::string(kFileName) + ".tmp.";
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string_view rest = std::string_view(name).substr(prefix.size());
    const std::optional<pid_t> pid = ParseNumber<pid_t>(rest.substr(0, rest.find('.')));
    if (!pid || *pid <= 0 || *pid == ::getpid()) continue;
    if (::kill(*pid, 0) == 0 || errno != ESRCH) continue;  // running (or not ours to judge)
    std::error_code remove_ec;
    std::filesystem::remove(entry.path(), remove_ec);
    if (remove_ec) {
      Logger("fl")->warn("cannot remove stale checkpoint temporary file {}: {}",
                         entry.path().string(), remove_ec.message());
    }
  }
}

// ---------------------------------------------------------------------------------------
// Loading.

StatusOr<std::string> Require(const Metadata& metadata, const char* key) {
  const auto it = metadata.find(key);
  if (it == metadata.end()) {
    return DataLossError("missing metadata key \"" + std::string(key) + "\"");
  }
  return it->second;
}

template <typename T>
StatusOr<T> RequireNumber(const Metadata& metadata, const char* key, T min) {
  FEDRA_ASSIGN_OR_RETURN(const std::string text, Require(metadata, key));
  const std::optional<T> value = ParseNumber<T>(text);
  if (!value || *value < min) {
    return DataLossError("metadata \"" + std::string(key) + "\" is \"" + text.substr(0, 40) +
                         "\", expected an integer >= " + std::to_string(min));
  }
  return *value;
}

// `key`'s value: a JSON object of numbers written as strings.
StatusOr<std::map<std::string, double>> ParseScalars(const std::string& text,
                                                     const std::string& key) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    return DataLossError(key + " is not valid JSON: " + e.what());
  }
  if (!j.is_object()) return DataLossError(key + " is not a JSON object");
  std::map<std::string, double> scalars;
  for (const auto& [name, value] : j.items()) {
    const std::optional<double> v =
        value.is_string() ? ParseNumber<double>(value.get<std::string>()) : std::nullopt;
    if (!v) {
      return DataLossError(key + " entry \"" + name +
                           "\" is not a number written as a JSON string");
    }
    scalars[name] = *v;
  }
  return scalars;
}

StatusOr<std::vector<RoundMetrics>> ParseHistory(std::string_view text) {
  std::vector<RoundMetrics> history;
  for (size_t line_number = 1; !text.empty(); ++line_number) {
    const size_t end = std::min(text.find('\n'), text.size());
    StatusOr<RoundMetrics> m = RoundMetricsFromJson(std::string(text.substr(0, end)));
    if (!m.ok()) {
      return DataLossError("history record " + std::to_string(line_number) + ": " +
                           m.status().message());
    }
    history.push_back(*std::move(m));
    text.remove_prefix(std::min(end + 1, text.size()));
  }
  return history;
}

// Splits the decoded tensors into the model and the strategy vectors.
Status SplitTensors(const Parameters& all, Checkpoint& c) {
  for (size_t i = 0; i < all.num_tensors(); ++i) {
    const TensorInfo& t = all.info(i);
    const std::string_view name = t.name;
    if (name.starts_with(kGlobalPrefix)) {
      c.global.Add(std::string(name.substr(kGlobalPrefix.size())), t.shape);
    } else if (name.starts_with(kStrategyPrefix) || name.starts_with(kClientsPrefix)) {
      if (t.shape.size() != 1) return DataLossError("tensor \"" + t.name + "\" is not 1-D");
      const bool strategy = name.starts_with(kStrategyPrefix);
      auto& vectors = strategy ? c.strategy.vectors : c.clients;
      const size_t prefix = strategy ? kStrategyPrefix.size() : kClientsPrefix.size();
      vectors[std::string(name.substr(prefix))].assign(all.data() + t.offset,
                                                       all.data() + t.offset + t.size);
    } else {
      return DataLossError("tensor \"" + t.name + "\" is neither global/, strategy/ nor clients/");
    }
  }
  if (c.global.num_tensors() == 0) return DataLossError("no global/ tensor (no model)");
  // Model tensors come first in the file, but accept any order: copy each by name.
  for (size_t i = 0; i < c.global.num_tensors(); ++i) {
    const TensorInfo& dst = c.global.info(i);
    const size_t src = *all.Find(std::string(kGlobalPrefix) + dst.name);
    std::copy_n(all.data() + all.info(src).offset, dst.size, c.global.data() + dst.offset);
  }
  return OkStatus();
}

// The safetensors reader stops at a NUL byte in the header's padding; a valid header holds
// none (JSON escapes it), so one is a flipped bit the checksum would not see.
Status CheckNoNulInHeader(const std::string& bytes) {
  uint64_t header_size = 0;
  if (bytes.size() < 8) return OkStatus();  // DecodeSafetensors reports it
  for (int i = 7; i >= 0; --i) header_size = header_size << 8 | static_cast<uint8_t>(bytes[i]);
  const std::string_view header = std::string_view(bytes).substr(8, header_size);
  if (header.find('\0') != std::string_view::npos) {
    return DataLossError("NUL byte in the safetensors header");
  }
  return OkStatus();
}

StatusOr<Checkpoint> Decode(const std::string& bytes) {
  FEDRA_RETURN_IF_ERROR(CheckNoNulInHeader(bytes));
  Metadata metadata;
  FEDRA_ASSIGN_OR_RETURN(const Parameters all, DecodeSafetensors(bytes, &metadata));
  FEDRA_ASSIGN_OR_RETURN(const std::string format, Require(metadata, kFormatKey));
  if (format != kFormat) {
    return DataLossError("format is \"" + format.substr(0, 40) + "\", expected \"" + kFormat +
                         "\"");
  }
  FEDRA_ASSIGN_OR_RETURN(const std::string checksum, Require(metadata, kChecksumKey));
  if (checksum != Checksum(all, metadata)) {
    return DataLossError("checksum mismatch: the file is corrupt");
  }
  Checkpoint c;
  FEDRA_ASSIGN_OR_RETURN(c.round, RequireNumber<int>(metadata, kRoundKey, 0));
  FEDRA_ASSIGN_OR_RETURN(c.seed, RequireNumber<uint64_t>(metadata, kSeedKey, 0));
  FEDRA_ASSIGN_OR_RETURN(c.run_id, Require(metadata, kRunIdKey));
  FEDRA_ASSIGN_OR_RETURN(c.fingerprint, Require(metadata, kFingerprintKey));
  FEDRA_ASSIGN_OR_RETURN(const std::string scalars, Require(metadata, kScalarsKey));
  FEDRA_ASSIGN_OR_RETURN(c.strategy.scalars, ParseScalars(scalars, kScalarsKey));
  if (auto it = metadata.find(kInfluenceKey); it != metadata.end()) {
    FEDRA_ASSIGN_OR_RETURN(c.influence, ParseScalars(it->second, kInfluenceKey));
  }
  FEDRA_ASSIGN_OR_RETURN(const std::string history, Require(metadata, kHistoryKey));
  FEDRA_ASSIGN_OR_RETURN(c.history, ParseHistory(history));
  FEDRA_RETURN_IF_ERROR(SplitTensors(all, c));
  return c;
}

}  // namespace

std::string CheckpointPath(const std::string& dir) { return dir + "/" + kFileName; }

Status SaveCheckpoint(const std::string& dir, const Checkpoint& checkpoint) {
  if (checkpoint.round < 0) {
    return InvalidArgumentError("checkpoint round is " + std::to_string(checkpoint.round) +
                                ", expected >= 0");
  }
  if (checkpoint.global.num_tensors() == 0) {
    return InvalidArgumentError("checkpoint has no global model (no tensor)");
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return internal::ErrnoError("cannot create checkpoint directory " + dir, ec.value());
  RemoveStaleTempFiles(dir);

  Metadata metadata = {
      {kFormatKey, kFormat},
      {kRoundKey, std::to_string(checkpoint.round)},
      {kSeedKey, std::to_string(checkpoint.seed)},
      {kRunIdKey, checkpoint.run_id},
      {kFingerprintKey, checkpoint.fingerprint},
      {kScalarsKey, ScalarsToJson(checkpoint.strategy.scalars)},
      {kHistoryKey, HistoryToJsonLines(checkpoint.history)},
  };
  if (!checkpoint.influence.empty()) {
    metadata[kInfluenceKey] = ScalarsToJson(checkpoint.influence);
  }
  Parameters tensors = PrefixedTensors(checkpoint);
  metadata[kChecksumKey] = Checksum(tensors, metadata);
  std::string bytes = EncodeSafetensors(tensors, metadata);
  tensors = Parameters();  // free one copy of the model before writing
  return internal::WriteFileAtomically(CheckpointPath(dir), bytes);
}

StatusOr<std::optional<Checkpoint>> LoadCheckpoint(const std::string& dir) {
  const std::string path = CheckpointPath(dir);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 && errno == ENOENT) return std::optional<Checkpoint>();
  FEDRA_ASSIGN_OR_RETURN(const std::string bytes, internal::ReadFile(path));
  StatusOr<Checkpoint> c = Decode(bytes);
  if (!c.ok()) return c.status().WithContext(path);
  return std::optional<Checkpoint>(*std::move(c));
}

std::string CheckpointFingerprint(const std::string& model_name, const Parameters& params,
                                  const std::string& strategy_name) {
  std::string s = "model " + model_name + ":";
  for (size_t i = 0; i < params.num_tensors(); ++i) {
    const TensorInfo& t = params.info(i);
    s += (i == 0 ? " " : ",") + t.name + ":[";
    for (size_t d = 0; d < t.shape.size(); ++d) {
      s += (d == 0 ? "" : ",") + std::to_string(t.shape[d]);
    }
    s += "]";
  }
  return s + "; strategy " + strategy_name;
}

}  // namespace fedra
