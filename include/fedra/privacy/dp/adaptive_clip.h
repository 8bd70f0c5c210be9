// Adaptive clipping (Andrew, Thakkar, McMahan, Ramaswamy, "Differentially Private Learning
// with Adaptive Clipping", NeurIPS 2021): the clip norm C follows the target quantile gamma
// of the *unclipped* update norms. Each round every client reports b_i = 1[||update_i|| <= C];
// the server sees the noised count sum(b_i) + N(0, sigma_b^2), takes its fraction of the
// expected number of clients m, and updates geometrically:
//   C <- C * exp(-eta * (b_noisy - gamma)),
// so C shrinks while more than a gamma fraction of clients are below it and grows otherwise.
// Because the count is a second Gaussian query on the same clients, the update noise is
// raised so that both together cost what a single query with multiplier z costs:
//   z_update = (z^-2 - (2 sigma_b)^-2)^(-1/2)   (the count has sensitivity 1/2 after
// centring b_i - 1/2, hence the factor 2).
//
// Thread-safety: value type, not thread-safe.
#ifndef FEDRA_PRIVACY_DP_ADAPTIVE_CLIP_H_
#define FEDRA_PRIVACY_DP_ADAPTIVE_CLIP_H_

#include "fedra/core/status.h"

namespace fedra::dp {

struct AdaptiveClipOptions {
  double initial_clip_norm = 0.1;  // the paper starts small and lets C grow
  double target_quantile = 0.5;    // gamma in (0, 1)
  double learning_rate = 0.2;      // eta_C (the paper's geometric-update default)
};

class AdaptiveClip {
 public:
  // InvalidArgument unless C > 0, gamma in (0, 1), eta > 0 (all finite).
  static StatusOr<AdaptiveClip> Create(const AdaptiveClipOptions& options);

  double clip_norm() const { return clip_norm_; }
  // One round: `noisy_count` is sum(b_i) + noise, `expected_clients` m > 0.
  void Update(double noisy_count, double expected_clients);
  // Restores C from a checkpoint. InvalidArgument unless finite and > 0.
  Status set_clip_norm(double c);

 private:
  explicit AdaptiveClip(const AdaptiveClipOptions& o)
      : clip_norm_(o.initial_clip_norm), options_(o) {}
  double clip_norm_;
  AdaptiveClipOptions options_;
};

// z_update for total multiplier z and count noise stddev sigma_b (see above).
// InvalidArgument unless 2 sigma_b > z > 0, i.e. the count noise alone is private enough.
StatusOr<double> AdaptiveUpdateNoiseMultiplier(double noise_multiplier, double count_stddev);

}  // namespace fedra::dp

#endif  // FEDRA_PRIVACY_DP_ADAPTIVE_CLIP_H_
