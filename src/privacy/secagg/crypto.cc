#include "fedra/privacy/secagg/crypto.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include <memory>
#include <string>
#include <utility>

namespace fedra::secagg {
namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* p) const { EVP_CIPHER_CTX_free(p); }
};
struct KdfCtxFree {
  void operator()(EVP_KDF_CTX* p) const { EVP_KDF_CTX_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;
using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;
using KdfCtxPtr = std::unique_ptr<EVP_KDF_CTX, KdfCtxFree>;

// The OpenSSL error queue as text (and cleared), for Status messages.
std::string OpenSslError(std::string_view what) {
  std::string msg(what);
  unsigned long e = ERR_get_error();
  if (e != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    msg += " (";
    msg += buf;
    msg += ")";
  }
  ERR_clear_error();
  return msg;
}

// Fetched once: implicit fetches on every call cost more than a small HKDF.
EVP_KDF* HkdfAlgorithm() {
  static EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  return kdf;
}
const EVP_CIPHER* GcmCipher() {
  static EVP_CIPHER* cipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  return cipher;
}

}  // namespace

StatusOr<X25519KeyPair> X25519FromPrivate(const Key256& private_key) {
  PkeyPtr key(EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, private_key.data(),
                                           private_key.size()));
  if (!key) return InternalError(OpenSslError("X25519 private key rejected by OpenSSL"));
  X25519KeyPair pair;
  pair.private_key = private_key;
  size_t len = pair.public_key.size();
  if (EVP_PKEY_get_raw_public_key(key.get(), pair.public_key.data(), &len) != 1 ||
      len != pair.public_key.size())
    return InternalError(OpenSslError("cannot read X25519 public key"));
  return pair;
}

namespace {

StatusOr<Key256> Derive(EVP_PKEY* own, const PublicKey& peer) {
  PkeyPtr other(EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr, peer.data(), peer.size()));
  if (!own || !other) return InvalidArgumentError(OpenSslError("malformed X25519 key"));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new(own, nullptr));
  Key256 secret{};
  size_t len = secret.size();
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 ||
      EVP_PKEY_derive_set_peer(ctx.get(), other.get()) != 1 ||
      EVP_PKEY_derive(ctx.get(), secret.data(), &len) != 1 || len != secret.size())
    return InvalidArgumentError(
        OpenSslError("X25519 agreement failed (peer public key of small order?)"));
  uint8_t any = 0;
  for (uint8_t b : secret) any |= b;
  if (any == 0) return InvalidArgumentError("X25519 agreement gave the all-zero secret");
  return secret;
}

}  // namespace

StatusOr<Key256> X25519Agree(const Key256& private_key, const PublicKey& peer) {
  PkeyPtr own(EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, private_key.data(),
                                           private_key.size()));
  if (!own) return InternalError(OpenSslError("X25519 private key rejected by OpenSSL"));
  return Derive(own.get(), peer);
}

StatusOr<X25519Agreement> X25519Agreement::Create(const Key256& private_key) {
  PkeyPtr key(EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, private_key.data(),
                                           private_key.size()));
  if (!key) return InternalError(OpenSslError("X25519 private key rejected by OpenSSL"));
  X25519Agreement out;
  size_t len = out.public_key_.size();
  if (EVP_PKEY_get_raw_public_key(key.get(), out.public_key_.data(), &len) != 1)
    return InternalError(OpenSslError("cannot read X25519 public key"));
  out.pkey_ = key.release();
  return out;
}

X25519Agreement::~X25519Agreement() { EVP_PKEY_free(static_cast<EVP_PKEY*>(pkey_)); }
X25519Agreement::X25519Agreement(X25519Agreement&& other) noexcept
    : pkey_(std::exchange(other.pkey_, nullptr)), public_key_(other.public_key_) {}
X25519Agreement& X25519Agreement::operator=(X25519Agreement&& other) noexcept {
  if (this != &other) {
    EVP_PKEY_free(static_cast<EVP_PKEY*>(pkey_));
    pkey_ = std::exchange(other.pkey_, nullptr);
    public_key_ = other.public_key_;
  }
  return *this;
}

StatusOr<Key256> X25519Agreement::Agree(const PublicKey& peer) const {
  return Derive(static_cast<EVP_PKEY*>(pkey_), peer);
}

StatusOr<Key256> HkdfSha256(std::span<const uint8_t> ikm, std::span<const uint8_t> salt,
                            std::span<const uint8_t> info) {
  EVP_KDF* kdf = HkdfAlgorithm();
  if (kdf == nullptr) return InternalError(OpenSslError("HKDF unavailable"));
  KdfCtxPtr ctx(EVP_KDF_CTX_new(kdf));
  if (!ctx) return InternalError(OpenSslError("EVP_KDF_CTX_new"));
  char digest[] = "SHA256";
  // OSSL_PARAM wants non-const pointers; OpenSSL only reads these buffers.
  auto* ikm_p = const_cast<uint8_t*>(ikm.data());
  auto* salt_p = const_cast<uint8_t*>(salt.data());
  auto* info_p = const_cast<uint8_t*>(info.data());
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, ikm_p, ikm.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, salt_p, salt.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info_p, info.size()),
      OSSL_PARAM_construct_end()};
  Key256 out{};
  if (EVP_KDF_derive(ctx.get(), out.data(), out.size(), params) != 1)
    return InternalError(OpenSslError("HKDF-SHA256 failed"));
  return out;
}

StatusOr<std::vector<uint8_t>> AeadSeal(const Key256& key,
                                        std::span<const uint8_t, kGcmNonceBytes> nonce,
                                        std::span<const uint8_t> plaintext,
                                        std::span<const uint8_t> associated_data) {
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  std::vector<uint8_t> out(kGcmNonceBytes + plaintext.size() + kGcmTagBytes);
  std::copy(nonce.begin(), nonce.end(), out.begin());
  int len = 0;
  uint8_t* body = out.data() + kGcmNonceBytes;
  if (!ctx || GcmCipher() == nullptr ||
      EVP_EncryptInit_ex2(ctx.get(), GcmCipher(), key.data(), nonce.data(), nullptr) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, associated_data.data(),
                        static_cast<int>(associated_data.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), body, &len, plaintext.data(),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), body + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_GET_TAG, kGcmTagBytes,
                          body + plaintext.size()) != 1)
    return InternalError(OpenSslError("AES-256-GCM encryption failed"));
  return out;
}

StatusOr<std::vector<uint8_t>> AeadOpen(const Key256& key, std::span<const uint8_t> sealed,
                                        std::span<const uint8_t> associated_data) {
  if (sealed.size() < kGcmOverhead)
    return DataLossError("sealed message of " + std::to_string(sealed.size()) +
                         " bytes is shorter than nonce + tag (" + std::to_string(kGcmOverhead) +
                         ")");
  const size_t body_len = sealed.size() - kGcmOverhead;
  const uint8_t* body = sealed.data() + kGcmNonceBytes;
  std::vector<uint8_t> out(body_len);
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  if (!ctx || GcmCipher() == nullptr ||
      EVP_DecryptInit_ex2(ctx.get(), GcmCipher(), key.data(), sealed.data(), nullptr) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, associated_data.data(),
                        static_cast<int>(associated_data.size())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), out.data(), &len, body, static_cast<int>(body_len)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_TAG, kGcmTagBytes,
                          const_cast<uint8_t*>(body + body_len)) != 1)
    return InternalError(OpenSslError("AES-256-GCM decryption setup failed"));
  if (EVP_DecryptFinal_ex(ctx.get(), out.data() + len, &len) != 1) {
    ERR_clear_error();
    return DataLossError("ciphertext failed authentication (tampered, wrong key or wrong context)");
  }
  return out;
}

Status SystemRandomBytes(std::span<uint8_t> out) {
  if (out.empty()) return OkStatus();
  if (RAND_priv_bytes(out.data(), static_cast<int>(out.size())) != 1)
    return InternalError(OpenSslError("RAND_priv_bytes failed"));
  return OkStatus();
}

}  // namespace fedra::secagg
