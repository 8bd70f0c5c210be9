#include "fedra/privacy/secagg/messages.h"

#include <cstring>
#include <string>

namespace fedra::secagg {
namespace {

enum class Type : uint8_t {
  kAdvertiseKeys = 1,
  kKeyDirectory,
  kShareKeys,
  kRelayedShares,
  kMaskedInput,
  kUnmaskRequest,
  kUnmaskResponse,
};
constexpr uint8_t kMagic0 = 'F', kMagic1 = 'S', kVersion = 2;

class Writer {
 public:
  explicit Writer(Type type) { out_ = {kMagic0, kMagic1, kVersion, static_cast<uint8_t>(type)}; }
  void U8(uint8_t v) { out_.push_back(v); }
  void U32(uint32_t v) {
    for (int i = 0; i < 4; ++i) out_.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  void U64(uint64_t v) {
    for (int i = 0; i < 8; ++i) out_.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  void Bytes(std::span<const uint8_t> b) { out_.insert(out_.end(), b.begin(), b.end()); }
  void Count(size_t n) { U32(static_cast<uint32_t>(n)); }
  void Reserve(size_t n) { out_.reserve(out_.size() + n); }
  std::vector<uint8_t> Take() { return std::move(out_); }

 private:
  std::vector<uint8_t> out_;
};

// Reads fields in order; the first failure sticks and every later read returns zeros, so parse
// functions check ok() once at the end (and before trusting a count).
class Reader {
 public:
  Reader(std::span<const uint8_t> in, Type type, const char* name) : in_(in), name_(name) {
    if (in.size() < 4 || in[0] != kMagic0 || in[1] != kMagic1)
      Fail("not a secagg message (bad magic)");
    else if (in[2] != kVersion)
      Fail("unsupported version " + std::to_string(in[2]) + ", expected " +
           std::to_string(kVersion));
    else if (in[3] != static_cast<uint8_t>(type))
      Fail("wrong message type " + std::to_string(in[3]) + ", expected " +
           std::to_string(static_cast<int>(type)));
    pos_ = 4;
  }
  uint8_t U8() { return Need(1) ? in_[pos_++] : 0; }
  uint32_t U32() {
    if (!Need(4)) return 0;
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= uint32_t{in_[pos_ + i]} << (8 * i);
    pos_ += 4;
    return v;
  }
  uint64_t U64() {
    if (!Need(8)) return 0;
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= uint64_t{in_[pos_ + i]} << (8 * i);
    pos_ += 8;
    return v;
  }
  void Bytes(std::span<uint8_t> out) {
    if (out.empty() || !Need(out.size())) return;  // memcpy must not see a null pointer
    std::memcpy(out.data(), in_.data() + pos_, out.size());
    pos_ += out.size();
  }
  // A count of elements of at least `min_bytes` each; fails if they cannot all fit.
  size_t Count(size_t min_bytes) {
    const uint32_t n = U32();
    if (ok() && static_cast<uint64_t>(n) * min_bytes > in_.size() - pos_) {
      Fail("count " + std::to_string(n) + " exceeds the remaining " +
           std::to_string(in_.size() - pos_) + " bytes");
      return 0;
    }
    return ok() ? n : 0;
  }
  bool ok() const { return error_.empty(); }
  Status Finish() {
    if (ok() && pos_ != in_.size()) Fail(std::to_string(in_.size() - pos_) + " trailing bytes");
    if (ok()) return OkStatus();
    return DataLossError(std::string("malformed ") + name_ + ": " + error_);
  }
  void Fail(std::string why) {
    if (ok()) error_ = std::move(why);
  }

 private:
  bool Need(size_t n) {
    if (!ok()) return false;
    if (in_.size() - pos_ < n) {
      Fail("truncated at byte " + std::to_string(pos_));
      return false;
    }
    return true;
  }
  std::span<const uint8_t> in_;
  const char* name_;
  size_t pos_ = 0;
  std::string error_;
};

constexpr size_t kKeysBytes = 4 + 32 + 32;

void WriteKeys(Writer& w, const AdvertiseKeys& m) {
  w.U32(m.sender);
  w.Bytes(m.encryption_key);
  w.Bytes(m.mask_key);
}
AdvertiseKeys ReadKeys(Reader& r) {
  AdvertiseKeys m;
  m.sender = r.U32();
  r.Bytes(m.encryption_key);
  r.Bytes(m.mask_key);
  return m;
}

void WriteSealed(Writer& w, const std::vector<SealedShare>& shares) {
  w.Count(shares.size());
  for (const auto& s : shares) {
    w.U32(s.peer);
    w.Count(s.ciphertext.size());
    w.Bytes(s.ciphertext);
  }
}
std::vector<SealedShare> ReadSealed(Reader& r) {
  std::vector<SealedShare> out(r.Count(8));
  for (auto& s : out) {
    s.peer = r.U32();
    s.ciphertext.resize(r.Count(1));
    r.Bytes(s.ciphertext);
  }
  return out;
}

void WriteIds(Writer& w, const std::vector<uint32_t>& ids) {
  w.Count(ids.size());
  for (uint32_t v : ids) w.U32(v);
}
std::vector<uint32_t> ReadIds(Reader& r) {
  std::vector<uint32_t> out(r.Count(4));
  for (auto& v : out) v = r.U32();
  return out;
}

template <typename T>
StatusOr<T> Done(Reader& r, T value) {
  FEDRA_RETURN_IF_ERROR(r.Finish());
  return value;
}

}  // namespace

std::vector<uint8_t> Serialize(const AdvertiseKeys& m) {
  Writer w(Type::kAdvertiseKeys);
  WriteKeys(w, m);
  return w.Take();
}
StatusOr<AdvertiseKeys> ParseAdvertiseKeys(std::span<const uint8_t> bytes) {
  Reader r(bytes, Type::kAdvertiseKeys, "AdvertiseKeys");
  AdvertiseKeys m = ReadKeys(r);
  return Done(r, std::move(m));
}

std::vector<uint8_t> Serialize(const KeyDirectory& m) {
  Writer w(Type::kKeyDirectory);
  w.Reserve(8 + m.keys.size() * kKeysBytes);
  w.U32(m.recipient);
  w.Count(m.keys.size());
  for (const auto& k : m.keys) WriteKeys(w, k);
  return w.Take();
}
StatusOr<KeyDirectory> ParseKeyDirectory(std::span<const uint8_t> bytes) {
  Reader r(bytes, Type::kKeyDirectory, "KeyDirectory");
  KeyDirectory m;
  m.recipient = r.U32();
  m.keys.resize(r.Count(kKeysBytes));
  for (auto& k : m.keys) k = ReadKeys(r);
  return Done(r, std::move(m));
}

std::vector<uint8_t> Serialize(const ShareKeys& m) {
  Writer w(Type::kShareKeys);
  w.U32(m.sender);
  WriteSealed(w, m.shares);
  return w.Take();
}
StatusOr<ShareKeys> ParseShareKeys(std::span<const uint8_t> bytes) {
  Reader r(bytes, Type::kShareKeys, "ShareKeys");
  ShareKeys m;
  m.sender = r.U32();
  m.shares = ReadSealed(r);
  return Done(r, std::move(m));
}

std::vector<uint8_t> Serialize(const RelayedShares& m) {
  Writer w(Type::kRelayedShares);
  w.U32(m.recipient);
  WriteSealed(w, m.shares);
  return w.Take();
}
StatusOr<RelayedShares> ParseRelayedShares(std::span<const uint8_t> bytes) {
  Reader r(bytes, Type::kRelayedShares, "RelayedShares");
  RelayedShares m;
  m.recipient = r.U32();
  m.shares = ReadSealed(r);
  return Done(r, std::move(m));
}

std::vector<uint8_t> Serialize(const MaskedInput& m) {
  Writer w(Type::kMaskedInput);
  w.Reserve(8 + kInputTagBytes + 4 * m.masked.size());
  w.U32(m.sender);
  w.Bytes(m.tag);
  WriteIds(w, m.masked);
  return w.Take();
}
StatusOr<MaskedInput> ParseMaskedInput(std::span<const uint8_t> bytes) {
  Reader r(bytes, Type::kMaskedInput, "MaskedInput");
  MaskedInput m;
  m.sender = r.U32();
  r.Bytes(m.tag);
  m.masked = ReadIds(r);
  return Done(r, std::move(m));
}

std::vector<uint8_t> Serialize(const UnmaskRequest& m) {
  Writer w(Type::kUnmaskRequest);
  w.U32(m.recipient);
  WriteIds(w, m.survivors);
  WriteIds(w, m.dropped);
  return w.Take();
}
StatusOr<UnmaskRequest> ParseUnmaskRequest(std::span<const uint8_t> bytes) {
  Reader r(bytes, Type::kUnmaskRequest, "UnmaskRequest");
  UnmaskRequest m;
  m.recipient = r.U32();
  m.survivors = ReadIds(r);
  m.dropped = ReadIds(r);
  return Done(r, std::move(m));
}

std::vector<uint8_t> Serialize(const UnmaskResponse& m) {
  Writer w(Type::kUnmaskResponse);
  w.U32(m.sender);
  w.Count(m.shares.size());
  for (const auto& s : m.shares) {
    w.U32(s.owner);
    w.U8(static_cast<uint8_t>(s.kind));
    for (uint64_t y : s.y) w.U64(y);
  }
  return w.Take();
}
StatusOr<UnmaskResponse> ParseUnmaskResponse(std::span<const uint8_t> bytes) {
  Reader r(bytes, Type::kUnmaskResponse, "UnmaskResponse");
  UnmaskResponse m;
  m.sender = r.U32();
  m.shares.resize(r.Count(5 + 8 * kShamirChunks));
  for (auto& s : m.shares) {
    s.owner = r.U32();
    const uint8_t kind = r.U8();
    if (kind != static_cast<uint8_t>(ShareKind::kSelfMaskSeed) &&
        kind != static_cast<uint8_t>(ShareKind::kMaskKey))
      r.Fail("unknown share kind " + std::to_string(kind));
    s.kind = static_cast<ShareKind>(kind);
    for (auto& y : s.y) {
      y = r.U64();
      if (y >= kShamirPrime) r.Fail("share value outside the field");
    }
  }
  return Done(r, std::move(m));
}

}  // namespace fedra::secagg
