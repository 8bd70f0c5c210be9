#include "apps/tls_keygen.h"

#include <CLI/CLI.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <memory>
#include <set>
#include <string_view>
#include <utility>

#include "core/file_util.h"

namespace fedra::apps {
namespace {

constexpr int kMaxDays = 36500;
constexpr size_t kMaxClients = 10000;
constexpr size_t kMaxClientNameLength = 64;  // the X.509 upper bound for a CN
constexpr size_t kMaxDnsNameLength = 253;
constexpr int kTokenBytes = 32;
constexpr mode_t kCertMode = 0644;
constexpr mode_t kSecretMode = 0600;

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using CertPtr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION, X509_EXTENSION_free>>;

// `what` plus OpenSSL's queued error reasons (which it clears).
Status OpenSslError(std::string_view what) {
  std::string message(what);
  for (unsigned long e = ERR_get_error(); e != 0; e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    message += std::string("; ") + buf;
  }
  return InternalError(std::move(message));
}

// ---------------------------------------------------------------------------------------
// Options.

bool IsClientNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

Status ValidateClientNames(const std::vector<std::string>& names) {
  if (names.empty() || names.size() > kMaxClients) {
    return InvalidArgumentError("--clients/--client-names: " + std::to_string(names.size()) +
                                " clients, expected 1 to " + std::to_string(kMaxClients));
  }
  std::set<std::string> seen;
  for (const std::string& name : names) {
    const bool ok = !name.empty() && name.size() <= kMaxClientNameLength && name[0] != '.' &&
                    name[0] != '-' && std::all_of(name.begin(), name.end(), IsClientNameChar);
    if (!ok) {
      return InvalidArgumentError("--client-names: bad name '" + name +
                                  "' (expected 1 to 64 of A-Z a-z 0-9 . _ -, not starting "
                                  "with . or -)");
    }
    if (!seen.insert(name).second) {
      return InvalidArgumentError("--client-names: '" + name + "' appears twice");
    }
  }
  return OkStatus();
}

bool IsIpAddress(const std::string& s) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

bool IsDnsName(const std::string& s) {
  return !s.empty() && s.size() <= kMaxDnsNameLength && s.front() != '.' && s.front() != '-' &&
         std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '-' || c == '*';
         });
}

// "DNS:localhost,IP:127.0.0.1,..." without duplicates.
StatusOr<std::string> SubjectAltName(const std::vector<std::string>& server_names) {
  std::vector<std::string> entries = {"DNS:localhost", "IP:127.0.0.1"};
  for (const std::string& name : server_names) {
    std::string entry;
    if (IsIpAddress(name)) {
      entry = "IP:" + name;
    } else if (IsDnsName(name)) {
      entry = "DNS:" + name;
    } else {
      return InvalidArgumentError("--server-names: '" + name +
                                  "' is neither an IP address nor a DNS name (A-Z a-z 0-9 . - *)");
    }
    if (std::find(entries.begin(), entries.end(), entry) == entries.end()) entries.push_back(entry);
  }
  std::string san;
  for (const std::string& e : entries) san += (san.empty() ? "" : ",") + e;
  return san;
}

Status ValidateOptions(const TlsKeygenOptions& o) {
  if (o.out_dir.empty()) return InvalidArgumentError("--out: expected a directory");
  if (o.days < 1 || o.days > kMaxDays) {
    return InvalidArgumentError("--days: " + std::to_string(o.days) + ", expected 1 to " +
                                std::to_string(kMaxDays));
  }
  return ValidateClientNames(o.client_names);
}

// ---------------------------------------------------------------------------------------
// Keys and certificates.

StatusOr<KeyPtr> NewEcKey() {
  KeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) return OpenSslError("cannot generate an EC P-256 key");
  return key;
}

struct CertSpec {
  std::string common_name;
  std::string basic_constraints;  // X509V3 config syntax, e.g. "critical,CA:FALSE"
  std::string key_usage;
  std::string extended_key_usage;  // empty: none
  std::string subject_alt_name;    // empty: none
};

// A random positive 127-bit serial number (RFC 5280: at most 20 octets, unpredictable).
Status SetRandomSerial(X509* cert) {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) return OpenSslError("RAND_bytes failed");
  bytes[0] = static_cast<unsigned char>((bytes[0] & 0x7f) | 0x40);  // positive, never zero
  BnPtr bn(BN_bin2bn(bytes, sizeof(bytes), nullptr));
  if (!bn || BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert)) == nullptr) {
    return OpenSslError("cannot set the serial number");
  }
  return OkStatus();
}

Status AddExtension(X509* cert, X509V3_CTX* ctx, int nid, const std::string& value) {
  ExtPtr ext(X509V3_EXT_conf_nid(nullptr, ctx, nid, value.c_str()));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return OpenSslError(std::string("cannot add extension ") + OBJ_nid2sn(nid) + " = " + value);
  }
  return OkStatus();
}

Status SetNameAndValidity(X509* cert, const std::string& common_name, X509* issuer, int days) {
  X509_NAME* name = X509_get_subject_name(cert);
  const auto add = [&](const char* field, const std::string& value) {
    return X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
                                      reinterpret_cast<const unsigned char*>(value.c_str()), -1, -1,
                                      0) == 1;
  };
  if (!add("O", "fedra") || !add("CN", common_name)) return OpenSslError("cannot set the name");
  if (X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer) : name) != 1) {
    return OpenSslError("cannot set the issuer");
  }
  if (X509_gmtime_adj(X509_getm_notBefore(cert), -3600) == nullptr ||
      X509_time_adj_ex(X509_getm_notAfter(cert), days, 0, nullptr) == nullptr) {
    return OpenSslError("cannot set the validity period");
  }
  return OkStatus();
}

// A certificate for `key`, signed by `issuer_key` under `issuer` (self-signed if null).
StatusOr<CertPtr> MakeCert(const CertSpec& spec, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key,
                           int days) {
  CertPtr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1) {
    return OpenSslError("cannot create a certificate");
  }
  FEDRA_RETURN_IF_ERROR(SetRandomSerial(cert.get()));
  FEDRA_RETURN_IF_ERROR(SetNameAndValidity(cert.get(), spec.common_name, issuer, days));
  if (X509_set_pubkey(cert.get(), key) != 1) return OpenSslError("cannot set the public key");

  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer ? issuer : cert.get(), cert.get(), nullptr, nullptr, 0);
  X509* c = cert.get();
  FEDRA_RETURN_IF_ERROR(AddExtension(c, &ctx, NID_basic_constraints, spec.basic_constraints));
  FEDRA_RETURN_IF_ERROR(AddExtension(c, &ctx, NID_key_usage, spec.key_usage));
  if (!spec.extended_key_usage.empty()) {
    FEDRA_RETURN_IF_ERROR(AddExtension(c, &ctx, NID_ext_key_usage, spec.extended_key_usage));
  }
  if (!spec.subject_alt_name.empty()) {
    FEDRA_RETURN_IF_ERROR(AddExtension(c, &ctx, NID_subject_alt_name, spec.subject_alt_name));
  }
  FEDRA_RETURN_IF_ERROR(AddExtension(c, &ctx, NID_subject_key_identifier, "hash"));
  FEDRA_RETURN_IF_ERROR(AddExtension(c, &ctx, NID_authority_key_identifier, "keyid:always"));

  if (X509_sign(c, issuer_key ? issuer_key : key, EVP_sha256()) <= 0) {
    return OpenSslError("cannot sign the certificate");
  }
  return cert;
}

// What PEM_write_bio_* wrote to a memory BIO.
template <typename Write>
StatusOr<std::string> ToPem(Write write, const char* what) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || !write(bio.get())) return OpenSslError(std::string("cannot encode ") + what);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  std::string pem(data, static_cast<size_t>(n));
  OPENSSL_cleanse(data, static_cast<size_t>(n));  // may be a private key
  return pem;
}

StatusOr<std::string> CertPem(X509* cert) {
  return ToPem([cert](BIO* b) { return PEM_write_bio_X509(b, cert) == 1; }, "a certificate");
}

StatusOr<std::string> KeyPem(EVP_PKEY* key) {
  return ToPem(
      [key](BIO* b) {
        return PEM_write_bio_PrivateKey(b, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
      },
      "a private key");
}

StatusOr<std::string> Tokens(const std::vector<std::string>& names) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string text;
  for (const std::string& name : names) {
    unsigned char token[kTokenBytes];
    if (RAND_priv_bytes(token, sizeof(token)) != 1) return OpenSslError("RAND_priv_bytes failed");
    text += name + " ";
    for (unsigned char b : token) {
      text.push_back(kHex[b >> 4]);
      text.push_back(kHex[b & 15]);
    }
    text += "\n";
    OPENSSL_cleanse(token, sizeof(token));
  }
  return text;
}

// ---------------------------------------------------------------------------------------
// Files.

// One output file: its name in the directory, contents and mode.
struct OutputFile {
  std::string name;
  std::string bytes;
  mode_t mode;

  ~OutputFile() { OPENSSL_cleanse(bytes.data(), bytes.size()); }
};

// Creates `dir` (mode 0700) if missing; checks that it is a writable directory.
Status PrepareDirectory(const std::string& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    if (errno != ENOENT) return internal::ErrnoError("--out " + dir, errno);
    if (::mkdir(dir.c_str(), 0700) != 0) {
      return internal::ErrnoError("--out " + dir + ": cannot create the directory", errno);
    }
    return OkStatus();
  }
  if (!S_ISDIR(st.st_mode)) return FailedPreconditionError("--out " + dir + ": not a directory");
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    return internal::ErrnoError("--out " + dir + ": directory not writable", errno);
  }
  return OkStatus();
}

Status WriteAllBytes(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return internal::ErrnoError("write failed", errno);
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return OkStatus();
}

// Writes a temporary file with exactly `mode` (whatever the umask), fsynced.
Status WriteTemp(const std::string& tmp, const OutputFile& f) {
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, f.mode);
  if (fd < 0) return internal::ErrnoError("cannot create " + tmp, errno);
  Status s = ::fchmod(fd, f.mode) == 0 ? OkStatus() : internal::ErrnoError("chmod failed", errno);
  if (s.ok()) s = WriteAllBytes(fd, f.bytes);
  if (s.ok() && ::fsync(fd) != 0) s = internal::ErrnoError("fsync failed", errno);
  if (::close(fd) != 0 && s.ok()) s = internal::ErrnoError("close failed", errno);
  return s.WithContext(tmp);
}

// Moves the temporary file into place: rename() replaces, link() refuses an existing file.
Status WriteOne(const std::string& dir, const OutputFile& f, bool force) {
  const std::string path = dir + "/" + f.name;
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  Status s = WriteTemp(tmp, f);
  if (s.ok()) {
    if (force) {
      if (::rename(tmp.c_str(), path.c_str()) != 0) s = internal::ErrnoError(path, errno);
    } else if (::link(tmp.c_str(), path.c_str()) != 0) {
      s = errno == EEXIST ? FailedPreconditionError(path + " exists (use --force to replace it)")
                          : internal::ErrnoError(path, errno);
    }
  }
  ::unlink(tmp.c_str());  // after link(), or on error; after rename() it is already gone
  return s;
}

Status SyncDirectory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return internal::ErrnoError("cannot open " + dir, errno);
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  return rc == 0 ? OkStatus() : internal::ErrnoError("fsync of " + dir + " failed", err);
}

// Adds the certificate and key of one party to `files`.
Status AddPair(std::vector<OutputFile>& files, const std::string& base, X509* cert, EVP_PKEY* key) {
  FEDRA_ASSIGN_OR_RETURN(std::string cert_pem, CertPem(cert));
  FEDRA_ASSIGN_OR_RETURN(std::string key_pem, KeyPem(key));
  files.push_back({base + ".pem", std::move(cert_pem), kCertMode});
  files.push_back({base + ".key", std::move(key_pem), kSecretMode});
  return OkStatus();
}

StatusOr<std::vector<OutputFile>> MakeFiles(const TlsKeygenOptions& o, const std::string& san) {
  std::vector<OutputFile> files;
  FEDRA_ASSIGN_OR_RETURN(KeyPtr ca_key, NewEcKey());
  const CertSpec ca_spec{"fedra CA", "critical,CA:TRUE,pathlen:0", "critical,keyCertSign,cRLSign",
                         "", ""};
  FEDRA_ASSIGN_OR_RETURN(CertPtr ca, MakeCert(ca_spec, ca_key.get(), nullptr, nullptr, o.days));
  FEDRA_RETURN_IF_ERROR(AddPair(files, "ca", ca.get(), ca_key.get()));

  const std::string& first = o.server_names.empty() ? "localhost" : o.server_names.front();
  const CertSpec server_spec{first.size() <= kMaxClientNameLength ? first : "fedra server",
                             "critical,CA:FALSE", "critical,digitalSignature", "serverAuth", san};
  FEDRA_ASSIGN_OR_RETURN(KeyPtr server_key, NewEcKey());
  FEDRA_ASSIGN_OR_RETURN(CertPtr server,
                         MakeCert(server_spec, server_key.get(), ca.get(), ca_key.get(), o.days));
  FEDRA_RETURN_IF_ERROR(AddPair(files, "server", server.get(), server_key.get()));

  for (const std::string& name : o.client_names) {
    const CertSpec spec{name, "critical,CA:FALSE", "critical,digitalSignature", "clientAuth", ""};
    FEDRA_ASSIGN_OR_RETURN(KeyPtr key, NewEcKey());
    FEDRA_ASSIGN_OR_RETURN(CertPtr cert, MakeCert(spec, key.get(), ca.get(), ca_key.get(), o.days));
    FEDRA_RETURN_IF_ERROR(AddPair(files, "client-" + name, cert.get(), key.get()));
  }
  FEDRA_ASSIGN_OR_RETURN(std::string tokens, Tokens(o.client_names));
  files.push_back({"tokens.txt", std::move(tokens), kSecretMode});
  return files;
}

// FailedPrecondition naming the first output file that exists.
Status CheckNoneExists(const std::string& dir, const std::vector<OutputFile>& files) {
  for (const OutputFile& f : files) {
    const std::string path = dir + "/" + f.name;
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0) {
      return FailedPreconditionError(path + " exists (use --force to replace it)");
    }
  }
  return OkStatus();
}

}  // namespace

std::vector<std::string> DefaultClientNames(int n) {
  std::vector<std::string> names;
  for (int i = 1; i <= n; ++i) names.push_back("client-" + std::to_string(i));
  return names;
}

StatusOr<std::vector<std::string>> WriteTlsFiles(const TlsKeygenOptions& options) {
  FEDRA_RETURN_IF_ERROR(ValidateOptions(options));
  FEDRA_ASSIGN_OR_RETURN(const std::string san, SubjectAltName(options.server_names));
  FEDRA_RETURN_IF_ERROR(PrepareDirectory(options.out_dir));
  FEDRA_ASSIGN_OR_RETURN(const std::vector<OutputFile> files, MakeFiles(options, san));
  if (!options.force) FEDRA_RETURN_IF_ERROR(CheckNoneExists(options.out_dir, files));
  std::vector<std::string> written;
  for (const OutputFile& f : files) {
    FEDRA_RETURN_IF_ERROR(WriteOne(options.out_dir, f, options.force));
    written.push_back(options.out_dir + "/" + f.name);
  }
  FEDRA_RETURN_IF_ERROR(SyncDirectory(options.out_dir));
  return written;
}

void AddTlsCommand(CLI::App& app) {
  struct Flags {
    TlsKeygenOptions options;
    int clients = 4;
    std::vector<std::string> client_names;
  };
  auto flags = std::make_shared<Flags>();
  TlsKeygenOptions& o = flags->options;
  CLI::App* tls = app.add_subcommand(
      "tls", "make a CA, server and client certificates, and client auth tokens");
  tls->footer(
      "Writes ca.pem/.key (the CA), server.pem/.key, client-<name>.pem/.key per client and "
      "tokens.txt (\"<name> <64 hex digits>\" per line). Keys are ECDSA P-256 (PKCS#8 PEM), "
      "signatures SHA-256; keys and tokens.txt are mode 0600. Existing files are left alone "
      "unless --force.");
  tls->add_option("--out", o.out_dir, "output directory (created if missing)")->required();
  CLI::Option* count =
      tls->add_option("--clients", flags->clients, "number of clients, named client-1..client-N")
          ->check(CLI::Range(1, static_cast<int>(kMaxClients)))
          ->capture_default_str();
  CLI::Option* names = tls->add_option("--client-names", flags->client_names,
                                       "comma-separated client names (certificate CNs)")
                           ->delimiter(',');
  count->excludes(names);
  tls->add_option("--days", o.days, "validity in days")
      ->check(CLI::Range(1, kMaxDays))
      ->capture_default_str();
  tls->add_option("--server-names", o.server_names,
                  "comma-separated DNS names and IP addresses for the server certificate "
                  "(DNS:localhost and IP:127.0.0.1 are always included)")
      ->delimiter(',')
      ->capture_default_str();
  tls->add_flag("--force", o.force, "replace existing files");
  tls->callback([flags, names] {
    TlsKeygenOptions& opts = flags->options;
    opts.client_names =
        names->count() > 0 ? flags->client_names : DefaultClientNames(flags->clients);
    const StatusOr<std::vector<std::string>> written = WriteTlsFiles(opts);
    if (!written.ok()) {
      std::fprintf(stderr, "fedra-keygen tls: %s\n", written.status().ToString().c_str());
      throw CLI::RuntimeError(1);
    }
    std::printf("wrote %zu files:\n", written->size());
    for (const std::string& path : *written) std::printf("  %s\n", path.c_str());
  });
}

}  // namespace fedra::apps
