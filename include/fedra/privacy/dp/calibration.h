// Calibration: the smallest noise multiplier z that keeps a sampled-Gaussian run of `steps`
// steps at rate q within (target_epsilon, delta), found by bisection on z (epsilon is
// decreasing in z) with either accountant.
//
// Thread-safety: reentrant.
#ifndef FEDRA_PRIVACY_DP_CALIBRATION_H_
#define FEDRA_PRIVACY_DP_CALIBRATION_H_

#include <cstdint>
#include <string>

#include "fedra/core/status.h"
#include "fedra/privacy/dp/pld_accountant.h"
#include "fedra/privacy/dp/rdp_accountant.h"

namespace fedra::dp {

enum class AccountantKind { kRdp, kPld };

// "rdp" or "pld"; InvalidArgument otherwise.
StatusOr<AccountantKind> ParseAccountantKind(const std::string& name);

// Epsilon of `s` at `delta` with the chosen accountant (RDP: default orders, improved
// conversion).
StatusOr<double> ComputeEpsilon(AccountantKind kind, const SampledGaussian& s, double delta);

struct CalibrationOptions {
  double relative_tolerance = 1e-4;  // on z; the returned z meets the target (rounded up)
  double max_noise_multiplier = 1e4;
};

// The smallest z (to the tolerance, never below the true one) with epsilon(z) <= target.
// InvalidArgument for bad parameters (target <= 0, q, steps < 1, delta); OutOfRange if even
// max_noise_multiplier does not reach the target.
StatusOr<double> CalibrateNoiseMultiplier(AccountantKind kind, double target_epsilon, double delta,
                                          double sampling_rate, int64_t steps,
                                          const CalibrationOptions& o = {});

}  // namespace fedra::dp

#endif  // FEDRA_PRIVACY_DP_CALIBRATION_H_
