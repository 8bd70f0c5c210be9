#include "apps/plugin_flags.h"

#include <CLI/CLI.hpp>

namespace fedra::apps {

void AddStrategyPluginFlag(CLI::App& app, PluginFlags& flags) {
  app.add_option("--strategy-plugin", flags.strategy_plugin,
                 "shared library with a custom strategy (fedra/fl/plugin.h); replaces --strategy");
  app.add_option("--plugin-args", flags.plugin_args, "string passed to the plugin(s) as is");
}

void AddTrainerPluginFlag(CLI::App& app, PluginFlags& flags) {
  app.add_option("--trainer-plugin", flags.trainer_plugin,
                 "shared library with a custom local trainer (fedra/fl/plugin.h)");
  if (app.get_option_no_throw("--plugin-args") == nullptr)
    app.add_option("--plugin-args", flags.plugin_args, "string passed to the plugin(s) as is");
}

StatusOr<std::unique_ptr<Strategy>> NewStrategyFromFlags(const PluginFlags& flags,
                                                         const StrategyConfig& config,
                                                         int num_rounds,
                                                         std::unique_ptr<LoadedPlugin>* loaded) {
  if (flags.strategy_plugin.empty()) return NewStrategy(config);
  FEDRA_ASSIGN_OR_RETURN(*loaded, LoadedPlugin::Load(flags.strategy_plugin));
  return (*loaded)->NewStrategy(
      {.args = flags.plugin_args, .flags = config, .num_rounds = num_rounds});
}

StatusOr<std::unique_ptr<LoadedPlugin>> LoadTrainerPlugin(const PluginFlags& flags) {
  if (flags.trainer_plugin.empty()) return std::unique_ptr<LoadedPlugin>();
  FEDRA_ASSIGN_OR_RETURN(auto plugin, LoadedPlugin::Load(flags.trainer_plugin));
  if (!plugin->has_trainer()) {
    return FailedPreconditionError("plugin " + flags.trainer_plugin + " offers no trainer");
  }
  return plugin;
}

}  // namespace fedra::apps
