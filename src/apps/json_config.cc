#include "apps/json_config.h"

#include <iterator>
#include <sstream>

#include <nlohmann/json.hpp>

namespace fedra::apps {
namespace {

std::string Scalar(const nlohmann::json& v, const std::string& key) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number()) return v.dump();
  throw CLI::ConversionError("config key '" + key +
                             "' must be a string, number, boolean or array of those");
}

}  // namespace

std::vector<CLI::ConfigItem> JsonOrTomlConfig::from_config(std::istream& input) const {
  std::string text((std::istreambuf_iterator<char>(input)), std::istreambuf_iterator<char>());
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos || text[first] != '{') {
    std::istringstream toml(text);
    return CLI::ConfigTOML::from_config(toml);
  }
  const nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    throw CLI::ConversionError("config file is not a valid JSON object");
  }
  std::vector<CLI::ConfigItem> out;
  for (const auto& [key, value] : doc.items()) {
    CLI::ConfigItem item;
    item.name = key;
    if (value.is_array()) {
      for (const auto& v : value) item.inputs.push_back(Scalar(v, key));
    } else {
      item.inputs.push_back(Scalar(value, key));
    }
    out.push_back(std::move(item));
  }
  return out;
}

void AddConfigOption(CLI::App& app) {
  app.config_formatter(std::make_shared<JsonOrTomlConfig>());
  app.set_config("--config", "",
                 "read options from a JSON object or TOML file (keys: long option names)");
}

}  // namespace fedra::apps
