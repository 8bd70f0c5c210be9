// The round's sums under secure aggregation (Bonawitz et al. 2017; SecAgg+ when
// protocol.neighbours > 0): each client's terms (its strategy Fold() accumulator, flattened in
// name order, the weight inside) are quantized into Z_2^32 and masked; Finish() runs the four
// stages in process with the configured dropout schedule and returns the unmasked sum of the
// survivors' terms — clients that drop before the masked-input stage are simply not in it
// (their weight neither), so FedAvg's weighted mean stays right. Every term must lie in
// [-clip, clip] (weighted terms are num_examples x value); larger ones are clipped by the
// quantizer. A round with fewer survivors than the threshold fails with the protocol's message
// and leaves the model unchanged. Over gRPC the same protocol runs between fedra::Server and its
// clients as STAGE tasks (ServerOptions::secure).
#ifndef FEDRA_FL_SECAGG_SUM_H_
#define FEDRA_FL_SECAGG_SUM_H_

#include <memory>

#include "fedra/fl/secure_sum.h"
#include "fedra/privacy/secagg/runner.h"

namespace fedra {

struct SecAggSumOptions {
  secagg::SecureAggregationOptions protocol{.clip = 1e4};
  uint64_t seed = 1;  // public randomness of the dropout simulation (not a secret)
};

StatusOr<std::unique_ptr<SecureSum>> NewSecAggSum(const SecAggSumOptions& options);

}  // namespace fedra

#endif  // FEDRA_FL_SECAGG_SUM_H_
