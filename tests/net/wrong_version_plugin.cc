// Test fixture: the entry points of a plugin built against another fedra (loaders refuse it).
#include "fedra/fl/plugin.h"

extern "C" __attribute__((visibility("default"))) FedraPluginAbi fedra_plugin_abi() {
  return {fedra::kPluginAbiVersion, "0.0.1-other"};
}
extern "C" __attribute__((visibility("default"))) void fedra_plugin(fedra::Plugin* out) {
  out->name = "never-called";
}
