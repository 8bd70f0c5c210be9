// Privacy-loss-distribution (PLD) accounting for the Poisson-subsampled Gaussian mechanism
// under add/remove-one neighbouring (Koskela, Jalko, Honkela 2020; Meiser, Mohammadi 2018):
// the privacy loss of one step is discretised on a grid of spacing h, the T-fold composition
// is the T-fold convolution (radix-2 FFT, by repeated squaring, tails below `tail_mass`
// trimmed after each product), and delta(eps) = E[(1 - exp(eps - L))_+] is read off the
// result. Both directions (add and remove) are composed and the worse is reported.
//
// Discretisation is "connect the dots" (Doroshenko et al., PETS 2022): each grid cell's
// probability mass is split between its two end points so that both the P-mass and the
// Q-mass of the cell are kept; the discrete profile then equals the true delta(eps) at the
// grid points and interpolates it linearly in exp(eps) between them, which is an upper bound
// (the profile is convex in exp(eps)). Trimmed tail mass goes to the infinite loss (upper
// tail) or to the lowest kept point (lower tail), both pessimistic. The result is an upper
// bound up to floating-point error of order 1e-12 in delta, and tighter than RDP.
//
// Thread-safety: reentrant.
#ifndef FEDRA_PRIVACY_DP_PLD_ACCOUNTANT_H_
#define FEDRA_PRIVACY_DP_PLD_ACCOUNTANT_H_

#include <cstddef>

#include "fedra/core/status.h"
#include "fedra/privacy/dp/rdp_accountant.h"

namespace fedra::dp {

struct PldOptions {
  // Grid spacing h of privacy-loss values. With connect-the-dots the error is second order in
  // h: 3e-4 stays within 0.05% of h = 3e-5 on the settings in docs/privacy-dp.md.
  double discretization = 3e-4;
  double tail_mass = 1e-15;           // mass trimmed from each tail per step / product
  size_t max_grid = size_t{1} << 24;  // refuse (ResourceExhausted) beyond this many points
};

// Smallest epsilon with delta(epsilon) <= delta after s.steps steps; +inf when even the
// infinite-loss mass exceeds delta.
StatusOr<double> PldEpsilon(const SampledGaussian& s, double delta, const PldOptions& o = {});
// delta(epsilon) after s.steps steps. InvalidArgument unless epsilon >= 0.
StatusOr<double> PldDelta(const SampledGaussian& s, double epsilon, const PldOptions& o = {});

// The exact (epsilon, delta) curve of one Gaussian mechanism with sensitivity 1 and noise
// stddev z (Balle, Wang, "Improving the Gaussian Mechanism...", ICML 2018, Theorem 8):
// delta(eps) = Phi(1/(2z) - eps z) - exp(eps) Phi(-1/(2z) - eps z), and its inverse (by
// bisection). Used as the lower bound in tests and for q = 1, one step.
double GaussianDelta(double noise_multiplier, double epsilon);
StatusOr<double> GaussianEpsilon(double noise_multiplier, double delta);

}  // namespace fedra::dp

#endif  // FEDRA_PRIVACY_DP_PLD_ACCOUNTANT_H_
