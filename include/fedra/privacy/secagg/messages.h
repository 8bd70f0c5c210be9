// The messages of the four SecAgg stages (Bonawitz et al. 2017, Fig. 4), as plain structs plus
// a strict byte encoding so any transport (in-process, gRPC) can carry them:
//
//   stage 0  client -> server  AdvertiseKeys    two X25519 public keys
//            server -> client  KeyDirectory     the keys of the client's advertised neighbours
//   stage 1  client -> server  ShareKeys        AES-GCM sealed Shamir shares, one per neighbour
//            server -> client  RelayedShares    the sealed shares addressed to the client
//   stage 2  client -> server  MaskedInput      y_u = x_u + PRG(b_u) + sum_v +-PRG(s_uv), tag
//            server -> client  UnmaskRequest    which neighbours survived, which dropped
//   stage 3  client -> server  UnmaskResponse   b-shares of survivors, s-shares of the dropped
//
// Encoding: "FS", version 2 (1 had no input tag), a type byte, then little-endian fields; vectors
// carry a uint32 count. Parse* accepts exactly what Serialize produces and returns DataLoss (naming
// the message and the problem) for anything else: wrong magic/type, truncation, counts larger than
// the remaining bytes, trailing bytes, unknown share kinds.
//
// Thread-safety: value types and free functions.
#ifndef FEDRA_PRIVACY_SECAGG_MESSAGES_H_
#define FEDRA_PRIVACY_SECAGG_MESSAGES_H_

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "fedra/core/status.h"
#include "fedra/privacy/secagg/crypto.h"
#include "fedra/privacy/secagg/shamir.h"

namespace fedra::secagg {

struct AdvertiseKeys {
  uint32_t sender = 0;
  PublicKey encryption_key{};  // c_u^PK: agreement for share encryption
  PublicKey mask_key{};        // s_u^PK: agreement for pairwise masks
  bool operator==(const AdvertiseKeys&) const = default;
};

struct KeyDirectory {
  uint32_t recipient = 0;
  std::vector<AdvertiseKeys> keys;  // the recipient's own entry and its neighbours'
  bool operator==(const KeyDirectory&) const = default;
};

// A sealed share; `peer` is the receiver in ShareKeys and the sender in RelayedShares.
struct SealedShare {
  uint32_t peer = 0;
  std::vector<uint8_t> ciphertext;
  bool operator==(const SealedShare&) const = default;
};

struct ShareKeys {
  uint32_t sender = 0;
  std::vector<SealedShare> shares;
  bool operator==(const ShareKeys&) const = default;
};

struct RelayedShares {
  uint32_t recipient = 0;
  std::vector<SealedShare> shares;
  bool operator==(const RelayedShares&) const = default;
};

// `tag` binds the input to its sender and round under the sender's self-mask seed b_u
// (HKDF-SHA256 keyed by b_u over the round, the sender and SHA-256 of the words); the server
// checks it once it has reconstructed b_u, so an altered or replayed input aborts the round
// instead of unmasking to garbage.
inline constexpr size_t kInputTagBytes = 32;
struct MaskedInput {
  uint32_t sender = 0;
  std::vector<uint32_t> masked;  // in Z_2^32
  std::array<uint8_t, kInputTagBytes> tag{};
  bool operator==(const MaskedInput&) const = default;
};

struct UnmaskRequest {
  uint32_t recipient = 0;
  std::vector<uint32_t> survivors;  // neighbours (and the recipient) whose input is in the sum
  std::vector<uint32_t> dropped;    // neighbours that shared keys but sent no masked input
  bool operator==(const UnmaskRequest&) const = default;
};

enum class ShareKind : uint8_t {
  kSelfMaskSeed = 1,  // a share of b_u: revealed only for survivors
  kMaskKey = 2,       // a share of s_u^SK: revealed only for dropped clients
};

struct RevealedShare {
  uint32_t owner = 0;  // whose secret this is a share of
  ShareKind kind = ShareKind::kSelfMaskSeed;
  std::array<uint64_t, kShamirChunks> y{};
  bool operator==(const RevealedShare&) const = default;
};

struct UnmaskResponse {
  uint32_t sender = 0;
  std::vector<RevealedShare> shares;
  bool operator==(const UnmaskResponse&) const = default;
};

std::vector<uint8_t> Serialize(const AdvertiseKeys& m);
std::vector<uint8_t> Serialize(const KeyDirectory& m);
std::vector<uint8_t> Serialize(const ShareKeys& m);
std::vector<uint8_t> Serialize(const RelayedShares& m);
std::vector<uint8_t> Serialize(const MaskedInput& m);
std::vector<uint8_t> Serialize(const UnmaskRequest& m);
std::vector<uint8_t> Serialize(const UnmaskResponse& m);

StatusOr<AdvertiseKeys> ParseAdvertiseKeys(std::span<const uint8_t> bytes);
StatusOr<KeyDirectory> ParseKeyDirectory(std::span<const uint8_t> bytes);
StatusOr<ShareKeys> ParseShareKeys(std::span<const uint8_t> bytes);
StatusOr<RelayedShares> ParseRelayedShares(std::span<const uint8_t> bytes);
StatusOr<MaskedInput> ParseMaskedInput(std::span<const uint8_t> bytes);
StatusOr<UnmaskRequest> ParseUnmaskRequest(std::span<const uint8_t> bytes);
StatusOr<UnmaskResponse> ParseUnmaskResponse(std::span<const uint8_t> bytes);

}  // namespace fedra::secagg

#endif  // FEDRA_PRIVACY_SECAGG_MESSAGES_H_
