// Cryptographic primitives of secure aggregation, over OpenSSL 3 EVP: X25519 key pairs and
// agreement, HKDF-SHA256, and AES-256-GCM for the share messages clients exchange through the
// server. Every function reports OpenSSL failures and bad input as a Status; none aborts.
//
// Secret material lives in plain std::array values; callers that keep secrets for long should
// wipe them (OPENSSL_cleanse) when done, as SecAggClient does.
//
// Thread-safety: free functions on value types; safe from any number of threads.
#ifndef FEDRA_PRIVACY_SECAGG_CRYPTO_H_
#define FEDRA_PRIVACY_SECAGG_CRYPTO_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "fedra/core/status.h"

namespace fedra::secagg {

// A 256-bit secret or key, and an X25519 public key.
using Key256 = std::array<uint8_t, 32>;
using PublicKey = std::array<uint8_t, 32>;

struct X25519KeyPair {
  Key256 private_key{};
  PublicKey public_key{};
};

// The key pair whose private scalar is `private_key` (clamped by X25519 itself).
StatusOr<X25519KeyPair> X25519FromPrivate(const Key256& private_key);
// The 32-byte X25519 shared secret of `own.private_key` and `peer`. Fails (InvalidArgument)
// for a peer key of small order, which would make the secret predictable.
StatusOr<Key256> X25519Agree(const Key256& private_key, const PublicKey& peer);

// One private key agreeing with many peers: keeps the parsed key so each agreement costs one
// scalar multiplication (X25519Agree re-derives the public key every call).
// Thread-safety: Agree() is const and may run concurrently.
class X25519Agreement {
 public:
  static StatusOr<X25519Agreement> Create(const Key256& private_key);
  ~X25519Agreement();
  X25519Agreement(X25519Agreement&& other) noexcept;
  X25519Agreement& operator=(X25519Agreement&& other) noexcept;
  X25519Agreement(const X25519Agreement&) = delete;
  X25519Agreement& operator=(const X25519Agreement&) = delete;

  const PublicKey& public_key() const { return public_key_; }
  // As X25519Agree(private_key, peer).
  StatusOr<Key256> Agree(const PublicKey& peer) const;

 private:
  X25519Agreement() = default;
  void* pkey_ = nullptr;  // EVP_PKEY*, kept opaque so OpenSSL headers stay out of ours
  PublicKey public_key_{};
};

// HKDF-SHA256(salt, ikm, info) -> 32 bytes (RFC 5869).
StatusOr<Key256> HkdfSha256(std::span<const uint8_t> ikm, std::span<const uint8_t> salt,
                            std::span<const uint8_t> info);

// AES-256-GCM with a 12-byte nonce chosen by the caller (unique per key) and a 16-byte tag.
// The sealed form is nonce || ciphertext || tag.
inline constexpr size_t kGcmNonceBytes = 12;
inline constexpr size_t kGcmTagBytes = 16;
inline constexpr size_t kGcmOverhead = kGcmNonceBytes + kGcmTagBytes;

StatusOr<std::vector<uint8_t>> AeadSeal(const Key256& key,
                                        std::span<const uint8_t, kGcmNonceBytes> nonce,
                                        std::span<const uint8_t> plaintext,
                                        std::span<const uint8_t> associated_data);
// Returns the plaintext, or DataLoss when `sealed` is truncated or fails authentication
// (wrong key, tampered bytes, or different associated data).
StatusOr<std::vector<uint8_t>> AeadOpen(const Key256& key, std::span<const uint8_t> sealed,
                                        std::span<const uint8_t> associated_data);

// Fills `out` from OpenSSL's private CSPRNG (RAND_priv_bytes); Internal error if it fails.
Status SystemRandomBytes(std::span<uint8_t> out);

}  // namespace fedra::secagg

#endif  // FEDRA_PRIVACY_SECAGG_CRYPTO_H_
