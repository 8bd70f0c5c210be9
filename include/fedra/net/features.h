// Client features: what a client understands beyond the first release of protocol 1. The
// fedra::Client of this build lists every name here when it registers
// (RegisterRequest.features); a server refuses clients that lack one its run needs
// (ServerOptions::required_client_features).
#ifndef FEDRA_NET_FEATURES_H_
#define FEDRA_NET_FEATURES_H_

#include <array>
#include <string_view>

namespace fedra {

// FitInstructions.local_steps (FitConfig::local_steps): train exactly that many mini-batch
// steps instead of whole epochs.
inline constexpr char kClientFeatureLocalSteps[] = "local_steps";

// Every feature above: what fedra::Client lists and what a server may require.
inline constexpr std::array<std::string_view, 1> kClientFeatures = {kClientFeatureLocalSteps};

}  // namespace fedra

#endif  // FEDRA_NET_FEATURES_H_
