#include "apps/tls_keygen.h"

#include <CLI/CLI.hpp>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <gtest/gtest.h>

#include "testing/temp_dir.h"

namespace fedra::apps {
namespace {

using ::testing::HasSubstr;
using testing::TempDir;

struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
struct KeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using CertPtr = std::unique_ptr<X509, X509Free>;
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyFree>;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

CertPtr LoadCert(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) return nullptr;
  CertPtr cert(PEM_read_X509(f, nullptr, nullptr, nullptr));
  std::fclose(f);
  EXPECT_NE(cert, nullptr) << path;
  return cert;
}

KeyPtr LoadKey(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) return nullptr;
  KeyPtr key(PEM_read_PrivateKey(f, nullptr, nullptr, nullptr));
  std::fclose(f);
  EXPECT_NE(key, nullptr) << path;
  return key;
}

// X509_verify_cert of `cert` against `ca` alone, for `purpose` (checks extendedKeyUsage);
// 1 on success, else the negated X509_V_ERR_* code.
int Verify(X509* ca, X509* cert, int purpose) {
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, ca);
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, cert, nullptr);
  X509_STORE_CTX_set_purpose(ctx, purpose);
  const int ok = X509_verify_cert(ctx);
  const int err = X509_STORE_CTX_get_error(ctx);
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  return ok == 1 ? 1 : -err;
}

std::string CommonName(X509* cert) {
  char buf[256] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, buf, sizeof(buf));
  return buf;
}

mode_t Mode(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

// Generates into a fresh directory once per test.
class TlsKeygenTest : public ::testing::Test {
 protected:
  std::string Path(const std::string& name) const { return tmp_.File("out/" + name); }

  StatusOr<std::vector<std::string>> Generate(TlsKeygenOptions o) {
    o.out_dir = tmp_.File("out");
    return WriteTlsFiles(o);
  }

  TempDir tmp_;
};

TEST_F(TlsKeygenTest, DefaultsWriteCaServerFourClientsAndTokens) {
  const auto written = Generate({});
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  std::vector<std::string> expected;
  for (const char* name : {"ca", "server", "client-client-1", "client-client-2", "client-client-3",
                           "client-client-4"}) {
    expected.push_back(Path(std::string(name) + ".pem"));
    expected.push_back(Path(std::string(name) + ".key"));
  }
  expected.push_back(Path("tokens.txt"));
  EXPECT_EQ(*written, expected);
  EXPECT_EQ(Mode(tmp_.File("out")), 0700u);
}

TEST_F(TlsKeygenTest, ChainVerifiesForTheRightPurposeOnly) {
  ASSERT_TRUE(Generate({.client_names = {"alice", "bob"}}).ok());
  CertPtr ca = LoadCert(Path("ca.pem"));
  CertPtr server = LoadCert(Path("server.pem"));
  ASSERT_TRUE(ca && server);
  EXPECT_EQ(Verify(ca.get(), server.get(), X509_PURPOSE_SSL_SERVER), 1);
  // serverAuth only: the server certificate cannot act as a client.
  EXPECT_NE(Verify(ca.get(), server.get(), X509_PURPOSE_SSL_CLIENT), 1);
  for (const char* name : {"alice", "bob"}) {
    CertPtr client = LoadCert(Path(std::string("client-") + name + ".pem"));
    ASSERT_TRUE(client);
    EXPECT_EQ(Verify(ca.get(), client.get(), X509_PURPOSE_SSL_CLIENT), 1) << name;
    EXPECT_NE(Verify(ca.get(), client.get(), X509_PURPOSE_SSL_SERVER), 1) << name;
    EXPECT_EQ(CommonName(client.get()), name);
  }
  EXPECT_GE(X509_check_ca(ca.get()), 1);
  EXPECT_TRUE(X509_get_key_usage(ca.get()) & KU_KEY_CERT_SIGN);
  EXPECT_EQ(X509_check_ca(server.get()), 0);
}

TEST_F(TlsKeygenTest, AnotherRunsCaDoesNotVerify) {
  ASSERT_TRUE(Generate({.client_names = {"a"}}).ok());
  TempDir other;
  ASSERT_TRUE(WriteTlsFiles({.out_dir = other.path(), .client_names = {"a"}}).ok());
  CertPtr other_ca = LoadCert(other.File("ca.pem"));
  CertPtr server = LoadCert(Path("server.pem"));
  ASSERT_TRUE(other_ca && server);
  EXPECT_NE(Verify(other_ca.get(), server.get(), X509_PURPOSE_SSL_SERVER), 1);
}

TEST_F(TlsKeygenTest, ServerAltNamesHoldLocalhostLoopbackAndExtras) {
  ASSERT_TRUE(Generate({.server_names = {"fl.example.org", "10.1.2.3", "::1"}}).ok());
  CertPtr server = LoadCert(Path("server.pem"));
  ASSERT_TRUE(server);
  EXPECT_EQ(X509_check_host(server.get(), "localhost", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(server.get(), "127.0.0.1", 0), 1);
  EXPECT_EQ(X509_check_host(server.get(), "fl.example.org", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(server.get(), "10.1.2.3", 0), 1);
  EXPECT_EQ(X509_check_ip_asc(server.get(), "::1", 0), 1);
  EXPECT_EQ(X509_check_host(server.get(), "evil.example.org", 0, 0, nullptr), 0);
  EXPECT_EQ(X509_check_ip_asc(server.get(), "10.1.2.4", 0), 0);
  EXPECT_EQ(CommonName(server.get()), "fl.example.org");
}

TEST_F(TlsKeygenTest, KeysMatchTheirCertificatesAndAreP256) {
  ASSERT_TRUE(Generate({.client_names = {"c1", "c2"}}).ok());
  for (const char* name : {"ca", "server", "client-c1", "client-c2"}) {
    CertPtr cert = LoadCert(Path(std::string(name) + ".pem"));
    KeyPtr key = LoadKey(Path(std::string(name) + ".key"));
    ASSERT_TRUE(cert && key) << name;
    EXPECT_EQ(X509_check_private_key(cert.get(), key.get()), 1) << name;
    EXPECT_TRUE(EVP_PKEY_is_a(key.get(), "EC")) << name;
    EXPECT_EQ(EVP_PKEY_get_bits(key.get()), 256) << name;
    EXPECT_EQ(X509_get_signature_nid(cert.get()), NID_ecdsa_with_SHA256) << name;
  }
  CertPtr server = LoadCert(Path("server.pem"));
  KeyPtr client_key = LoadKey(Path("client-c1.key"));
  EXPECT_EQ(X509_check_private_key(server.get(), client_key.get()), 0);
}

TEST_F(TlsKeygenTest, ValidForTheAskedDays) {
  ASSERT_TRUE(Generate({.client_names = {"a"}, .days = 30}).ok());
  CertPtr cert = LoadCert(Path("client-a.pem"));
  ASSERT_TRUE(cert);
  EXPECT_LT(X509_cmp_current_time(X509_get0_notBefore(cert.get())), 0);
  int days = 0, seconds = 0;
  ASSERT_EQ(ASN1_TIME_diff(&days, &seconds, nullptr, X509_get0_notAfter(cert.get())), 1);
  EXPECT_TRUE(days == 30 || (days == 29 && seconds > 86000)) << days << "d " << seconds << "s";
}

TEST_F(TlsKeygenTest, SecretsAreOwnerOnlyWhateverTheUmask) {
  for (const mode_t mask : {mode_t{0}, mode_t{022}, mode_t{077}}) {
    const mode_t old = umask(mask);
    const auto written = Generate({.client_names = {"a"}, .force = true});
    umask(old);
    ASSERT_TRUE(written.ok()) << written.status().ToString();
    for (const char* name : {"ca.key", "server.key", "client-a.key", "tokens.txt"}) {
      EXPECT_EQ(Mode(Path(name)), 0600u) << name << " umask " << mask;
    }
    for (const char* name : {"ca.pem", "server.pem", "client-a.pem"}) {
      EXPECT_EQ(Mode(Path(name)), 0644u) << name << " umask " << mask;
    }
  }
}

TEST_F(TlsKeygenTest, TokensAreDistinct64HexPerClient) {
  ASSERT_TRUE(Generate({.client_names = DefaultClientNames(7)}).ok());
  std::istringstream in(ReadAll(Path("tokens.txt")));
  std::string name, token;
  std::vector<std::string> names;
  std::set<std::string> tokens;
  while (in >> name >> token) {
    names.push_back(name);
    EXPECT_EQ(token.size(), 64u);
    EXPECT_EQ(token.find_first_not_of("0123456789abcdef"), std::string::npos) << token;
    tokens.insert(token);
  }
  EXPECT_EQ(names, DefaultClientNames(7));
  EXPECT_EQ(tokens.size(), 7u);
}

TEST_F(TlsKeygenTest, RefusesToOverwriteUnlessForced) {
  ASSERT_TRUE(Generate({.client_names = {"a"}}).ok());
  const std::string ca = ReadAll(Path("ca.pem"));
  const std::string tokens = ReadAll(Path("tokens.txt"));
  // Even one existing file stops the whole run before anything is written.
  ASSERT_EQ(std::remove(Path("ca.key").c_str()), 0);
  const auto again = Generate({.client_names = {"a"}});
  EXPECT_EQ(again.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(again.status().message(), HasSubstr("exists (use --force"));
  EXPECT_EQ(ReadAll(Path("ca.pem")), ca);
  EXPECT_FALSE(std::ifstream(Path("ca.key")).good());

  const auto forced = Generate({.client_names = {"a"}, .force = true});
  ASSERT_TRUE(forced.ok()) << forced.status().ToString();
  EXPECT_NE(ReadAll(Path("ca.pem")), ca);
  EXPECT_NE(ReadAll(Path("tokens.txt")), tokens);
  CertPtr new_ca = LoadCert(Path("ca.pem"));
  CertPtr client = LoadCert(Path("client-a.pem"));
  EXPECT_EQ(Verify(new_ca.get(), client.get(), X509_PURPOSE_SSL_CLIENT), 1);
}

TEST_F(TlsKeygenTest, BadOptionsAreInvalidArgument) {
  const std::vector<TlsKeygenOptions> bad = {
      {.client_names = {}},
      {.client_names = {"a", "a"}},
      {.client_names = {"../escape"}},
      {.client_names = {"has space"}},
      {.client_names = {std::string(65, 'x')}},
      {.server_names = {"bad,name"}},
      {.server_names = {"under_score!"}},
      {.days = 0},
  };
  for (const TlsKeygenOptions& o : bad) {
    const auto r = Generate(o);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
  }
  EXPECT_FALSE(std::ifstream(Path("ca.pem")).good());
}

TEST_F(TlsKeygenTest, MissingParentOrFileAsDirectoryIsAClearError) {
  auto r = WriteTlsFiles({.out_dir = tmp_.File("no/such/dir")});
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(r.status().message(), HasSubstr("no/such/dir: cannot create the directory"));
  const std::string file = tmp_.Write("file", "x");
  r = WriteTlsFiles({.out_dir = file});
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(r.status().message(), HasSubstr("not a directory"));
}

// The files work for what they are made for: a TLS handshake between gRPC 1.51's server and
// client (a channel becomes READY only after one), with the server requiring and verifying a
// client certificate (mTLS).
class TlsKeygenGrpcTest : public TlsKeygenTest {
 protected:
  void SetUp() override {
    ASSERT_TRUE(Generate({.client_names = {"alice"}}).ok());
    grpc::SslServerCredentialsOptions options(
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
    options.pem_root_certs = ReadAll(Path("ca.pem"));
    options.pem_key_cert_pairs.push_back(
        {ReadAll(Path("server.key")), ReadAll(Path("server.pem"))});
    grpc::ServerBuilder builder;
    builder.RegisterCallbackGenericService(&service_);  // a server needs a service to start
    builder.AddListeningPort("127.0.0.1:0", grpc::SslServerCredentials(options), &port_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_GT(port_, 0);
  }
  void TearDown() override {
    if (server_) server_->Shutdown(std::chrono::system_clock::now());
  }

  // Whether a channel with these credentials reaches READY (a completed handshake) within a
  // few seconds; the handshake on loopback takes milliseconds, a refusal never gets there.
  bool Connects(const grpc::SslCredentialsOptions& options, const std::string& host) {
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride(host);
    auto channel = grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(port_),
                                             grpc::SslCredentials(options), args);
    return channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(3));
  }

  grpc::SslCredentialsOptions ClientOptions(const std::string& name) const {
    grpc::SslCredentialsOptions o;
    o.pem_root_certs = ReadAll(Path("ca.pem"));
    o.pem_private_key = ReadAll(Path("client-" + name + ".key"));
    o.pem_cert_chain = ReadAll(Path("client-" + name + ".pem"));
    return o;
  }

  int port_ = 0;
  grpc::CallbackGenericService service_;  // answers UNIMPLEMENTED
  std::unique_ptr<grpc::Server> server_;
};

TEST_F(TlsKeygenGrpcTest, MutualTlsHandshakeSucceeds) {
  EXPECT_TRUE(Connects(ClientOptions("alice"), "localhost"));
}

TEST_F(TlsKeygenGrpcTest, ClientWithoutCertificateIsRefused) {
  grpc::SslCredentialsOptions o = ClientOptions("alice");
  o.pem_private_key.clear();
  o.pem_cert_chain.clear();
  EXPECT_FALSE(Connects(o, "localhost"));
}

TEST_F(TlsKeygenGrpcTest, ClientRefusesServerOfAnotherCaOrName) {
  TempDir other;
  ASSERT_TRUE(WriteTlsFiles({.out_dir = other.path(), .client_names = {"alice"}}).ok());
  grpc::SslCredentialsOptions o = ClientOptions("alice");
  o.pem_root_certs = ReadAll(other.File("ca.pem"));
  EXPECT_FALSE(Connects(o, "localhost"));
  EXPECT_FALSE(Connects(ClientOptions("alice"), "not-in-the-certificate.example"));
}

TEST(TlsKeygenCliTest, TlsSubcommandParsesItsFlags) {
  CLI::App app{"test", "fedra-keygen"};
  AddTlsCommand(app);
  app.require_subcommand(1);
  TempDir tmp;
  const std::string out = tmp.File("certs");
  std::vector<std::string> args = {
      "tls", "--out", out, "--client-names", "x,y,z", "--server-names", "h.lan", "--days", "10"};
  std::reverse(args.begin(), args.end());  // CLI11 parses a reversed vector
  ASSERT_NO_THROW(app.parse(args));
  std::istringstream tokens(ReadAll(out + "/tokens.txt"));
  std::string name, token;
  std::vector<std::string> names;
  while (tokens >> name >> token) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"x", "y", "z"}));
  CertPtr server = LoadCert(out + "/server.pem");
  ASSERT_TRUE(server);
  EXPECT_EQ(X509_check_host(server.get(), "h.lan", 0, 0, nullptr), 1);

  CLI::App app2{"test", "fedra-keygen"};
  AddTlsCommand(app2);
  std::vector<std::string> both = {"tls", "--out", out, "--clients", "2", "--client-names", "a"};
  std::reverse(both.begin(), both.end());
  EXPECT_THROW(app2.parse(both), CLI::ExcludesError);
}

}  // namespace
}  // namespace fedra::apps
