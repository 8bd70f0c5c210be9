// --strategy-plugin / --trainer-plugin / --plugin-args (fedra/fl/plugin.h), shared by
// fedra-sim, fedra-server and fedra-client.
#ifndef FEDRA_APPS_PLUGIN_FLAGS_H_
#define FEDRA_APPS_PLUGIN_FLAGS_H_

#include <memory>
#include <string>

#include "fedra/fl/plugin.h"

namespace CLI {
class App;
}  // namespace CLI

namespace fedra::apps {

struct PluginFlags {
  std::string strategy_plugin;
  std::string trainer_plugin;
  std::string plugin_args;
};

void AddStrategyPluginFlag(CLI::App& app, PluginFlags& flags);
void AddTrainerPluginFlag(CLI::App& app, PluginFlags& flags);

// The run's strategy: from --strategy-plugin when given (the plugin stays loaded in
// `*loaded`), else the built-in one the flags name.
StatusOr<std::unique_ptr<Strategy>> NewStrategyFromFlags(const PluginFlags& flags,
                                                         const StrategyConfig& config,
                                                         int num_rounds,
                                                         std::unique_ptr<LoadedPlugin>* loaded);

// --trainer-plugin loaded (null when not given); FailedPrecondition if it offers no trainer.
StatusOr<std::unique_ptr<LoadedPlugin>> LoadTrainerPlugin(const PluginFlags& flags);

}  // namespace fedra::apps

#endif  // FEDRA_APPS_PLUGIN_FLAGS_H_
