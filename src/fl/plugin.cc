#include "fedra/fl/plugin.h"

#include <dlfcn.h>

#include <exception>

namespace fedra {
namespace {

// Runs a plugin's function; what it throws becomes an error naming the file.
template <typename F>
auto Guard(const std::string& path, const char* what, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const std::exception& e) {
    return FailedPreconditionError("plugin " + path + ": " + what + " threw: " + e.what());
  } catch (...) {
    return FailedPreconditionError("plugin " + path + ": " + what + " threw");
  }
}

// Runs one of the plugin's factories ("new_<noun>"): absent, throwing, failing or returning
// null is an error naming the file.
template <typename T, typename Context>
StatusOr<std::unique_ptr<T>> Make(
    const std::string& path,
    const std::function<StatusOr<std::unique_ptr<T>>(const Context&)>& factory,
    const std::string& noun, const Context& context) {
  if (!factory) return FailedPreconditionError("plugin " + path + " offers no " + noun);
  const std::string name = "new_" + noun;
  auto made = Guard(path, name.c_str(), [&] { return factory(context); });
  if (!made.ok()) return made.status().WithContext("plugin " + path);
  if (*made == nullptr) return FailedPreconditionError("plugin " + path + " made no " + noun);
  return made;
}

}  // namespace

StatusOr<std::unique_ptr<LoadedPlugin>> LoadedPlugin::Load(const std::string& path) {
  // RTLD_LOCAL: two plugins never see each other's symbols. Never dlclose()d (see header).
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    return NotFoundError("plugin " + path + " does not load: " + (why ? why : "unknown error"));
  }
  using AbiFn = FedraPluginAbi (*)();
  using PluginFn = void (*)(Plugin*);
  auto abi_fn = reinterpret_cast<AbiFn>(dlsym(handle, "fedra_plugin_abi"));
  auto plugin_fn = reinterpret_cast<PluginFn>(dlsym(handle, "fedra_plugin"));
  if (abi_fn == nullptr || plugin_fn == nullptr) {
    return FailedPreconditionError("plugin " + path +
                                   " has no fedra entry point (fedra_plugin_abi, fedra_plugin): "
                                   "define one with FEDRA_PLUGIN(...) from fedra/fl/plugin.h");
  }
  const FedraPluginAbi abi = abi_fn();
  const std::string version = abi.fedra_version ? abi.fedra_version : "?";
  if (abi.abi_version != kPluginAbiVersion || version != FEDRA_VERSION_STRING) {
    return FailedPreconditionError(
        "plugin " + path + " was built for fedra " + version + " (plugin ABI " +
        std::to_string(abi.abi_version) + "); this program is fedra " + FEDRA_VERSION_STRING +
        " (plugin ABI " + std::to_string(kPluginAbiVersion) + "): rebuild the plugin");
  }
  auto plugin = Guard(path, "fedra_plugin()", [&]() -> StatusOr<Plugin> {
    Plugin p;
    plugin_fn(&p);
    return p;
  });
  if (!plugin.ok()) return plugin.status();
  if (!plugin->new_strategy && !plugin->new_trainer)
    return FailedPreconditionError("plugin " + path + " offers neither a strategy nor a trainer");
  if (plugin->name.empty()) plugin->name = path;
  return std::unique_ptr<LoadedPlugin>(new LoadedPlugin(path, std::move(plugin).value()));
}

StatusOr<std::unique_ptr<Strategy>> LoadedPlugin::NewStrategy(
    const StrategyPluginContext& context) const {
  return Make(path_, plugin_.new_strategy, "strategy", context);
}

StatusOr<std::unique_ptr<LocalTrainer>> LoadedPlugin::NewTrainer(
    const TrainerPluginContext& context) const {
  return Make(path_, plugin_.new_trainer, "trainer", context);
}

}  // namespace fedra
