// `fedra-keygen paillier`: a Paillier key pair for encrypted aggregation. The public key file
// goes to the server and the clients; the secret key file (mode 0600) to the clients only, never
// to the server. Both are JSON in python-paillier's documented JWK format (see
// include/fedra/privacy/paillier/key_json.h and docs/privacy-paillier.md).
//
// Thread-safety: the functions are thread-safe.
#ifndef FEDRA_APPS_KEYGEN_PAILLIER_H_
#define FEDRA_APPS_KEYGEN_PAILLIER_H_

#include <string>

#include "fedra/core/status.h"

// Only the name: CLI11 is expensive to compile, so only the files that add flags include it.
namespace CLI {
class App;
}  // namespace CLI

namespace fedra::apps {

struct PaillierKeygenOptions {
  int bits = 2048;  // 2048 or 3072
  std::string public_out = "paillier.pub.json";
  std::string secret_out = "paillier.key.json";
  bool force = false;  // replace existing files (otherwise refuse before generating anything)
};

// Generates a key pair and writes both files; returns the key id (hex). InvalidArgument for bad
// options; FailedPrecondition if a file exists and !force; I/O errors by errno.
StatusOr<std::string> WritePaillierKeyFiles(const PaillierKeygenOptions& options);

// Registers the `paillier` subcommand (--bits, --public-out, --secret-out, --force) on `app`.
// On failure it prints "fedra-keygen paillier: <status>" to stderr and throws
// CLI::RuntimeError(1), which CLI11_PARSE turns into exit status 1.
void AddPaillierCommand(CLI::App& app);

}  // namespace fedra::apps

#endif  // FEDRA_APPS_KEYGEN_PAILLIER_H_
