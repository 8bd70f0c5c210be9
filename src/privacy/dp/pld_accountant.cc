#include "fedra/privacy/dp/pld_accountant.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <string>
#include <vector>

#include "privacy/dp/fft.h"
#include "privacy/dp/log_math.h"

namespace fedra::dp {
namespace {

// A discrete privacy-loss distribution: mass pmf[j] at loss (lo + j) * h, plus mass at +inf.
struct DiscretePld {
  int64_t lo = 0;
  std::vector<double> pmf{1.0};
  double inf_mass = 0;
};

// P(a < Z <= b) for Z ~ N(0, 1), computed on the side that avoids cancellation.
double NormalMass(double a, double b) {
  if (!(b > a)) return 0;
  const double r = 1 / std::numbers::sqrt2;
  if (a >= 0) return 0.5 * (std::erfc(a * r) - std::erfc(b * r));
  if (b <= 0) return 0.5 * (std::erfc(-b * r) - std::erfc(-a * r));
  return 1 - 0.5 * std::erfc(b * r) - 0.5 * std::erfc(-a * r);
}

// The sampled Gaussian's two distributions on x: N0 = N(0, s^2) and the mixture
// M = (1 - q) N(0, s^2) + q N(1, s^2), and the privacy loss log(M/N0)(x), increasing in x.
struct SampledGaussianPair {
  double q, sigma;
  double N0(double a, double b) const { return NormalMass(a / sigma, b / sigma); }
  double M(double a, double b) const {
    return (1 - q) * N0(a, b) + q * NormalMass((a - 1) / sigma, (b - 1) / sigma);
  }
  double Loss(double x) const {
    return LogAdd(std::log1p(-q), std::log(q) + (2 * x - 1) / (2 * sigma * sigma));
  }
  // The x where Loss(x) = l (-inf below the infimum log(1 - q)).
  double LossInverse(double l) const {
    if (l <= std::log1p(-q)) return -kInf;
    return sigma * sigma * (LogSub(l, std::log1p(-q)) - std::log(q)) + 0.5;
  }
};

// Adds a cell's P-mass m (with Q-mass w) to its end points (i, i + 1) so that both masses are
// kept (connect the dots).
void SplitCell(std::vector<double>& pmf, size_t i, double cell_lo, double h, double m, double w) {
  double upper = (m - w * std::exp(cell_lo)) / -std::expm1(-h);
  upper = std::clamp(upper, 0.0, m);
  pmf[i] += m - upper;
  pmf[i + 1] += upper;
}

// One step. remove: P = M, Q = N0, loss increasing in x; add: P = N0, Q = M, loss = -Loss(x).
StatusOr<DiscretePld> SingleStep(const SampledGaussianPair& g, bool remove, const PldOptions& o) {
  const double h = o.discretization;
  const double k = std::sqrt(2 * std::log(1 / (2 * o.tail_mass)));  // N(0,1) tail <= tail_mass
  const double s = g.sigma;
  const bool bounded = g.q < 1;  // the loss is bounded on the side where x -> -inf
  const double x_lo = bounded ? -kInf : -k * s;
  const double x_hi = (remove ? 1 : 0) + k * s;
  double l_min, l_max;
  if (remove) {
    l_min = bounded ? std::log1p(-g.q) : g.Loss(x_lo);
    l_max = g.Loss(x_hi);
  } else {
    l_min = -g.Loss(x_hi);
    l_max = bounded ? -std::log1p(-g.q) : -g.Loss(x_lo);
  }
  const auto i_lo = static_cast<int64_t>(std::floor(l_min / h));
  const auto i_hi = static_cast<int64_t>(std::ceil(l_max / h));
  const auto n = static_cast<size_t>(i_hi - i_lo + 1);
  if (n > o.max_grid) {
    return ResourceExhaustedError("the privacy-loss grid would need " + std::to_string(n) +
                                  " points (more than " + std::to_string(o.max_grid) +
                                  "); use a larger discretization");
  }
  DiscretePld pld{.lo = i_lo, .pmf = std::vector<double>(n + 1, 0.0)};
  for (int64_t i = i_lo; i < i_hi; ++i) {
    const double la = static_cast<double>(i) * h, lb = la + h;
    double xa, xb;
    if (remove) {
      xa = std::max(g.LossInverse(la), x_lo);
      xb = std::min(g.LossInverse(lb), x_hi);
    } else {
      xa = std::max(g.LossInverse(-lb), x_lo);
      xb = std::min(g.LossInverse(-la), x_hi);
    }
    if (!(xb > xa)) continue;
    const double p = remove ? g.M(xa, xb) : g.N0(xa, xb);
    const double q = remove ? g.N0(xa, xb) : g.M(xa, xb);
    SplitCell(pld.pmf, static_cast<size_t>(i - i_lo), la, h, p, q);
  }
  // Tails: losses below the grid are rounded up to its first point, above it to +inf.
  if (remove) {
    pld.pmf[0] += g.M(-kInf, x_lo);
    pld.inf_mass = g.M(x_hi, kInf);
  } else {
    pld.pmf[0] += g.N0(x_hi, kInf);
    pld.inf_mass = g.N0(-kInf, x_lo);
  }
  pld.pmf.resize(n);
  return pld;
}

// Drops FFT round-off below zero and trims each tail holding less than `tail` mass.
void Trim(DiscretePld& d, double tail) {
  for (double& p : d.pmf) p = std::max(p, 0.0);
  size_t first = 0;
  double low = 0;
  while (first + 1 < d.pmf.size() && low + d.pmf[first] < tail) low += d.pmf[first++];
  size_t last = d.pmf.size() - 1;
  double high = 0;
  while (last > first && high + d.pmf[last] < tail) high += d.pmf[last--];
  std::vector<double> kept(d.pmf.begin() + static_cast<std::ptrdiff_t>(first),
                           d.pmf.begin() + static_cast<std::ptrdiff_t>(last) + 1);
  kept.front() += low;
  d.pmf = std::move(kept);
  d.lo += static_cast<int64_t>(first);
  d.inf_mass += high;
}

DiscretePld Compose(const DiscretePld& a, const DiscretePld& b, double tail) {
  DiscretePld c{.lo = a.lo + b.lo,
                .pmf = Convolve(a.pmf, b.pmf),
                .inf_mass = a.inf_mass + b.inf_mass - a.inf_mass * b.inf_mass};
  Trim(c, tail);
  return c;
}

StatusOr<DiscretePld> SelfCompose(DiscretePld base, int64_t steps, const PldOptions& o) {
  DiscretePld result;
  while (steps > 0) {
    if (steps & 1) result = Compose(result, base, o.tail_mass);
    steps >>= 1;
    if (steps > 0) base = Compose(base, base, o.tail_mass);
    if (base.pmf.size() > o.max_grid)
      return ResourceExhaustedError("the composed privacy-loss distribution grew too large");
  }
  return result;
}

double DeltaAt(const DiscretePld& d, double h, double eps) {
  double delta = d.inf_mass;
  for (size_t j = 0; j < d.pmf.size(); ++j) {
    const double l = static_cast<double>(d.lo + static_cast<int64_t>(j)) * h;
    if (l > eps) delta += d.pmf[j] * -std::expm1(eps - l);
  }
  return delta;
}

// The smallest eps >= 0 with DeltaAt(eps) <= delta: on [l_k, l_k+1) the profile is
// inf + S - exp(eps) W with S, W the mass and exp(-l)-weighted mass above l_k.
double EpsilonAt(const DiscretePld& d, double h, double delta) {
  if (d.inf_mass >= delta) return kInf;
  double s = 0, w = 0;
  for (size_t k = d.pmf.size(); k-- > 0;) {
    const double l = static_cast<double>(d.lo + static_cast<int64_t>(k)) * h;
    if (d.inf_mass + s - std::exp(l) * w > delta) break;
    s += d.pmf[k];
    w += d.pmf[k] * std::exp(-l);
  }
  if (w <= 0) return 0;
  return std::max(0.0, std::log((d.inf_mass + s - delta) / w));
}

Status ValidatePldOptions(const PldOptions& o) {
  if (!(o.discretization > 0 && o.discretization <= 1))
    return InvalidArgumentError("PLD discretization must be in (0, 1]");
  if (!(o.tail_mass > 0 && o.tail_mass < 1e-3))
    return InvalidArgumentError("PLD tail mass must be in (0, 1e-3)");
  return OkStatus();
}

// Both composed directions (remove first), or an error.
StatusOr<std::vector<DiscretePld>> ComposedPlds(const SampledGaussian& s, const PldOptions& o) {
  FEDRA_RETURN_IF_ERROR(ValidateSampledGaussian(s));
  FEDRA_RETURN_IF_ERROR(ValidatePldOptions(o));
  const SampledGaussianPair g{.q = s.sampling_rate, .sigma = s.noise_multiplier};
  std::vector<DiscretePld> out;
  for (bool remove : {true, false}) {
    FEDRA_ASSIGN_OR_RETURN(DiscretePld one, SingleStep(g, remove, o));
    FEDRA_ASSIGN_OR_RETURN(DiscretePld all, SelfCompose(std::move(one), s.steps, o));
    out.push_back(std::move(all));
  }
  return out;
}

}  // namespace

StatusOr<double> PldEpsilon(const SampledGaussian& s, double delta, const PldOptions& o) {
  FEDRA_RETURN_IF_ERROR(ValidateDelta(delta));
  FEDRA_ASSIGN_OR_RETURN(auto plds, ComposedPlds(s, o));
  double eps = 0;
  for (const DiscretePld& d : plds) eps = std::max(eps, EpsilonAt(d, o.discretization, delta));
  return eps;
}

StatusOr<double> PldDelta(const SampledGaussian& s, double epsilon, const PldOptions& o) {
  if (!(epsilon >= 0) || !std::isfinite(epsilon))
    return InvalidArgumentError("epsilon must be a finite number >= 0");
  FEDRA_ASSIGN_OR_RETURN(auto plds, ComposedPlds(s, o));
  double delta = 0;
  for (const DiscretePld& d : plds) delta = std::max(delta, DeltaAt(d, o.discretization, epsilon));
  return std::min(delta, 1.0);
}

double GaussianDelta(double z, double eps) {
  auto phi = [](double t) { return 0.5 * std::erfc(-t / std::numbers::sqrt2); };
  return phi(1 / (2 * z) - eps * z) - std::exp(eps) * phi(-1 / (2 * z) - eps * z);
}

StatusOr<double> GaussianEpsilon(double z, double delta) {
  FEDRA_RETURN_IF_ERROR(ValidateSampledGaussian({.noise_multiplier = z}));
  FEDRA_RETURN_IF_ERROR(ValidateDelta(delta));
  if (GaussianDelta(z, 0) <= delta) return 0.0;
  double lo = 0, hi = 1;
  while (GaussianDelta(z, hi) > delta) {
    lo = hi;
    hi *= 2;
    if (hi > 1e6) return InternalError("Gaussian epsilon did not converge");
  }
  for (int i = 0; i < 200 && hi - lo > 1e-12 * hi; ++i) {
    const double mid = 0.5 * (lo + hi);
    (GaussianDelta(z, mid) > delta ? lo : hi) = mid;
  }
  return hi;
}

}  // namespace fedra::dp
