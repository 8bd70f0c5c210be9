// Plugins: a shared library that gives the stock programs a strategy (fedra-server and
// fedra-sim: --strategy-plugin PATH.so) or a trainer (fedra-client and fedra-sim:
// --trainer-plugin PATH.so), with no change to fedra's sources. --plugin-args passes the
// plugin a string in its own syntax.
//
//   #include "fedra/fl/plugin.h"
//   fedra::Plugin MakePlugin() {
//     return {.name = "my-fedavg",
//             .new_strategy = [](const fedra::StrategyPluginContext& c) { ... }};
//   }
//   FEDRA_PLUGIN(MakePlugin)
//
// Build it as a MODULE library linking fedra::fedra (examples/plugin). The loader first
// calls the plain-C entry fedra_plugin_abi() and refuses a library built for another plugin
// ABI or another fedra version, naming both, before it touches any C++ object; then it calls
// fedra_plugin(). Exceptions thrown by the plugin's functions become errors naming the file.
// A loaded library stays loaded until the process exits (objects it made may live that long).
#ifndef FEDRA_FL_PLUGIN_H_
#define FEDRA_FL_PLUGIN_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "fedra/core/status.h"
#include "fedra/fl/local_trainer.h"
#include "fedra/fl/strategy.h"
#include "fedra/fl/strategy_config.h"
#include "fedra/ml/dataset.h"
#include "fedra/ml/model.h"
#include "fedra/version.h"

namespace fedra {

inline constexpr uint32_t kPluginAbiVersion = 1;

// What a program offers a strategy plugin: its --plugin-args and the settings of its stock
// flags (sampling, local training, rounds), which the plugin may use or ignore.
struct StrategyPluginContext {
  std::string args;
  StrategyConfig flags;
  int num_rounds = 0;
};

// What a program offers a trainer plugin for one client. `train`, `test` and `model` are the
// program's own data and model for this client (null when it has none, e.g. fedra-client
// without --data); the plugin may load its own instead. Pointers outlive the trainer.
struct TrainerPluginContext {
  std::string args;
  ClientId client = 0;     // fedra-sim: the virtual client's index; fedra-client: 0
  size_t num_clients = 1;  // fedra-sim: how many; fedra-client: 1
  const Dataset* train = nullptr;
  const Dataset* test = nullptr;
  const Model* model = nullptr;  // a prototype: Clone() it
  uint64_t seed = 0;
  // fedra-sim asks for a trainer for every task, on worker thread `worker` (0 .. threads-1),
  // and destroys it after the task: keep it cheap (a model per worker, data by pointer).
  size_t worker = 0;
};

struct Plugin {
  std::string name;
  // Either may be empty (a plugin of strategies only, or of trainers only).
  std::function<StatusOr<std::unique_ptr<Strategy>>(const StrategyPluginContext&)> new_strategy;
  std::function<StatusOr<std::unique_ptr<LocalTrainer>>(const TrainerPluginContext&)> new_trainer;
};

// A plugin loaded from a file, with its factories wrapped so that an exception or a null
// object becomes an error naming the file.
class LoadedPlugin {
 public:
  // NotFound / FailedPrecondition naming `path` when the file does not load, has no entry
  // point, was built for another ABI or fedra version, or its entry point throws.
  static StatusOr<std::unique_ptr<LoadedPlugin>> Load(const std::string& path);

  const std::string& name() const { return plugin_.name; }
  const std::string& path() const { return path_; }
  bool has_strategy() const { return static_cast<bool>(plugin_.new_strategy); }
  bool has_trainer() const { return static_cast<bool>(plugin_.new_trainer); }
  StatusOr<std::unique_ptr<Strategy>> NewStrategy(const StrategyPluginContext& context) const;
  StatusOr<std::unique_ptr<LocalTrainer>> NewTrainer(const TrainerPluginContext& context) const;

 private:
  LoadedPlugin(std::string path, Plugin plugin)
      : path_(std::move(path)), plugin_(std::move(plugin)) {}
  std::string path_;
  Plugin plugin_;
};

}  // namespace fedra

// The plain-C half of the entry point: checked before anything else is called.
extern "C" struct FedraPluginAbi {
  uint32_t abi_version;
  const char* fedra_version;
};

// Defines the two entry points from a function `fedra::Plugin make()`.
#define FEDRA_PLUGIN(make)                                                                  \
  extern "C" __attribute__((visibility("default"))) FedraPluginAbi fedra_plugin_abi() {     \
    return {fedra::kPluginAbiVersion, FEDRA_VERSION_STRING};                                \
  }                                                                                         \
  extern "C" __attribute__((visibility("default"))) void fedra_plugin(fedra::Plugin* out) { \
    *out = make();                                                                          \
  }

#endif  // FEDRA_FL_PLUGIN_H_
