// fedra-keygen: key material for fedra deployments, one subcommand per kind (`tls` for
// certificates and auth tokens, `paillier` for homomorphic-encryption keys). Each subcommand
// registers itself with an Add*Command(app) function and reports its own errors (exit status 1).
#include <CLI/CLI.hpp>

#include "apps/keygen_paillier.h"
#include "apps/tls_keygen.h"

int main(int argc, char** argv) {
  CLI::App app{"fedra-keygen: make keys and certificates for fedra", "fedra-keygen"};
  // Subcommands. Add new ones here, one line each.
  fedra::apps::AddTlsCommand(app);
  fedra::apps::AddPaillierCommand(app);
  app.require_subcommand(1);
  CLI11_PARSE(app, argc, argv);
  return 0;
}
