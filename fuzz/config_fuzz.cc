// The programs' --config files (JSON, or CLI11's TOML), read and applied by the same path
// fedra-server and fedra-sim use, to an app with options of each kind.
#include <cstdint>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "apps/json_config.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fedra::fuzz::MemFile file(fedra::fuzz::AsText(data, size));
  CLI::App app;
  int rounds = 0;
  double lr = 0;
  bool insecure = false;
  std::string name;
  std::vector<int64_t> shape;
  app.add_option("--rounds", rounds);
  app.add_option("--lr", lr);
  app.add_flag("--insecure", insecure);
  app.add_option("--name", name);
  app.add_option("--input-shape", shape);
  fedra::apps::AddConfigOption(app);
  try {
    app.parse(std::vector<std::string>{file.path(), "--config"});  // reversed: CLI11's order
  } catch (const CLI::Error&) {
    // A clear refusal is the expected outcome for a malformed file.
  }
  return 0;
}
