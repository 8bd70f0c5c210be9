#include "fedra/fl/paillier_sum.h"

#include <optional>
#include <vector>

#include "fedra/privacy/paillier/encrypted_aggregator.h"
#include "fedra/privacy/paillier/encrypted_update.h"
#include "fl/secure_sum_terms.h"

namespace fedra {
namespace {

class PaillierSum final : public SecureSum {
 public:
  PaillierSum(const paillier::SecretKey& key, PaillierSumOptions options)
      : key_(key), server_key_(key.public_key()), options_(options) {}

  std::string Name() const override { return "Paillier encryption"; }

  Status Begin(int) override {
    layout_.reset();
    aggregator_.reset();
    return OkStatus();
  }

  Status Contribute(ClientId, const UpdateAccumulator& terms) override {
    FEDRA_RETURN_IF_ERROR(internal::TermsLayout::AdoptOrMatch(layout_, terms));
    // Client side: flatten, pack, encrypt; the bytes are what would travel.
    const std::vector<float> flat = layout_->Flatten(terms);
    FEDRA_ASSIGN_OR_RETURN(
        auto encrypted,
        paillier::EncryptUpdate(server_key_, flat, 1, options_.packing, options_.pool));
    const std::string wire = paillier::SerializeEncryptedUpdate(encrypted);
    // Server side: parse strictly and add, holding only the public key.
    FEDRA_ASSIGN_OR_RETURN(auto received, paillier::ParseEncryptedUpdate(server_key_, wire));
    if (!aggregator_) {
      FEDRA_ASSIGN_OR_RETURN(auto agg, paillier::EncryptedAggregator::Create(
                                           server_key_, options_.packing, layout_->size()));
      aggregator_.emplace(std::move(agg));
    }
    return aggregator_->Add(received, options_.pool);
  }

  StatusOr<Total> Finish() override {
    if (!aggregator_) return FailedPreconditionError("no contribution to decrypt");
    FEDRA_ASSIGN_OR_RETURN(auto total, aggregator_->Result(options_.pool));
    // Key holder: decrypt only the total.
    FEDRA_ASSIGN_OR_RETURN(
        auto plain, paillier::DecryptAggregate(key_, total, options_.packing, options_.pool));
    return Total{layout_->Unflatten<double>(plain.weighted_sum), 0};
  }

 private:
  const paillier::SecretKey& key_;
  paillier::PublicKey server_key_;
  PaillierSumOptions options_;
  std::optional<internal::TermsLayout> layout_;
  std::optional<paillier::EncryptedAggregator> aggregator_;
};

}  // namespace

StatusOr<std::unique_ptr<SecureSum>> NewPaillierSum(const paillier::SecretKey& key,
                                                    const PaillierSumOptions& options) {
  FEDRA_RETURN_IF_ERROR(
      paillier::Packer::Create(options.packing, key.public_key().modulus_bits()).status());
  return std::unique_ptr<SecureSum>(new PaillierSum(key, options));
}

}  // namespace fedra
