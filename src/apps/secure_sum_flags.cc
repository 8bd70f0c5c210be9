#include "apps/secure_sum_flags.h"

#include <CLI/CLI.hpp>

#include "fedra/core/logging.h"
#include "fedra/fl/paillier_sum.h"
#include "fedra/fl/secagg_sum.h"

namespace fedra::apps {

namespace {

// REQUIRES: f.kind != "none".
Status CheckChoice(const SecureSumFlags& f, const Strategy& strategy) {
  if (f.kind != "paillier" && f.kind != "secagg") {
    return InvalidArgumentError("unknown --secure-sum '" + f.kind +
                                "' (expected none, paillier or secagg)");
  }
  if (strategy.mode() == AggregationMode::kIndividual) {
    return FailedPreconditionError("strategy " + strategy.Name() +
                                   " needs every client's update, but --secure-sum " + f.kind +
                                   " only reveals their sum; choose a sum-based strategy");
  }
  return OkStatus();
}

}  // namespace

void AddSecureSumFlags(CLI::App& app, SecureSumFlags& f, bool server) {
  app.add_option("--secure-sum", f.kind,
                 "none, paillier (the server adds ciphertexts) or secagg (pairwise masking); "
                 "needs a sum-based strategy")
      ->capture_default_str();
  app.add_option("--paillier-bits", f.paillier_bits, "Paillier modulus bits: 2048 or 3072")
      ->capture_default_str();
  app.add_option("--paillier-max-abs", f.paillier_max_abs,
                 "bound on every encrypted term (weighted: examples x update value)")
      ->capture_default_str();
  app.add_option("--paillier-precision-bits", f.paillier_precision_bits,
                 "fractional bits kept of every term")
      ->capture_default_str();
  app.add_option("--secagg-clip", f.secagg_clip,
                 "quantizer range [-clip, clip] for every masked term (weighted)")
      ->capture_default_str();
  app.add_option("--secagg-neighbours", f.secagg_neighbours,
                 "SecAgg+ neighbourhood size k (even; 0: every client, classic SecAgg)")
      ->capture_default_str();
  app.add_option("--secagg-threshold", f.secagg_threshold,
                 "Shamir threshold t (0: n/2+1 classic, k/2+1 SecAgg+)")
      ->capture_default_str();
  if (!server) {
    app.add_option("--secagg-dropout", f.secagg_dropout,
                   "fractions of clients dropping before each of the 4 stages (simulation)")
        ->expected(4)
        ->capture_default_str();
    return;
  }
  app.add_option("--paillier-public-key", f.paillier_public_key,
                 "Paillier public key (fedra-keygen paillier); the secret key stays with the "
                 "clients")
      ->check(CLI::ExistingFile);
  app.add_option("--paillier-max-clients", f.paillier_max_clients,
                 "most encrypted updates one round may add (slot headroom)")
      ->capture_default_str();
  app.add_option("--stage-deadline", f.stage_deadline,
                 "seconds a client has to answer one secure-aggregation/decryption stage")
      ->capture_default_str();
}

StatusOr<SecureRoundOptions> ServerSecureOptions(const SecureSumFlags& f, const StrategyConfig& sc,
                                                 const Strategy& strategy) {
  SecureRoundOptions o;
  if (f.kind == "none") return o;
  FEDRA_RETURN_IF_ERROR(CheckChoice(f, strategy));
  o.protocol = f.kind;
  o.fold = sc.name;
  if (sc.dp.mode != DpMode::kNone) {
    if (sc.dp.adaptive_quantile > 0) {
      return FailedPreconditionError(
          "adaptive DP clipping needs each client's clipping bit, which a secure sum hides; use "
          "a fixed --dp-clip with --secure-sum");
    }
    if (sc.dp.mode == DpMode::kCentral && !sc.dp.clip_on_client) {
      return FailedPreconditionError(
          "with --secure-sum the server never sees an update to clip: add --dp-clip-on-client");
    }
    o.fold = "dp";
  }
  // Clients fold by the strategy's spec, announced in every task (no strategy by name).
  FEDRA_ASSIGN_OR_RETURN(o.fold_spec, CheckedFoldSpec(strategy));
  o.stage_deadline_seconds = f.stage_deadline;
  o.secagg_clip = f.secagg_clip;
  o.secagg_neighbours = f.secagg_neighbours;
  o.secagg_threshold = f.secagg_threshold;
  o.paillier_public_key_file = f.paillier_public_key;
  o.paillier_packing.max_abs_value = f.paillier_max_abs;
  o.paillier_packing.precision_bits = f.paillier_precision_bits;
  o.paillier_packing.max_clients = f.paillier_max_clients;
  if (f.kind == "paillier" && f.paillier_public_key.empty()) {
    return InvalidArgumentError("--secure-sum paillier needs --paillier-public-key");
  }
  return o;
}

StatusOr<std::unique_ptr<SecureSumSetup>> MakeSecureSum(const SecureSumFlags& f,
                                                        const Strategy& strategy, size_t threads,
                                                        uint64_t seed) {
  auto setup = std::make_unique<SecureSumSetup>();
  if (f.kind == "none") return setup;
  FEDRA_RETURN_IF_ERROR(CheckChoice(f, strategy));
  if (f.kind == "paillier") {
    Logger("sim")->info("generating a {}-bit Paillier key pair", f.paillier_bits);
    FEDRA_ASSIGN_OR_RETURN(auto key, paillier::GenerateKeyPair({.modulus_bits = f.paillier_bits}));
    setup->key.emplace(std::move(key));
    setup->pool = std::make_unique<ThreadPool>(std::max<size_t>(1, threads));
    PaillierSumOptions o;
    o.packing.max_abs_value = f.paillier_max_abs;
    o.packing.precision_bits = f.paillier_precision_bits;
    o.packing.max_clients = 1 << 16;
    o.pool = setup->pool.get();
    FEDRA_ASSIGN_OR_RETURN(setup->sum, NewPaillierSum(*setup->key, o));
    return setup;
  }
  SecAggSumOptions o{.seed = seed};
  o.protocol.clip = f.secagg_clip;
  o.protocol.protocol.neighbours = f.secagg_neighbours;
  o.protocol.protocol.threshold = f.secagg_threshold;
  o.protocol.threads = std::max<size_t>(1, threads);
  for (size_t i = 0; i < 4 && i < f.secagg_dropout.size(); ++i) {
    o.protocol.dropout.fraction[i] = f.secagg_dropout[i];
  }
  FEDRA_ASSIGN_OR_RETURN(setup->sum, NewSecAggSum(o));
  return setup;
}

}  // namespace fedra::apps
