// fedra-privacy: differential-privacy accounting from the command line.
//   fedra-privacy epsilon --noise-multiplier Z --sampling-rate Q --steps T --delta D
//                         [--accountant rdp|pld|both]
//   fedra-privacy noise --target-epsilon E --sampling-rate Q --steps T --delta D
//                       [--accountant rdp|pld]
// Explanations go to the first lines; the answer alone is the last line.
#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>

#include "fedra/privacy/dp/calibration.h"
#include "fedra/privacy/dp/pld_accountant.h"
#include "fedra/privacy/dp/rdp_accountant.h"

namespace {

struct Flags {
  double noise_multiplier = 0, sampling_rate = 0, delta = 1e-5, target_epsilon = 0;
  int64_t steps = 0;
  std::string accountant = "rdp", orders = "default", conversion = "improved";
  double pld_discretization = fedra::dp::PldOptions{}.discretization;
};

fedra::StatusOr<double> RdpWithDetails(const Flags& f) {
  namespace dp = fedra::dp;
  if (f.orders != "default" && f.orders != "tf")
    return fedra::InvalidArgumentError("--orders must be default or tf, got '" + f.orders + "'");
  if (f.conversion != "improved" && f.conversion != "classic") {
    return fedra::InvalidArgumentError("--conversion must be improved or classic, got '" +
                                       f.conversion + "'");
  }
  const dp::SampledGaussian s{
      .noise_multiplier = f.noise_multiplier, .sampling_rate = f.sampling_rate, .steps = f.steps};
  FEDRA_RETURN_IF_ERROR(dp::ValidateSampledGaussian(s));
  FEDRA_RETURN_IF_ERROR(dp::ValidateDelta(f.delta));
  dp::RdpAccountant acc(f.orders == "tf" ? dp::TfPrivacyRdpOrders() : dp::DefaultRdpOrders());
  FEDRA_RETURN_IF_ERROR(acc.Compose(s.sampling_rate, s.noise_multiplier, s.steps));
  const auto conv =
      f.conversion == "classic" ? dp::RdpConversion::kClassic : dp::RdpConversion::kImproved;
  FEDRA_ASSIGN_OR_RETURN(auto best, dp::RdpToEpsilon(acc.orders(), acc.rdp(), f.delta, conv));
  std::printf("rdp epsilon %.6g (order %g, %s conversion, %s orders)\n", best.epsilon, best.order,
              f.conversion.c_str(), f.orders.c_str());
  return best.epsilon;
}

fedra::StatusOr<double> PldWithDetails(const Flags& f) {
  namespace dp = fedra::dp;
  const dp::SampledGaussian s{
      .noise_multiplier = f.noise_multiplier, .sampling_rate = f.sampling_rate, .steps = f.steps};
  FEDRA_ASSIGN_OR_RETURN(double eps,
                         dp::PldEpsilon(s, f.delta, {.discretization = f.pld_discretization}));
  std::printf("pld epsilon %.6g (discretization %g)\n", eps, f.pld_discretization);
  return eps;
}

fedra::Status RunEpsilon(const Flags& f) {
  if (f.accountant != "rdp" && f.accountant != "pld" && f.accountant != "both") {
    return fedra::InvalidArgumentError("unknown accountant '" + f.accountant +
                                       "' (expected rdp, pld or both)");
  }
  FEDRA_RETURN_IF_ERROR(fedra::dp::ValidateSampledGaussian({.noise_multiplier = f.noise_multiplier,
                                                            .sampling_rate = f.sampling_rate,
                                                            .steps = f.steps}));
  FEDRA_RETURN_IF_ERROR(fedra::dp::ValidateDelta(f.delta));
  std::printf("Poisson-subsampled Gaussian: z = %g, q = %g, steps = %lld, delta = %g\n",
              f.noise_multiplier, f.sampling_rate, static_cast<long long>(f.steps), f.delta);
  double answer = 0;
  if (f.accountant != "pld") {
    FEDRA_ASSIGN_OR_RETURN(answer, RdpWithDetails(f));
  }
  if (f.accountant != "rdp") {
    FEDRA_ASSIGN_OR_RETURN(double pld, PldWithDetails(f));
    answer = f.accountant == "both" ? std::min(answer, pld) : pld;  // both are upper bounds
  }
  std::printf("%.6g\n", answer);
  return fedra::OkStatus();
}

fedra::Status RunNoise(const Flags& f) {
  FEDRA_ASSIGN_OR_RETURN(auto kind, fedra::dp::ParseAccountantKind(f.accountant));
  FEDRA_ASSIGN_OR_RETURN(double z, fedra::dp::CalibrateNoiseMultiplier(
                                       kind, f.target_epsilon, f.delta, f.sampling_rate, f.steps));
  std::printf("noise multiplier for epsilon <= %g at delta %g, q = %g, %lld steps (%s):\n",
              f.target_epsilon, f.delta, f.sampling_rate, static_cast<long long>(f.steps),
              f.accountant.c_str());
  std::printf("%.6g\n", z);
  return fedra::OkStatus();
}

void AddCommonFlags(CLI::App& app, Flags& f) {
  app.add_option("--sampling-rate,-q", f.sampling_rate,
                 "probability q that a record/client is sampled per step, in (0, 1]")
      ->required();
  app.add_option("--steps,-t", f.steps, "number of steps (rounds)")->required();
  app.add_option("--delta,-d", f.delta, "target delta in (0, 1)")->capture_default_str();
  app.add_option("--pld-discretization", f.pld_discretization, "PLD grid spacing")
      ->capture_default_str();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"fedra-privacy: epsilon of a DP-SGD / DP-FedAvg run, or the noise it needs"};
  app.require_subcommand(1);
  Flags f;
  CLI::App* eps = app.add_subcommand("epsilon", "epsilon spent by a Poisson-subsampled Gaussian");
  eps->add_option("--noise-multiplier,-z", f.noise_multiplier, "noise stddev / clip norm, > 0")
      ->required();
  AddCommonFlags(*eps, f);
  eps->add_option("--accountant", f.accountant, "rdp, pld or both")->capture_default_str();
  eps->add_option("--orders", f.orders, "RDP orders: default (dp_accounting) or tf (TF Privacy)")
      ->capture_default_str();
  eps->add_option("--conversion", f.conversion, "RDP to (eps, delta): improved or classic")
      ->capture_default_str();
  CLI::App* noise = app.add_subcommand("noise", "noise multiplier for a target epsilon");
  noise->add_option("--target-epsilon,-e", f.target_epsilon, "target epsilon, > 0")->required();
  AddCommonFlags(*noise, f);
  noise->add_option("--accountant", f.accountant, "rdp or pld")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  const fedra::Status s = eps->parsed() ? RunEpsilon(f) : RunNoise(f);
  if (!s.ok()) {
    std::fprintf(stderr, "fedra-privacy: %s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}
