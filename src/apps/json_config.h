// CLI11 config-file reader that accepts a JSON object ({"rounds": 20, "insecure": true, ...},
// keys are the long option names without dashes) as well as CLI11's TOML/INI, so programs
// take `--config run.json` or `--config run.toml`.
#ifndef FEDRA_APPS_JSON_CONFIG_H_
#define FEDRA_APPS_JSON_CONFIG_H_

#include <CLI/CLI.hpp>

namespace fedra::apps {

class JsonOrTomlConfig : public CLI::ConfigTOML {
 public:
  std::vector<CLI::ConfigItem> from_config(std::istream& input) const override;
};

// Installs JsonOrTomlConfig and the --config option on `app`.
void AddConfigOption(CLI::App& app);

}  // namespace fedra::apps

#endif  // FEDRA_APPS_JSON_CONFIG_H_
