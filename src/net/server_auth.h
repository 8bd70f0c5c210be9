// Private to the net layer: who a caller of fedra::Server is. The decision is a pure function
// of what the connection carries (the client certificate's common name, the bearer token, the
// name it claims), so it is tested without a server; Server::Impl gathers those from the
// grpc::ServerContext, counts and logs refusals.
#ifndef FEDRA_SRC_NET_SERVER_AUTH_H_
#define FEDRA_SRC_NET_SERVER_AUTH_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <grpcpp/support/status.h>

#include "fedra/core/status.h"
#include "fedra/fl/types.h"

namespace fedra::net {

// 1..128 characters from [A-Za-z0-9._-].
bool ValidClientName(const std::string& name);

// A client's id from its name: stable across server restarts, so sampling and per-client
// state survive a resume; never 0, below 2^63.
ClientId IdForName(const std::string& name);

// A tokens file: "<name> <token>" per line (tokens of 16+ characters, names and tokens
// unique); blank lines and '#' comments ignored. InvalidArgument naming the line.
StatusOr<std::vector<std::pair<std::string, std::string>>> LoadTokens(const std::string& path);

// What a call carries.
struct CallerCredentials {
  std::optional<std::string> certificate_cn;  // mTLS: the certificate's common name, if any
  std::optional<std::string> authorization;   // the "authorization" metadata, if sent
  std::string claimed;                        // the name a Register claims ("" otherwise)
};

class ClientAuthenticator {
 public:
  ClientAuthenticator() = default;
  // `mtls`: clients present certificates; `tokens`: (name, token) pairs, may be empty.
  ClientAuthenticator(bool mtls, std::vector<std::pair<std::string, std::string>> tokens)
      : mtls_(mtls), tokens_(std::move(tokens)) {}

  // Identity comes from credentials (mTLS or tokens), not from a session alone.
  bool configured() const { return mtls_ || !tokens_.empty(); }

  // The caller's name: the certificate's CN and/or the token's client (they must agree), or,
  // with neither configured, the claimed name. UNAUTHENTICATED for missing or unknown
  // credentials and names outside ValidClientName; PERMISSION_DENIED when an authenticated
  // caller claims another name. Tokens are compared in constant time, each against all.
  grpc::Status Identify(const CallerCredentials& caller, std::string* name) const;

 private:
  bool mtls_ = false;
  std::vector<std::pair<std::string, std::string>> tokens_;
};

}  // namespace fedra::net

#endif  // FEDRA_SRC_NET_SERVER_AUTH_H_
