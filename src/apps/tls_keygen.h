// `fedra-keygen tls`: a private certificate authority and the certificates, keys and tokens a
// fedra-server and its clients need for TLS, mutual TLS and token authentication — for the
// demo and tests, not a production PKI.
//
// Files written in the output directory (certificates 0644, keys and tokens 0600 whatever the
// umask; keys are ECDSA P-256, PKCS#8 PEM, unencrypted; signatures SHA-256):
//   ca.pem, ca.key                  self-signed CA: basicConstraints critical CA:TRUE,
//                                   pathlen:0, keyUsage critical keyCertSign, cRLSign
//   server.pem, server.key          CN = first server name; subjectAltName DNS:localhost,
//                                   IP:127.0.0.1 and every server name (an IPv4/IPv6 address
//                                   becomes an IP entry, anything else a DNS entry);
//                                   extendedKeyUsage serverAuth
//   client-<name>.pem, client-<name>.key   one per client: CN = <name>, extendedKeyUsage
//                                   clientAuth
//   tokens.txt                      one line per client: "<name> <64 hex digits>", each token
//                                   32 bytes from RAND_bytes
// Certificates are valid from one hour ago (clock skew) for `days` days, with random serials.
//
// Thread-safety: the functions are thread-safe (OpenSSL 3 is).
#ifndef FEDRA_APPS_TLS_KEYGEN_H_
#define FEDRA_APPS_TLS_KEYGEN_H_

#include <string>
#include <vector>

#include "fedra/core/status.h"

// Only the name: CLI11 is expensive to compile, so only the files that add flags include it.
namespace CLI {
class App;
}  // namespace CLI

namespace fedra::apps {

// "client-1" .. "client-<n>".
std::vector<std::string> DefaultClientNames(int n);

struct TlsKeygenOptions {
  std::string out_dir;
  // Client names: 1 to 64 characters of [A-Za-z0-9._-], not starting with '.' or '-',
  // distinct. Each becomes a certificate CN and the "client-<name>" file names.
  std::vector<std::string> client_names = DefaultClientNames(4);
  // Added to the server's subjectAltName (DNS:localhost and IP:127.0.0.1 always are).
  std::vector<std::string> server_names = {"localhost", "127.0.0.1"};
  int days = 365;      // validity, 1 to 36500
  bool force = false;  // replace existing files (otherwise refuse to touch any)
};

// Writes the files above into options.out_dir and returns their paths in the order listed.
// The directory is created (mode 0700) if missing, but not its parent. Errors: InvalidArgument
// for bad options (naming the option and what is expected); NotFound if the parent directory
// does not exist; FailedPrecondition if a file exists and !force (nothing is written then) or
// the directory is not writable; other I/O errors by errno. Every file is written to a
// temporary name, fsynced and moved into place (rename, or link when not forcing so that a
// file created meanwhile is not overwritten either): a reader never sees a partial file.
StatusOr<std::vector<std::string>> WriteTlsFiles(const TlsKeygenOptions& options);

// Registers the `tls` subcommand (--out, --clients | --client-names, --days, --server-names,
// --force) on `app`. On failure it prints "<app name>: <status>" to stderr and makes the
// program exit with status 1 (throws CLI::RuntimeError(1), which CLI11_PARSE turns into the
// exit code).
void AddTlsCommand(CLI::App& app);

}  // namespace fedra::apps

#endif  // FEDRA_APPS_TLS_KEYGEN_H_
