// The round's sums under Paillier encryption: each client's terms (the accumulator its
// strategy Fold() produced: weighted update sums and scalars such as the weight) are flattened
// in name order, packed and encrypted under the public key; the server-side EncryptedAggregator
// adds ciphertexts it cannot read; Finish() decrypts only the total, with the secret key that
// in a deployment only clients hold (in the simulation this process plays the key-holding
// client). Every term must lie within packing.max_abs_value (weighted terms are
// num_examples x value: clip updates, or raise the bound) and a round may hold at most
// packing.max_clients contributions; otherwise the contribution is refused with the reason.
// Sums come back within Packer::SumErrorBound per coordinate (see docs/privacy-paillier.md).
#ifndef FEDRA_FL_PAILLIER_SUM_H_
#define FEDRA_FL_PAILLIER_SUM_H_

#include <memory>

#include "fedra/core/thread_pool.h"
#include "fedra/fl/secure_sum.h"
#include "fedra/privacy/paillier/packing.h"
#include "fedra/privacy/paillier/secret_key.h"

namespace fedra {

struct PaillierSumOptions {
  paillier::PackingConfig packing{.max_abs_value = 1e4, .max_weight = 1, .precision_bits = 16};
  ThreadPool* pool = nullptr;  // encrypt/add/decrypt in parallel when given (not owned)
};

// The server side sees only `key.public_key()`; `key` decrypts the total. InvalidArgument for a
// bad packing configuration.
StatusOr<std::unique_ptr<SecureSum>> NewPaillierSum(const paillier::SecretKey& key,
                                                    const PaillierSumOptions& options);

}  // namespace fedra

#endif  // FEDRA_FL_PAILLIER_SUM_H_
