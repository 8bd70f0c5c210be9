// Private to secagg: how client and server derive the same keys and bind the same contexts.
// Every derivation mixes in the round and both client ids (smaller id first), so keys from
// one round or pair are useless in another.
#ifndef FEDRA_SRC_PRIVACY_SECAGG_KEY_SCHEDULE_H_
#define FEDRA_SRC_PRIVACY_SECAGG_KEY_SCHEDULE_H_

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "fedra/core/status.h"
#include "fedra/privacy/secagg/crypto.h"
#include "fedra/privacy/secagg/shamir.h"

namespace fedra::secagg::internal {

enum class KeyPurpose : uint8_t { kShareEncryption = 1, kPairwiseMask = 2, kInputTag = 3 };

// HKDF-SHA256(ikm = X25519 secret, salt = "fedra-secagg-v1", info = purpose|round|min|max).
StatusOr<Key256> DeriveKey(const Key256& shared_secret, KeyPurpose purpose, uint64_t round,
                           uint32_t a, uint32_t b);

// The pairwise mask key s_uv from u's mask agreement and v's mask public key.
StatusOr<Key256> PairwiseMaskKey(const X25519Agreement& own, uint32_t own_id,
                                 const PublicKey& peer_key, uint32_t peer_id, uint64_t round);

// Client `self` adds PRG(s_uv) to its input when self < peer and subtracts it otherwise, so
// the pair's masks cancel in the sum.
inline int MaskSign(uint32_t self, uint32_t peer) { return self < peer ? +1 : -1; }

// SHA-256 of a masked input's words (little-endian), so the server keeps 32 bytes per client
// until it can check the tag.
using InputDigest = std::array<uint8_t, 32>;
StatusOr<InputDigest> DigestInput(std::span<const uint32_t> words);

// The tag of a masked input: HKDF-SHA256(ikm = the sender's self-mask seed b_u, salt,
// info = kInputTag|round|sender|digest). Only b_u's holder could make it before unmasking, and
// b_u is fresh every round, so an input from another round or with any word changed fails.
StatusOr<std::array<uint8_t, 32>> InputTag(const Key256& seed, uint64_t round, uint32_t sender,
                                           const InputDigest& digest);

// AES-GCM associated data for a share sent from `sender` to `receiver` in `round`.
std::array<uint8_t, 32> ShareAssociatedData(uint64_t round, uint32_t sender, uint32_t receiver);

// The plaintext inside a sealed share: sender, receiver, the s_u^SK share and the b_u share.
inline constexpr size_t kSharePlaintextBytes = 8 + 2 * 8 * kShamirChunks;
inline constexpr size_t kSealedShareBytes = kSharePlaintextBytes + kGcmOverhead;

struct SharePayload {
  uint32_t sender = 0;
  uint32_t receiver = 0;
  std::array<uint64_t, kShamirChunks> mask_key_share{};
  std::array<uint64_t, kShamirChunks> seed_share{};
};
std::vector<uint8_t> EncodeSharePayload(const SharePayload& p);
StatusOr<SharePayload> DecodeSharePayload(std::span<const uint8_t> bytes);

}  // namespace fedra::secagg::internal

#endif  // FEDRA_SRC_PRIVACY_SECAGG_KEY_SCHEDULE_H_
