#include "apps/keygen_paillier.h"

#include <CLI/CLI.hpp>

#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <memory>

#include "fedra/privacy/paillier/key_json.h"
#include "fedra/privacy/paillier/secret_key.h"

namespace fedra::apps {
namespace {

bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

}  // namespace

StatusOr<std::string> WritePaillierKeyFiles(const PaillierKeygenOptions& options) {
  if (options.bits != 2048 && options.bits != 3072) {
    return InvalidArgumentError("--bits " + std::to_string(options.bits) +
                                " is not supported (expected 2048 or 3072)");
  }
  if (options.public_out.empty() || options.secret_out.empty()) {
    return InvalidArgumentError("--public-out and --secret-out must name files");
  }
  if (options.public_out == options.secret_out) {
    return InvalidArgumentError("--public-out and --secret-out name the same file");
  }
  if (!options.force) {
    for (const std::string& path : {options.public_out, options.secret_out}) {
      if (Exists(path))
        return FailedPreconditionError(path + " exists (use --force to replace it)");
    }
  }
  for (const std::string& path : {options.public_out, options.secret_out}) {
    const auto dir = std::filesystem::path(path).parent_path();
    std::error_code ec;
    if (!dir.empty()) std::filesystem::create_directories(dir, ec);
    if (ec)
      return InvalidArgumentError("cannot create directory " + dir.string() + ": " + ec.message());
  }
  FEDRA_ASSIGN_OR_RETURN(const paillier::SecretKey key,
                         paillier::GenerateKeyPair({.modulus_bits = options.bits}));
  // The secret key first: a public key without its secret key would be useless.
  FEDRA_RETURN_IF_ERROR(paillier::WriteSecretKeyFile(options.secret_out, key));
  FEDRA_RETURN_IF_ERROR(paillier::WritePublicKeyFile(options.public_out, key.public_key()));
  return paillier::KeyIdHex(key.key_id());
}

void AddPaillierCommand(CLI::App& app) {
  auto options = std::make_shared<PaillierKeygenOptions>();
  CLI::App* cmd = app.add_subcommand(
      "paillier", "make a Paillier key pair for encrypted aggregation (python-paillier JSON)");
  cmd->footer(
      "The public key file goes to the server and the clients; the secret key file (mode 0600) "
      "to the clients only. Existing files are left alone unless --force.");
  cmd->add_option("--bits", options->bits, "bits of the modulus n: 2048 or 3072")
      ->check(CLI::IsMember({2048, 3072}))
      ->capture_default_str();
  cmd->add_option("--public-out", options->public_out, "public key file (JSON)")
      ->capture_default_str();
  cmd->add_option("--secret-out", options->secret_out, "secret key file (JSON, mode 0600)")
      ->capture_default_str();
  cmd->add_flag("--force", options->force, "replace existing files");
  cmd->callback([options] {
    const StatusOr<std::string> id = WritePaillierKeyFiles(*options);
    if (!id.ok()) {
      std::fprintf(stderr, "fedra-keygen paillier: %s\n", id.status().ToString().c_str());
      throw CLI::RuntimeError(1);
    }
    std::printf("Paillier key %s (%d-bit n)\n  public key: %s\n  secret key: %s (mode 0600)\n",
                id->c_str(), options->bits, options->public_out.c_str(),
                options->secret_out.c_str());
  });
}

}  // namespace fedra::apps
