// Flags that put the round's sums under Paillier encryption or secure aggregation: fedra-sim
// runs every party in process (MakeSecureSum); fedra-server runs the protocol with its
// clients over gRPC (ServerSecureOptions).
#ifndef FEDRA_APPS_SECURE_SUM_FLAGS_H_
#define FEDRA_APPS_SECURE_SUM_FLAGS_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fedra/core/thread_pool.h"
#include "fedra/fl/secure_sum.h"
#include "fedra/fl/strategy.h"
#include "fedra/fl/strategy_config.h"
#include "fedra/net/server.h"
#include "fedra/privacy/paillier/secret_key.h"

// Only the name: CLI11 is expensive to compile, so only the files that add flags include it.
namespace CLI {
class App;
}  // namespace CLI

namespace fedra::apps {

struct SecureSumFlags {
  std::string kind = "none";  // none, paillier, secagg
  int paillier_bits = 2048;
  double paillier_max_abs = 1e5;
  int paillier_precision_bits = 16;
  double secagg_clip = 1e5;
  uint32_t secagg_neighbours = 0;
  uint32_t secagg_threshold = 0;
  std::vector<double> secagg_dropout = {0, 0, 0, 0};
  // fedra-server only.
  std::string paillier_public_key;
  uint32_t paillier_max_clients = 1024;
  double stage_deadline = 60;
};

void AddSecureSumFlags(CLI::App& app, SecureSumFlags& flags, bool server = false);

// Owns what the SecureSum needs (in the simulation this process plays every party, so it
// also holds the Paillier key pair).
struct SecureSumSetup {
  std::optional<paillier::SecretKey> key;
  std::unique_ptr<ThreadPool> pool;
  std::unique_ptr<SecureSum> sum;  // null for kind "none"
};

// FailedPrecondition if `strategy` needs individual updates; InvalidArgument for bad flags.
StatusOr<std::unique_ptr<SecureSumSetup>> MakeSecureSum(const SecureSumFlags& flags,
                                                        const Strategy& strategy, size_t threads,
                                                        uint64_t seed);

// The gRPC server's secure rounds for these flags and strategy: clients fold with the
// strategy's name, or "dp" for DP-FedAvg (fixed clip, clipped on the clients).
// FailedPrecondition for a strategy that needs individual updates or adaptive DP clipping;
// InvalidArgument for bad flags.
StatusOr<SecureRoundOptions> ServerSecureOptions(const SecureSumFlags& flags,
                                                 const StrategyConfig& strategy_config,
                                                 const Strategy& strategy);

}  // namespace fedra::apps

#endif  // FEDRA_APPS_SECURE_SUM_FLAGS_H_
