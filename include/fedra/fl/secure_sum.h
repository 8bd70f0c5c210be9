// SecureSum: how a round's sums are formed when the aggregating code must not see any single
// client's terms (Paillier encryption, secure aggregation). With RoundDriverOptions::secure_sum
// set, the round driver folds each client's result into that client's own UpdateAccumulator
// with the strategy's Fold() — the client-side step, which in a deployment runs on the client —
// passes it to Contribute(), and after the round asks Finish() for the sums over all
// contributions. AggregateFit() then receives them exactly as it would plain sums, so every
// sum-based strategy works unchanged; strategies that need individual updates (median, Krum)
// are refused by the driver with a message saying why.
//
// Thread-safety: not thread-safe; the driver calls one method at a time.
#ifndef FEDRA_FL_SECURE_SUM_H_
#define FEDRA_FL_SECURE_SUM_H_

#include <cstdint>
#include <string>

#include "fedra/core/status.h"
#include "fedra/fl/types.h"
#include "fedra/fl/update_accumulator.h"

namespace fedra {

// In secure rounds over gRPC the clients report no per-client statistics in the clear (their
// example count would give away the weight, their loss and update norm something of the
// update); each adds its loss x examples and its examples as these two scalars to its folded
// terms, so the round's mean training loss comes out of the protected total. Strategies
// ignore scalars they do not read.
inline constexpr char kSecureLossScalar[] = "fedra.loss_x_examples";
inline constexpr char kSecureExamplesScalar[] = "fedra.examples";

class SecureSum {
 public:
  virtual ~SecureSum() = default;
  virtual std::string Name() const = 0;
  // Starts a round (forgetting anything of the previous one).
  virtual Status Begin(int round) = 0;
  // One client's terms. An error rejects this client's contribution only (it counts as a
  // failed client); the sum stays as it was.
  virtual Status Contribute(ClientId client, const UpdateAccumulator& terms) = 0;
  struct Total {
    UpdateAccumulator sums;
    size_t dropped = 0;     // accepted contributions the protocol lost (clients that dropped out)
    uint64_t bytes_up = 0;  // bytes the clients sent for the protocol (0: not measured)
  };
  // The sums over every contribution that made it through the protocol. REQUIRES: at least one
  // was accepted.
  virtual StatusOr<Total> Finish() = 0;
};

}  // namespace fedra

#endif  // FEDRA_FL_SECURE_SUM_H_
