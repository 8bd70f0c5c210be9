#include "fedra/privacy/paillier/key_json.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>

#include <openssl/crypto.h>
#include <nlohmann/json.hpp>

#include "core/file_util.h"
#include "privacy/paillier/key_impl.h"

namespace fedra::paillier {
namespace {

using internal::Bn;
using Json = nlohmann::json;

StatusOr<Json> ParseObject(std::string_view text, std::string_view what) {
  Json j = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return DataLossError(std::string(what) + " is not valid JSON (truncated or corrupt?)");
  }
  if (!j.is_object()) return DataLossError(std::string(what) + " is not a JSON object");
  return j;
}

StatusOr<std::string> StringField(const Json& j, const char* field, std::string_view what) {
  auto it = j.find(field);
  if (it == j.end() || !it->is_string()) {
    return DataLossError(std::string(what) + " has no string field \"" + field + "\"");
  }
  return it->get<std::string>();
}

Status ExpectField(const Json& j, const char* field, std::string_view value,
                   std::string_view what) {
  FEDRA_ASSIGN_OR_RETURN(const std::string got, StringField(j, field, what));
  if (got != value) {
    return DataLossError(std::string(what) + ": \"" + field + "\" is \"" + got + "\" (expected \"" +
                         std::string(value) + "\")");
  }
  return OkStatus();
}

Status ExpectKeyOp(const Json& j, std::string_view op, std::string_view what) {
  auto it = j.find("key_ops");
  if (it != j.end() && it->is_array()) {
    for (const Json& e : *it) {
      if (e.is_string() && e.get<std::string>() == op) return OkStatus();
    }
  }
  return DataLossError(std::string(what) + ": \"key_ops\" does not list \"" + std::string(op) +
                       "\"");
}

StatusOr<Bn> IntField(const Json& j, const char* field, std::string_view what) {
  FEDRA_ASSIGN_OR_RETURN(const std::string text, StringField(j, field, what));
  return internal::FromBase64Url(text, std::string(what) + " field \"" + field + "\"");
}

Json PublicJson(const PublicKey& key) {
  const internal::PublicKeyImpl& k = key.impl();
  return Json{{"kty", "DAJ"},
              {"alg", "PAI-GN1"},
              {"key_ops", Json::array({"encrypt"})},
              {"n", internal::ToBase64Url(k.n.get())},
              {"kid", "fedra Paillier public key " + KeyIdHex(k.id)}};
}

StatusOr<PublicKey> PublicFromJson(const Json& j, const PublicKeyOptions& options) {
  constexpr std::string_view kWhat = "Paillier public key";
  FEDRA_RETURN_IF_ERROR(ExpectField(j, "kty", "DAJ", kWhat));
  FEDRA_RETURN_IF_ERROR(ExpectField(j, "alg", "PAI-GN1", kWhat));
  FEDRA_RETURN_IF_ERROR(ExpectKeyOp(j, "encrypt", kWhat));
  FEDRA_ASSIGN_OR_RETURN(Bn n, IntField(j, "n", kWhat));
  StatusOr<PublicKey> key = PublicKey::FromModulus(
      internal::ToBytes(n.get(), static_cast<size_t>(BN_num_bytes(n.get()))), options);
  if (!key.ok()) return DataLossError(std::string(kWhat) + ": " + key.status().message());
  return key;
}

// p, q from n and phi(n) = n - (p + q) + 1, as phe's PaillierPrivateKey.from_totient does.
StatusOr<std::pair<Bn, Bn>> PrimesFromTotient(const BIGNUM* n, const BIGNUM* phi, BN_CTX* ctx) {
  Bn s = internal::NewSecretBn();  // p + q
  FEDRA_CHECK(BN_sub(s.get(), n, phi) == 1);
  FEDRA_CHECK(BN_add_word(s.get(), 1) == 1);
  Bn disc = internal::NewSecretBn();  // (p + q)^2 - 4n = (q - p)^2
  Bn four_n = internal::NewBn();
  FEDRA_CHECK(BN_sqr(disc.get(), s.get(), ctx) == 1);
  FEDRA_CHECK(BN_lshift(four_n.get(), n, 2) == 1);
  FEDRA_CHECK(BN_sub(disc.get(), disc.get(), four_n.get()) == 1);
  if (BN_is_negative(disc.get())) {
    return InvalidArgumentError("Paillier secret key: lambda does not match n");
  }
  Bn d = internal::IntegerSqrt(disc.get(), ctx);
  Bn p = internal::NewSecretBn();
  Bn q = internal::NewSecretBn();
  FEDRA_CHECK(BN_sub(p.get(), s.get(), d.get()) == 1);
  FEDRA_CHECK(BN_rshift1(p.get(), p.get()) == 1);
  FEDRA_CHECK(BN_sub(q.get(), s.get(), p.get()) == 1);
  Bn check = internal::NewBn();
  FEDRA_CHECK(BN_mul(check.get(), p.get(), q.get(), ctx) == 1);
  if (BN_is_negative(p.get()) || BN_cmp(check.get(), n) != 0) {
    return InvalidArgumentError("Paillier secret key: lambda does not match n");
  }
  return std::make_pair(std::move(p), std::move(q));
}

BigBytes Bytes(const BIGNUM* b) {
  return internal::ToBytes(b, static_cast<size_t>(BN_num_bytes(b)));
}

}  // namespace

std::string PublicKeyToJwk(const PublicKey& key) { return PublicJson(key).dump(); }

StatusOr<PublicKey> PublicKeyFromJwk(std::string_view json, const PublicKeyOptions& options) {
  FEDRA_ASSIGN_OR_RETURN(const Json j, ParseObject(json, "Paillier public key"));
  return PublicFromJson(j, options);
}

std::string SecretKeyToJwk(const SecretKey& key) {
  const internal::SecretKeyImpl& s = key.impl();
  const internal::PublicKeyImpl& pub = key.public_key().impl();
  internal::BnCtx ctx = internal::NewCtx();
  Bn phi = internal::NewSecretBn();
  Bn mu = internal::NewSecretBn();
  FEDRA_CHECK(BN_mul(phi.get(), s.pm1.get(), s.qm1.get(), ctx.get()) == 1);
  FEDRA_CHECK(BN_mod_inverse(mu.get(), phi.get(), pub.n.get(), ctx.get()) != nullptr);
  Json j{{"kty", "DAJ"},
         {"alg", "PAI-GN1"},
         {"key_ops", Json::array({"decrypt"})},
         {"lambda", internal::ToBase64Url(phi.get())},
         {"mu", internal::ToBase64Url(mu.get())},
         {"p", internal::ToBase64Url(s.p.get())},
         {"q", internal::ToBase64Url(s.q.get())},
         {"pub", PublicJson(key.public_key())},
         {"kid", "fedra Paillier secret key " + KeyIdHex(pub.id)}};
  return j.dump();
}

StatusOr<SecretKey> SecretKeyFromJwk(std::string_view json, const PublicKeyOptions& options) {
  constexpr std::string_view kWhat = "Paillier secret key";
  FEDRA_ASSIGN_OR_RETURN(const Json j, ParseObject(json, kWhat));
  FEDRA_RETURN_IF_ERROR(ExpectField(j, "kty", "DAJ", kWhat));
  FEDRA_RETURN_IF_ERROR(ExpectKeyOp(j, "decrypt", kWhat));
  auto pub_it = j.find("pub");
  if (pub_it == j.end() || !pub_it->is_object()) {
    return DataLossError("Paillier secret key has no \"pub\" object (the public key)");
  }
  FEDRA_ASSIGN_OR_RETURN(Bn n, IntField(*pub_it, "n", "Paillier secret key's public key"));
  internal::BnCtx ctx = internal::NewCtx();
  Bn p, q;
  if (j.contains("p") || j.contains("q")) {
    FEDRA_ASSIGN_OR_RETURN(p, IntField(j, "p", kWhat));
    FEDRA_ASSIGN_OR_RETURN(q, IntField(j, "q", kWhat));
  } else {
    FEDRA_ASSIGN_OR_RETURN(Bn phi, IntField(j, "lambda", kWhat));
    FEDRA_ASSIGN_OR_RETURN(auto pq, PrimesFromTotient(n.get(), phi.get(), ctx.get()));
    p = std::move(pq.first);
    q = std::move(pq.second);
  }
  FEDRA_ASSIGN_OR_RETURN(SecretKey key,
                         SecretKey::FromPrimes(Bytes(p.get()), Bytes(q.get()), options));
  if (BN_cmp(key.public_key().impl().n.get(), n.get()) != 0) {
    return InvalidArgumentError("Paillier secret key: p * q does not equal the public key's n");
  }
  // Anything else given must agree too: a corrupt lambda or mu is reported, not ignored.
  const internal::SecretKeyImpl& s = key.impl();
  Bn phi = internal::NewSecretBn();
  FEDRA_CHECK(BN_mul(phi.get(), s.pm1.get(), s.qm1.get(), ctx.get()) == 1);
  if (j.contains("lambda")) {
    FEDRA_ASSIGN_OR_RETURN(Bn lambda, IntField(j, "lambda", kWhat));
    if (BN_cmp(lambda.get(), phi.get()) != 0) {
      return InvalidArgumentError("Paillier secret key: lambda is not (p-1)(q-1)");
    }
  }
  if (j.contains("mu")) {
    FEDRA_ASSIGN_OR_RETURN(Bn mu, IntField(j, "mu", kWhat));
    Bn prod = internal::NewSecretBn();
    FEDRA_CHECK(BN_mod_mul(prod.get(), mu.get(), phi.get(), n.get(), ctx.get()) == 1);
    if (!BN_is_one(prod.get())) {
      return InvalidArgumentError("Paillier secret key: mu is not lambda^-1 mod n");
    }
  }
  return key;
}

Status WritePublicKeyFile(const std::string& path, const PublicKey& key) {
  return fedra::internal::WriteFileAtomically(path, PublicKeyToJwk(key) + "\n");
}

StatusOr<PublicKey> ReadPublicKeyFile(const std::string& path, const PublicKeyOptions& options) {
  FEDRA_ASSIGN_OR_RETURN(const std::string text, fedra::internal::ReadFile(path));
  StatusOr<PublicKey> key = PublicKeyFromJwk(text, options);
  if (!key.ok()) return key.status().WithContext(path);
  return key;
}

Status WriteSecretKeyFile(const std::string& path, const SecretKey& key) {
  std::string text = SecretKeyToJwk(key) + "\n";
  Status st = fedra::internal::WriteFileAtomically(path, text, 0600);
  OPENSSL_cleanse(text.data(), text.size());
  return st;
}

StatusOr<SecretKey> ReadSecretKeyFile(const std::string& path, const PublicKeyOptions& options) {
  // Checked on the open descriptor, so the file read is the file checked.
  auto private_to_us = [&path](const struct stat& st) -> Status {
    if (st.st_uid != ::geteuid()) {
      return FailedPreconditionError("refusing to read a Paillier secret key owned by uid " +
                                     std::to_string(st.st_uid) + ", not by this user (uid " +
                                     std::to_string(::geteuid()) +
                                     "): whoever owns it can read or replace it");
    }
    if ((st.st_mode & 077) != 0) {
      char mode[8];
      std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(st.st_mode & 07777));
      return FailedPreconditionError(
          "refusing to read a Paillier secret key that group or others may access (mode " +
          std::string(mode) + "); run: chmod 600 " + path);
    }
    if (st.st_size > (1 << 20))
      return DataLossError("larger than 1 MiB, not a Paillier secret key");
    return OkStatus();
  };
  FEDRA_ASSIGN_OR_RETURN(std::string text, fedra::internal::ReadFile(path, private_to_us));
  StatusOr<SecretKey> key = SecretKeyFromJwk(text, options);
  OPENSSL_cleanse(text.data(), text.size());
  if (!key.ok()) return key.status().WithContext(path);
  return key;
}

}  // namespace fedra::paillier
