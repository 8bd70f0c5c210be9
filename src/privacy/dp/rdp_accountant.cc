#include "fedra/privacy/dp/rdp_accountant.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "privacy/dp/log_math.h"

namespace fedra::dp {
namespace {

// log C(n, k) via log-gamma.
double LogComb(double n, double k) {
  return std::lgamma(n + 1) - std::lgamma(k + 1) - std::lgamma(n - k + 1);
}

// log(A_alpha) for integer alpha, 0 < q < 1: the binomial expansion of
// E_{x~N(0,s^2)}[((1-q) + q exp((2x-1)/(2 s^2)))^alpha].
double LogAInt(double q, double sigma, int alpha) {
  double log_a = -kInf;
  const double log_q = std::log(q), log_1mq = std::log1p(-q);
  for (int i = 0; i <= alpha; ++i) {
    const double log_coef = LogComb(alpha, i) + i * log_q + (alpha - i) * log_1mq;
    log_a = LogAdd(log_a, log_coef + (static_cast<double>(i) * i - i) / (2 * sigma * sigma));
  }
  return log_a;
}

// log(A_alpha) for fractional alpha, 0 < q < 1: the integral split at z0 where the two
// densities cross, each half expanded in a binomial series with erfc tails; stops when both
// terms fall below exp(-30), like dp_accounting.
double LogAFrac(double q, double sigma, double alpha) {
  double log_a0 = -kInf, log_a1 = -kInf;
  const double z0 = sigma * sigma * std::log(1 / q - 1) + 0.5;
  const double log_q = std::log(q), log_1mq = std::log1p(-q);
  double coef = 1.0;  // binom(alpha, i), updated in place
  for (int i = 0; i < 100000; ++i) {
    if (i > 0) coef *= (alpha - (i - 1)) / i;
    const double log_coef = std::log(std::abs(coef));
    const double j = alpha - i;
    const double log_t0 = log_coef + i * log_q + j * log_1mq;
    const double log_t1 = log_coef + j * log_q + i * log_1mq;
    const double log_e0 = std::log(0.5) + LogErfc((i - z0) / (std::sqrt(2.0) * sigma));
    const double log_e1 = std::log(0.5) + LogErfc((z0 - j) / (std::sqrt(2.0) * sigma));
    const double log_s0 = log_t0 + (static_cast<double>(i) * i - i) / (2 * sigma * sigma) + log_e0;
    const double log_s1 = log_t1 + (j * j - j) / (2 * sigma * sigma) + log_e1;
    if (coef > 0) {
      log_a0 = LogAdd(log_a0, log_s0);
      log_a1 = LogAdd(log_a1, log_s1);
    } else {
      log_a0 = LogSub(log_a0, log_s0);
      log_a1 = LogSub(log_a1, log_s1);
    }
    if (std::max(log_s0, log_s1) < -30) break;
  }
  return LogAdd(log_a0, log_a1);
}

double RdpOneOrder(double q, double z, double alpha) {
  if (q == 1.0) return alpha / (2 * z * z);
  const double log_a = alpha == std::floor(alpha) && alpha < 1e6
                           ? LogAInt(q, z, static_cast<int>(alpha))
                           : LogAFrac(q, z, alpha);
  return log_a / (alpha - 1);
}

Status ValidateOrders(std::span<const double> orders) {
  if (orders.empty()) return InvalidArgumentError("RDP needs at least one order");
  for (double a : orders) {
    if (!(a > 1) || !std::isfinite(a))
      return InvalidArgumentError("RDP orders must be finite and > 1, got " + std::to_string(a));
  }
  return OkStatus();
}

}  // namespace

Status ValidateSampledGaussian(const SampledGaussian& s) {
  if (!(s.noise_multiplier > 0) || !std::isfinite(s.noise_multiplier)) {
    return InvalidArgumentError("noise multiplier must be a finite number > 0, got " +
                                std::to_string(s.noise_multiplier));
  }
  if (!(s.sampling_rate > 0 && s.sampling_rate <= 1)) {
    return InvalidArgumentError("sampling rate q must be in (0, 1], got " +
                                std::to_string(s.sampling_rate));
  }
  if (s.steps < 0)
    return InvalidArgumentError("steps must be >= 0, got " + std::to_string(s.steps));
  return OkStatus();
}

Status ValidateDelta(double delta) {
  if (!(delta > 0 && delta < 1))
    return InvalidArgumentError("delta must be in (0, 1), got " + std::to_string(delta));
  return OkStatus();
}

const std::vector<double>& DefaultRdpOrders() {
  static const std::vector<double> orders = [] {
    std::vector<double> o;
    for (int i = 1; i < 100; ++i) o.push_back(1 + i / 10.0);
    for (int a = 11; a < 64; ++a) o.push_back(a);
    for (double a : {128, 256, 512, 1024}) o.push_back(a);
    return o;
  }();
  return orders;
}

const std::vector<double>& LegacyRdpOrders() {
  static const std::vector<double> orders = {2,  3,  4,  5,  6,  7,  8,  9,   10,  12,  14,
                                             16, 20, 24, 28, 32, 48, 64, 128, 256, 512, 1024};
  return orders;
}

std::vector<double> TfPrivacyRdpOrders() {
  std::vector<double> orders;
  for (int i = 1; i < 100; ++i) orders.push_back(1 + i / 10.0);
  for (int a = 12; a < 64; ++a) orders.push_back(a);
  return orders;
}

StatusOr<std::vector<double>> SampledGaussianRdp(double sampling_rate, double noise_multiplier,
                                                 std::span<const double> orders) {
  FEDRA_RETURN_IF_ERROR(ValidateSampledGaussian(
      {.noise_multiplier = noise_multiplier, .sampling_rate = sampling_rate, .steps = 1}));
  FEDRA_RETURN_IF_ERROR(ValidateOrders(orders));
  std::vector<double> rdp;
  rdp.reserve(orders.size());
  for (double a : orders) rdp.push_back(RdpOneOrder(sampling_rate, noise_multiplier, a));
  return rdp;
}

StatusOr<EpsilonAndOrder> RdpToEpsilon(std::span<const double> orders, std::span<const double> rdp,
                                       double delta, RdpConversion conversion) {
  FEDRA_RETURN_IF_ERROR(ValidateDelta(delta));
  FEDRA_RETURN_IF_ERROR(ValidateOrders(orders));
  if (rdp.size() != orders.size()) return InvalidArgumentError("one RDP value per order expected");
  EpsilonAndOrder best{.epsilon = kInf, .order = orders[0]};
  for (size_t i = 0; i < orders.size(); ++i) {
    const double a = orders[i], r = rdp[i];
    if (std::isnan(r) || r < 0)
      return InvalidArgumentError("RDP values must be >= 0, got " + std::to_string(r));
    double eps = kInf;
    if (conversion == RdpConversion::kClassic) {
      eps = r - std::log(delta) / (a - 1);
    } else if (delta * delta + std::expm1(-r) > 0) {
      eps = 0;  // the KL bound delta <= sqrt(1 - exp(-rdp)) already holds
    } else if (a > 1.01) {
      eps = r + std::log1p(-1 / a) - std::log(delta * a) / (a - 1);
    }
    if (eps < best.epsilon) best = {.epsilon = eps, .order = a};
  }
  best.epsilon = std::max(0.0, best.epsilon);
  return best;
}

RdpAccountant::RdpAccountant(std::vector<double> orders)
    : orders_(std::move(orders)), rdp_(orders_.size(), 0.0) {}

Status RdpAccountant::Compose(double sampling_rate, double noise_multiplier, int64_t count) {
  if (count < 0) return InvalidArgumentError("step count must be >= 0");
  FEDRA_ASSIGN_OR_RETURN(auto step, SampledGaussianRdp(sampling_rate, noise_multiplier, orders_));
  for (size_t i = 0; i < rdp_.size(); ++i) rdp_[i] += static_cast<double>(count) * step[i];
  return OkStatus();
}

StatusOr<double> RdpAccountant::Epsilon(double delta, RdpConversion conversion) const {
  FEDRA_ASSIGN_OR_RETURN(auto best, RdpToEpsilon(orders_, rdp_, delta, conversion));
  return best.epsilon;
}

Status RdpAccountant::SetRdp(std::vector<double> rdp) {
  if (rdp.size() != orders_.size()) {
    return InvalidArgumentError("accountant state has " + std::to_string(rdp.size()) +
                                " RDP values, expected one per order (" +
                                std::to_string(orders_.size()) + ")");
  }
  for (double r : rdp) {
    if (!(r >= 0) || !std::isfinite(r))
      return InvalidArgumentError("accountant state holds a negative or non-finite RDP value");
  }
  rdp_ = std::move(rdp);
  return OkStatus();
}

StatusOr<double> RdpEpsilon(const SampledGaussian& s, double delta, RdpConversion conversion,
                            std::span<const double> orders) {
  FEDRA_RETURN_IF_ERROR(ValidateSampledGaussian(s));
  FEDRA_RETURN_IF_ERROR(ValidateDelta(delta));
  const std::span<const double> use = orders.empty() ? DefaultRdpOrders() : orders;
  RdpAccountant acc({use.begin(), use.end()});
  FEDRA_RETURN_IF_ERROR(acc.Compose(s.sampling_rate, s.noise_multiplier, s.steps));
  return acc.Epsilon(delta, conversion);
}

}  // namespace fedra::dp
