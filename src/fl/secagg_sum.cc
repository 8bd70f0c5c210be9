#include "fedra/fl/secagg_sum.h"

#include <cmath>
#include <vector>

namespace fedra {
namespace {

class SecAggSum final : public SecureSum {
 public:
  explicit SecAggSum(SecAggSumOptions options) : options_(std::move(options)) {}

  std::string Name() const override { return "secure aggregation"; }

  Status Begin(int round) override {
    round_ = round;
    inputs_.clear();
    vector_names_.clear();
    scalar_names_.clear();
    layouts_.clear();
    return OkStatus();
  }

  Status Contribute(ClientId, const UpdateAccumulator& terms) override {
    std::vector<float> flat;
    std::vector<std::string> vectors, scalars;
    for (const auto& [name, p] : terms.sums()) {
      vectors.push_back(name);
      flat.insert(flat.end(), p.data(), p.data() + p.size());
    }
    for (const auto& [name, v] : terms.scalars()) {
      scalars.push_back(name);
      flat.push_back(static_cast<float>(v));
    }
    if (inputs_.empty()) {
      vector_names_ = vectors;
      scalar_names_ = scalars;
      for (const auto& [name, p] : terms.sums()) layouts_.push_back(Parameters::ZerosLike(p));
    } else if (vectors != vector_names_ || scalars != scalar_names_ ||
               flat.size() != inputs_.front().size()) {
      return InvalidArgumentError(
          "the client's terms have other names or sizes than the round's "
          "first contribution");
    }
    inputs_.push_back(std::move(flat));
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
    UpdateAccumulator sums;
    size_t at = 0;
    for (size_t i = 0; i < vector_names_.size(); ++i) {
      Parameters& p = layouts_[i];
      for (size_t j = 0; j < p.size(); ++j) p.data()[j] = result.sum[at++];
      sums.Add(vector_names_[i], 1.0f, p);
    }
    for (const std::string& name : scalar_names_) sums.AddScalar(name, result.sum[at++]);
    return Total{std::move(sums), dropped};
  }

 private:
  SecAggSumOptions options_;
  int round_ = 0;
  std::vector<std::vector<float>> inputs_;
  std::vector<std::string> vector_names_, scalar_names_;
  std::vector<Parameters> layouts_;
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
