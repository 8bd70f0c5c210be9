#include "apps/secure_sum_flags.h"

#include "fedra/core/logging.h"
#include "fedra/fl/paillier_sum.h"
#include "fedra/fl/secagg_sum.h"

namespace fedra::apps {

void AddSecureSumFlags(CLI::App& app, SecureSumFlags& f) {
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
  app.add_option("--secagg-dropout", f.secagg_dropout,
                 "fractions of clients dropping before each of the 4 stages (simulation)")
      ->expected(4)
      ->capture_default_str();
}

StatusOr<std::unique_ptr<SecureSumSetup>> MakeSecureSum(const SecureSumFlags& f,
                                                        const Strategy& strategy, size_t threads,
                                                        uint64_t seed) {
  auto setup = std::make_unique<SecureSumSetup>();
  if (f.kind == "none") return setup;
  if (f.kind != "paillier" && f.kind != "secagg") {
    return InvalidArgumentError("unknown --secure-sum '" + f.kind +
                                "' (expected none, paillier or secagg)");
  }
  if (strategy.mode() == AggregationMode::kIndividual) {
    return FailedPreconditionError("strategy " + strategy.Name() +
                                   " needs every client's update, but --secure-sum " + f.kind +
                                   " only reveals their sum; choose a sum-based strategy");
  }
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
