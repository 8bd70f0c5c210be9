#include "fedra/fl/secagg_sum.h"

#include <cmath>
#include <optional>
#include <vector>

#include "fl/secure_sum_terms.h"

namespace fedra {
namespace {

class SecAggSum final : public SecureSum {
 public:
  explicit SecAggSum(SecAggSumOptions options) : options_(std::move(options)) {}

  std::string Name() const override { return "secure aggregation"; }

  Status Begin(int round) override {
    round_ = round;
    inputs_.clear();
    layout_.reset();
    return OkStatus();
  }

  Status Contribute(ClientId, const UpdateAccumulator& terms) override {
    FEDRA_RETURN_IF_ERROR(internal::TermsLayout::AdoptOrMatch(layout_, terms));
    inputs_.push_back(layout_->Flatten(terms));
    return OkStatus();
  }

  StatusOr<Total> Finish() override {
    if (inputs_.empty()) return FailedPreconditionError("no contribution to aggregate");
    secagg::SecureAggregationOptions o = options_.protocol;
    o.protocol.round = static_cast<uint32_t>(round_);
    o.protocol.num_clients = 0;
    o.protocol.vector_length = 0;
    Rng rng = Rng(options_.seed).Split(static_cast<uint64_t>(round_));
    FEDRA_ASSIGN_OR_RETURN(auto result, secagg::RunSecureAggregation(inputs_, o, rng));
    const size_t dropped = inputs_.size() - result.survivors.size();
    inputs_.clear();
    return Total{layout_->Unflatten<float>(result.sum), dropped};
  }

 private:
  SecAggSumOptions options_;
  int round_ = 0;
  std::vector<std::vector<float>> inputs_;
  std::optional<internal::TermsLayout> layout_;
};

}  // namespace

StatusOr<std::unique_ptr<SecureSum>> NewSecAggSum(const SecAggSumOptions& options) {
  if (!(options.protocol.clip > 0) || !std::isfinite(options.protocol.clip)) {
    return InvalidArgumentError("secure aggregation clip must be positive and finite");
  }
  for (double f : options.protocol.dropout.fraction) {
    if (!(f >= 0 && f < 1)) return InvalidArgumentError("dropout fractions must lie in [0, 1)");
  }
  return std::unique_ptr<SecureSum>(new SecAggSum(options));
}

}  // namespace fedra
