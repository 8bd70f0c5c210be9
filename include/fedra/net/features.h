// Client features: what a client understands beyond the first release of protocol 1. The
// fedra::Client of this build lists every name here when it registers
// (RegisterRequest.features); a server refuses clients that lack one its run needs
// (ServerOptions::required_client_features).
#ifndef FEDRA_NET_FEATURES_H_
#define FEDRA_NET_FEATURES_H_

namespace fedra {

// FitInstructions.local_steps (FitConfig::local_steps): train exactly that many mini-batch
// steps instead of whole epochs.
inline constexpr char kClientFeatureLocalSteps[] = "local_steps";

}  // namespace fedra

#endif  // FEDRA_NET_FEATURES_H_
