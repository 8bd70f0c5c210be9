// EncryptedAggregator: the server side of Paillier aggregation. Folds EncryptedUpdates into a
// running homomorphic sum as they arrive, so memory is O(model) whatever the number of clients.
// It is built from a PublicKey, which cannot decrypt: the server never holds a secret key.
//
// Each fold is one Montgomery multiplication per ciphertext (the Montgomery factors R^-1 that
// pile up are removed once, in Result()).
//
// Thread-safety: not thread-safe; fold updates one at a time (each fold may itself run in
// parallel over a ThreadPool).
#ifndef FEDRA_PRIVACY_PAILLIER_ENCRYPTED_AGGREGATOR_H_
#define FEDRA_PRIVACY_PAILLIER_ENCRYPTED_AGGREGATOR_H_

#include <cstddef>
#include <cstdint>
#include <memory>

#include "fedra/core/status.h"
#include "fedra/core/thread_pool.h"
#include "fedra/privacy/paillier/encrypted_update.h"
#include "fedra/privacy/paillier/packing.h"
#include "fedra/privacy/paillier/public_key.h"

namespace fedra::paillier {

class EncryptedAggregator {
 public:
  // An empty sum of updates of `num_values` values. InvalidArgument for a bad packing config.
  static StatusOr<EncryptedAggregator> Create(const PublicKey& key, const PackingConfig& config,
                                              size_t num_values);
  ~EncryptedAggregator();
  EncryptedAggregator(EncryptedAggregator&&) noexcept;
  EncryptedAggregator& operator=(EncryptedAggregator&&) noexcept;

  // Adds `update` to the sum, or leaves the sum unchanged and returns: FailedPrecondition for
  // another key id or packing, InvalidArgument for another length, DataLoss for an invalid
  // ciphertext, OutOfRange if the sum would hold more than max_clients contributions.
  Status Add(const EncryptedUpdate& update, ThreadPool* pool = nullptr);

  uint32_t num_contributions() const;
  // The encrypted sum so far. FailedPrecondition if nothing was added.
  StatusOr<EncryptedUpdate> Result(ThreadPool* pool = nullptr) const;

 private:
  struct State;
  explicit EncryptedAggregator(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace fedra::paillier

#endif  // FEDRA_PRIVACY_PAILLIER_ENCRYPTED_AGGREGATOR_H_
