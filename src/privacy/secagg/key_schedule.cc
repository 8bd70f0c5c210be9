#include "privacy/secagg/key_schedule.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <string>

namespace fedra::secagg::internal {
namespace {

constexpr char kSalt[] = "fedra-secagg-v1";

void PutU32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
void PutU64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
uint32_t GetU32(const uint8_t* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= uint32_t{p[i]} << (8 * i);
  return v;
}
uint64_t GetU64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t{p[i]} << (8 * i);
  return v;
}

}  // namespace

StatusOr<Key256> DeriveKey(const Key256& shared_secret, KeyPurpose purpose, uint64_t round,
                           uint32_t a, uint32_t b) {
  std::array<uint8_t, 17> info{};
  info[0] = static_cast<uint8_t>(purpose);
  PutU64(&info[1], round);
  PutU32(&info[9], std::min(a, b));
  PutU32(&info[13], std::max(a, b));
  const auto* salt = reinterpret_cast<const uint8_t*>(kSalt);
  return HkdfSha256(shared_secret, std::span<const uint8_t>(salt, sizeof(kSalt) - 1), info);
}

StatusOr<Key256> PairwiseMaskKey(const X25519Agreement& own, uint32_t own_id,
                                 const PublicKey& peer_key, uint32_t peer_id, uint64_t round) {
  auto shared = own.Agree(peer_key);
  if (!shared.ok())
    return shared.status().WithContext("mask key agreement of clients " + std::to_string(own_id) +
                                       " and " + std::to_string(peer_id));
  auto key = DeriveKey(*shared, KeyPurpose::kPairwiseMask, round, own_id, peer_id);
  OPENSSL_cleanse(shared->data(), shared->size());
  return key;
}

StatusOr<InputDigest> DigestInput(std::span<const uint32_t> words) {
  static_assert(std::endian::native == std::endian::little, "words are hashed as stored");
  InputDigest out{};
  unsigned int len = 0;
  if (EVP_Digest(words.data(), words.size_bytes(), out.data(), &len, EVP_sha256(), nullptr) != 1 ||
      len != out.size())
    return InternalError("SHA-256 of a masked input failed");
  return out;
}

StatusOr<std::array<uint8_t, 32>> InputTag(const Key256& seed, uint64_t round, uint32_t sender,
                                           const InputDigest& digest) {
  std::array<uint8_t, 1 + 8 + 4 + 32> info{};
  info[0] = static_cast<uint8_t>(KeyPurpose::kInputTag);
  PutU64(&info[1], round);
  PutU32(&info[9], sender);
  std::memcpy(&info[13], digest.data(), digest.size());
  const auto* salt = reinterpret_cast<const uint8_t*>(kSalt);
  return HkdfSha256(seed, std::span<const uint8_t>(salt, sizeof(kSalt) - 1), info);
}

std::array<uint8_t, 32> ShareAssociatedData(uint64_t round, uint32_t sender, uint32_t receiver) {
  std::array<uint8_t, 32> ad{};
  std::memcpy(ad.data(), "fedra-secagg-v1/", 16);  // 16-byte label, then the context
  PutU64(&ad[16], round);
  PutU32(&ad[24], sender);
  PutU32(&ad[28], receiver);
  return ad;
}

std::vector<uint8_t> EncodeSharePayload(const SharePayload& p) {
  std::vector<uint8_t> out(kSharePlaintextBytes);
  PutU32(&out[0], p.sender);
  PutU32(&out[4], p.receiver);
  for (size_t c = 0; c < kShamirChunks; ++c) {
    PutU64(&out[8 + 8 * c], p.mask_key_share[c]);
    PutU64(&out[8 + 8 * (kShamirChunks + c)], p.seed_share[c]);
  }
  return out;
}

StatusOr<SharePayload> DecodeSharePayload(std::span<const uint8_t> bytes) {
  if (bytes.size() != kSharePlaintextBytes)
    return DataLossError("share payload has " + std::to_string(bytes.size()) + " bytes, expected " +
                         std::to_string(kSharePlaintextBytes));
  SharePayload p;
  p.sender = GetU32(&bytes[0]);
  p.receiver = GetU32(&bytes[4]);
  for (size_t c = 0; c < kShamirChunks; ++c) {
    p.mask_key_share[c] = GetU64(&bytes[8 + 8 * c]);
    p.seed_share[c] = GetU64(&bytes[8 + 8 * (kShamirChunks + c)]);
    if (p.mask_key_share[c] >= kShamirPrime || p.seed_share[c] >= kShamirPrime)
      return DataLossError("share payload holds a value outside the field");
  }
  return p;
}

}  // namespace fedra::secagg::internal
