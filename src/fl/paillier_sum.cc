#include "fedra/fl/paillier_sum.h"

#include <optional>
#include <vector>

#include "fedra/privacy/paillier/encrypted_aggregator.h"
#include "fedra/privacy/paillier/encrypted_update.h"

namespace fedra {
namespace {

// The names and layouts of a round's terms, fixed by its first contribution.
struct TermsLayout {
  std::vector<std::pair<std::string, Parameters>> vectors;  // zero-filled templates
  std::vector<std::string> scalars;
  size_t size = 0;

  static TermsLayout Of(const UpdateAccumulator& terms) {
    TermsLayout l;
    for (const auto& [name, p] : terms.sums()) {
      l.vectors.emplace_back(name, Parameters::ZerosLike(p));
      l.size += p.size();
    }
    for (const auto& [name, v] : terms.scalars()) l.scalars.push_back(name);
    l.size += l.scalars.size();
    return l;
  }

  Status Matches(const UpdateAccumulator& terms) const {
    bool same = terms.sums().size() == vectors.size() && terms.scalars().size() == scalars.size();
    size_t i = 0;
    for (const auto& [name, p] : terms.sums()) {
      same =
          same && i < vectors.size() && vectors[i].first == name && vectors[i].second.SameLayout(p);
      ++i;
    }
    i = 0;
    for (const auto& [name, v] : terms.scalars()) {
      same = same && i < scalars.size() && scalars[i] == name;
      ++i;
    }
    return same ? OkStatus()
                : InvalidArgumentError(
                      "the client's terms have other names or shapes than the "
                      "round's first contribution");
  }
};

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
    if (!layout_) {
      layout_ = TermsLayout::Of(terms);
    } else {
      FEDRA_RETURN_IF_ERROR(layout_->Matches(terms));
    }
    // Client side: flatten, pack, encrypt; the bytes are what would travel.
    std::vector<float> flat;
    flat.reserve(layout_->size);
    for (const auto& [name, p] : terms.sums())
      flat.insert(flat.end(), p.data(), p.data() + p.size());
    for (const auto& [name, v] : terms.scalars()) flat.push_back(static_cast<float>(v));
    FEDRA_ASSIGN_OR_RETURN(
        auto encrypted,
        paillier::EncryptUpdate(server_key_, flat, 1, options_.packing, options_.pool));
    const std::string wire = paillier::SerializeEncryptedUpdate(encrypted);
    // Server side: parse strictly and add, holding only the public key.
    FEDRA_ASSIGN_OR_RETURN(auto received, paillier::ParseEncryptedUpdate(server_key_, wire));
    if (!aggregator_) {
      FEDRA_ASSIGN_OR_RETURN(auto agg, paillier::EncryptedAggregator::Create(
                                           server_key_, options_.packing, layout_->size));
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
    UpdateAccumulator sums;
    size_t at = 0;
    for (auto& [name, p] : layout_->vectors) {
      for (size_t i = 0; i < p.size(); ++i)
        p.data()[i] = static_cast<float>(plain.weighted_sum[at++]);
      sums.Add(name, 1.0f, p);
    }
    for (const std::string& name : layout_->scalars) sums.AddScalar(name, plain.weighted_sum[at++]);
    return Total{std::move(sums), 0};
  }

 private:
  const paillier::SecretKey& key_;
  paillier::PublicKey server_key_;
  PaillierSumOptions options_;
  std::optional<TermsLayout> layout_;
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
