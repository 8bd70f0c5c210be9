// Who a caller is, decided from what its connection carries, without a server.
#include "net/server_auth.h"

#include <gtest/gtest.h>

namespace fedra::net {
namespace {

const std::vector<std::pair<std::string, std::string>> kTokens = {
    {"alice", "alice-token-0123456789"}, {"bob", "bob-token-0123456789ab"}};

grpc::StatusCode Code(const ClientAuthenticator& a, const CallerCredentials& c,
                      std::string* name = nullptr) {
  std::string n;
  const grpc::Status s = a.Identify(c, &n);
  if (name) *name = n;
  return s.error_code();
}

TEST(ServerAuthTest, WithoutCredentialsTheClaimedNameIsTrustedIfWellFormed) {
  const ClientAuthenticator open;
  EXPECT_FALSE(open.configured());
  std::string name;
  EXPECT_EQ(Code(open, {.claimed = "site-7"}, &name), grpc::StatusCode::OK);
  EXPECT_EQ(name, "site-7");
  EXPECT_EQ(Code(open, {.claimed = ""}), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Code(open, {.claimed = "a b"}), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Code(open, {.claimed = std::string(129, 'x')}), grpc::StatusCode::UNAUTHENTICATED);
}

TEST(ServerAuthTest, TokensNameTheCallerAndAnotherClaimIsDenied) {
  const ClientAuthenticator tokens(false, kTokens);
  std::string name;
  EXPECT_EQ(Code(tokens, {.authorization = "Bearer bob-token-0123456789ab"}, &name),
            grpc::StatusCode::OK);
  EXPECT_EQ(name, "bob");
  EXPECT_EQ(Code(tokens, {}), grpc::StatusCode::UNAUTHENTICATED);  // no token
  EXPECT_EQ(Code(tokens, {.authorization = "bob-token-0123456789ab"}),
            grpc::StatusCode::UNAUTHENTICATED);  // not Bearer
  EXPECT_EQ(Code(tokens, {.authorization = "Bearer bob-token-0123456789aX"}),
            grpc::StatusCode::UNAUTHENTICATED);  // unknown
  EXPECT_EQ(Code(tokens, {.authorization = "Bearer bob-token-0123456789ab", .claimed = "alice"}),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST(ServerAuthTest, CertificateAndTokenMustNameTheSameClient) {
  const ClientAuthenticator both(true, kTokens);
  std::string name;
  EXPECT_EQ(
      Code(both, {.certificate_cn = "alice", .authorization = "Bearer alice-token-0123456789"},
           &name),
      grpc::StatusCode::OK);
  EXPECT_EQ(name, "alice");
  EXPECT_EQ(
      Code(both, {.certificate_cn = "alice", .authorization = "Bearer bob-token-0123456789ab"}),
      grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Code(both, {.authorization = "Bearer alice-token-0123456789"}),
            grpc::StatusCode::UNAUTHENTICATED);  // no certificate
  const ClientAuthenticator mtls(true, {});
  EXPECT_EQ(Code(mtls, {.certificate_cn = "not a name!"}), grpc::StatusCode::UNAUTHENTICATED);
}

TEST(ServerAuthTest, IdsAreStableNonZeroAndBelowTwoToThe63) {
  EXPECT_EQ(IdForName("alice"), IdForName("alice"));
  EXPECT_NE(IdForName("alice"), IdForName("bob"));
  for (const char* n : {"a", "b", "client-1", "client-2"}) {
    EXPECT_NE(IdForName(n), 0u);
    EXPECT_LT(IdForName(n), uint64_t{1} << 63);
  }
}

}  // namespace
}  // namespace fedra::net
