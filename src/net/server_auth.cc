#include "net/server_auth.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>
#include <set>
#include <sstream>

#include "core/file_util.h"

namespace fedra::net {
namespace {

grpc::Status Unauthenticated(const std::string& why) {
  return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, why);
}

}  // namespace

bool ValidClientName(const std::string& name) {
  if (name.empty() || name.size() > 128) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

ClientId IdForName(const std::string& name) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(name.data()), name.size(), digest);
  uint64_t id = 0;
  for (int i = 0; i < 8; ++i) id = (id << 8) | digest[i];
  id &= 0x7fffffffffffffffULL;
  return id == 0 ? 1 : id;
}

StatusOr<std::vector<std::pair<std::string, std::string>>> LoadTokens(const std::string& path) {
  FEDRA_ASSIGN_OR_RETURN(std::string text, internal::ReadFile(path));
  std::vector<std::pair<std::string, std::string>> out;
  std::istringstream in(text);
  std::string line;
  std::set<std::string> names, tokens;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string name, token, extra;
    fields >> name >> token;
    const std::string where = path + ":" + std::to_string(n) + ": ";
    if (fields >> extra || !ValidClientName(name) || token.size() < 16) {
      return InvalidArgumentError(where + "expected '<client name> <token of 16+ characters>'");
    }
    if (!names.insert(name).second) return InvalidArgumentError(where + "duplicate name " + name);
    if (!tokens.insert(token).second) return InvalidArgumentError(where + "duplicate token");
    out.emplace_back(name, token);
  }
  if (out.empty()) return InvalidArgumentError(path + ": no tokens");
  return out;
}

grpc::Status ClientAuthenticator::Identify(const CallerCredentials& caller,
                                           std::string* name) const {
  std::string cert_name, token_name;
  if (mtls_) {
    if (!caller.certificate_cn) return Unauthenticated("no client certificate common name");
    cert_name = *caller.certificate_cn;
  }
  if (!tokens_.empty()) {
    const std::string prefix = "Bearer ";
    if (!caller.authorization) return Unauthenticated("missing 'authorization: Bearer <token>'");
    if (caller.authorization->rfind(prefix, 0) != 0)
      return Unauthenticated("authorization is not a Bearer token");
    const std::string value = caller.authorization->substr(prefix.size());
    for (const auto& [n, t] : tokens_) {  // compare against all, in constant time each
      if (t.size() == value.size() && CRYPTO_memcmp(t.data(), value.data(), t.size()) == 0) {
        token_name = n;
      }
    }
    if (token_name.empty()) return Unauthenticated("unknown token");
  }
  if (mtls_ && !tokens_.empty() && cert_name != token_name) {
    return Unauthenticated("certificate '" + cert_name + "' does not match the token's client '" +
                           token_name + "'");
  }
  *name = mtls_ ? cert_name : token_name;
  if (name->empty()) *name = caller.claimed;  // insecure, no tokens: trust the given name
  if (!ValidClientName(*name)) {
    return Unauthenticated("client name '" + name->substr(0, 64) +
                           "' is empty or not made of [A-Za-z0-9._-]");
  }
  if (!caller.claimed.empty() && caller.claimed != *name) {
    return grpc::Status(
        grpc::StatusCode::PERMISSION_DENIED,
        "authenticated as '" + *name + "' but registering as '" + caller.claimed + "'");
  }
  return grpc::Status::OK;
}

}  // namespace fedra::net
