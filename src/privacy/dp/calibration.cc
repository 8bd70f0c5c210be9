#include "fedra/privacy/dp/calibration.h"

#include <cmath>

namespace fedra::dp {

StatusOr<AccountantKind> ParseAccountantKind(const std::string& name) {
  if (name == "rdp") return AccountantKind::kRdp;
  if (name == "pld") return AccountantKind::kPld;
  return InvalidArgumentError("unknown accountant '" + name + "' (expected rdp or pld)");
}

StatusOr<double> ComputeEpsilon(AccountantKind kind, const SampledGaussian& s, double delta) {
  if (kind == AccountantKind::kPld) return PldEpsilon(s, delta);
  return RdpEpsilon(s, delta);
}

StatusOr<double> CalibrateNoiseMultiplier(AccountantKind kind, double target_epsilon, double delta,
                                          double sampling_rate, int64_t steps,
                                          const CalibrationOptions& o) {
  if (!(target_epsilon > 0) || !std::isfinite(target_epsilon)) {
    return InvalidArgumentError("target epsilon must be a finite number > 0, got " +
                                std::to_string(target_epsilon));
  }
  if (steps < 1) return InvalidArgumentError("steps must be >= 1, got " + std::to_string(steps));
  FEDRA_RETURN_IF_ERROR(ValidateDelta(delta));
  SampledGaussian s{.noise_multiplier = 1.0, .sampling_rate = sampling_rate, .steps = steps};
  FEDRA_RETURN_IF_ERROR(ValidateSampledGaussian(s));
  auto eps_at = [&](double z) {
    s.noise_multiplier = z;
    return ComputeEpsilon(kind, s, delta);
  };
  // Bracket: eps(lo) > target >= eps(hi).
  double lo = 0, hi = 1;
  while (true) {
    FEDRA_ASSIGN_OR_RETURN(double eps, eps_at(hi));
    if (eps <= target_epsilon) break;
    lo = hi;
    hi *= 2;
    if (hi > o.max_noise_multiplier) {
      return OutOfRangeError("no noise multiplier up to " + std::to_string(o.max_noise_multiplier) +
                             " reaches epsilon " + std::to_string(target_epsilon));
    }
  }
  if (lo == 0) {  // maybe much less noise suffices: halve down to the bracket
    lo = hi / 2;
    while (lo > 1e-3) {
      FEDRA_ASSIGN_OR_RETURN(double eps, eps_at(lo));
      if (eps > target_epsilon) break;
      hi = lo;
      lo /= 2;
    }
  }
  while (hi - lo > o.relative_tolerance * hi) {
    const double mid = 0.5 * (lo + hi);
    FEDRA_ASSIGN_OR_RETURN(double eps, eps_at(mid));
    (eps > target_epsilon ? lo : hi) = mid;
  }
  return hi;
}

}  // namespace fedra::dp
