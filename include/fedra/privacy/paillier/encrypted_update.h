// Paillier in federated learning, transport-agnostic: a client encrypts its weighted update
// (EncryptUpdate), the bytes travel however the transport likes (Serialize/Parse), the server
// adds them without being able to read them (EncryptedAggregator, encrypted_aggregator.h), and a
// key holder decrypts only the sum (DecryptAggregate).
//
// Who sees what: clients hold the secret key; the server holds only a PublicKey and sees
// ciphertexts, each update's length, weight-free metadata (key id, packing fingerprint, number
// of contributions) and nothing of any value or weight.
//
// Thread-safety: free functions; concurrent calls on distinct data are safe.
#ifndef FEDRA_PRIVACY_PAILLIER_ENCRYPTED_UPDATE_H_
#define FEDRA_PRIVACY_PAILLIER_ENCRYPTED_UPDATE_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fedra/core/status.h"
#include "fedra/core/thread_pool.h"
#include "fedra/privacy/paillier/opening.h"
#include "fedra/privacy/paillier/packing.h"
#include "fedra/privacy/paillier/public_key.h"
#include "fedra/privacy/paillier/secret_key.h"

namespace fedra::paillier {

// Packed ciphertexts of one update, or of a sum of num_contributions updates.
struct EncryptedUpdate {
  KeyId key_id{};
  uint64_t packing_fingerprint = 0;  // Packer::fingerprint()
  uint32_t num_contributions = 0;
  uint64_t num_values = 0;  // model parameters (the weight slot not counted)
  std::vector<Ciphertext> ciphertexts;
};

// Packs weight * update (and the weight) per `config` and encrypts every plaintext, in parallel
// over `pool` when given. InvalidArgument for a value or weight out of the configured range.
StatusOr<EncryptedUpdate> EncryptUpdate(const PublicKey& key, std::span<const float> update,
                                        uint32_t weight, const PackingConfig& config,
                                        ThreadPool* pool = nullptr);
// The same for a client holding the secret key: the same wire output and ciphertext
// distribution, encrypted with SecretKey::Encrypt (about 1.6x as fast).
StatusOr<EncryptedUpdate> EncryptUpdate(const SecretKey& key, std::span<const float> update,
                                        uint32_t weight, const PackingConfig& config,
                                        ThreadPool* pool = nullptr);

// Wire form: "FPAU", version, key id, packing fingerprint, contributions, values, ciphertext
// width and count (little-endian), then the fixed-width big-endian ciphertexts.
std::string SerializeEncryptedUpdate(const EncryptedUpdate& update);
// Strict inverse of SerializeEncryptedUpdate for updates under `key`: DataLoss for a truncated
// or malformed message or a ciphertext not in (0, n^2); FailedPrecondition for another key id.
StatusOr<EncryptedUpdate> ParseEncryptedUpdate(const PublicKey& key, std::string_view bytes);

struct DecryptedAggregate {
  std::vector<double> weighted_sum;  // sum_i w_i v_i
  uint64_t total_weight = 0;         // sum_i w_i
  uint32_t num_contributions = 0;
  double sum_error_bound = 0;  // per coordinate of weighted_sum (Packer::SumErrorBound)

  // weighted_sum / total_weight; per coordinate within sum_error_bound / total_weight.
  std::vector<double> WeightedMean() const;
};

// Decrypts and unpacks an aggregate. FailedPrecondition for another key or packing; the errors
// of Packer::Unpack for overflow.
StatusOr<DecryptedAggregate> DecryptAggregate(const SecretKey& key, const EncryptedUpdate& sum,
                                              const PackingConfig& config,
                                              ThreadPool* pool = nullptr);

// Verifiable decryption of an aggregate (opening.h), split between its two parties. The key
// holder opens every ciphertext of `sum` after the checks of DecryptAggregate; whoever holds
// the public key verifies the openings against the ciphertexts it computed itself and only
// then unpacks them: DataLoss for a forged opening, otherwise DecryptAggregate's result.
StatusOr<std::vector<Opening>> OpenAggregate(const SecretKey& key, const EncryptedUpdate& sum,
                                             const PackingConfig& config,
                                             ThreadPool* pool = nullptr);
StatusOr<DecryptedAggregate> VerifyAndUnpackAggregate(const PublicKey& key,
                                                      const EncryptedUpdate& sum,
                                                      const PackingConfig& config,
                                                      std::span<const Opening> openings,
                                                      ThreadPool* pool = nullptr);

}  // namespace fedra::paillier

#endif  // FEDRA_PRIVACY_PAILLIER_ENCRYPTED_UPDATE_H_
