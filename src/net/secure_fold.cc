#include "net/secure_fold.h"

#include "fedra/fl/secure_sum.h"
#include "fedra/fl/strategy_config.h"
#include "fl/secure_sum_terms.h"

namespace fedra::net {

Status FoldForSecureSum(const std::string& fold, const FoldSpec* spec, const FitConfig& config,
                        const std::function<void(const FitResult&, UpdateAccumulator&)>& custom,
                        const FitResult& result, UpdateAccumulator& terms) {
  if (spec != nullptr) {
    FEDRA_RETURN_IF_ERROR(spec->Apply(result, terms));
  } else if (custom) {
    custom(result, terms);
  } else if (fold == "dp") {
    // DP's mean divides by the number of clients: every update counts once.
    terms.Add("update", 1.0f, result.update);
    terms.AddScalar("weight", 1.0);
  } else {
    StrategyConfig sc;
    sc.name = fold;
    sc.base.fit = config;
    auto strategy = NewStrategy(sc);
    if (!strategy.ok()) {
      return FailedPreconditionError(
          "cannot fold for the server's strategy (a custom strategy needs ClientOptions::fold "
          "and SecureRoundOptions::sum_names/scalar_names): " +
          strategy.status().message());
    }
    (*strategy)->Fold(result, terms);
  }
  if (terms.sums().empty()) return InvalidArgumentError("the strategy folded no vector");
  const auto n = static_cast<double>(result.num_examples);
  terms.AddScalar(kSecureLossScalar, result.train_loss * n);
  terms.AddScalar(kSecureExamplesScalar, n);
  return OkStatus();
}

StatusOr<AnnouncedLayout> LayoutOfFold(const std::string& fold, const FoldSpec* spec,
                                       const Parameters& global) {
  if (spec != nullptr) FEDRA_RETURN_IF_ERROR(spec->Validate());
  FitResult probe{.update = Parameters::ZerosLike(global), .num_examples = 1, .local_steps = 1};
  if (spec == nullptr) {
    probe.extras["control_delta"] = Parameters::ZerosLike(global);  // SCAFFOLD's, by name
  } else {
    for (const auto& v : spec->vectors) {
      if (v.source != "update") probe.extras[v.source] = Parameters::ZerosLike(global);
    }
  }
  UpdateAccumulator terms;
  FEDRA_RETURN_IF_ERROR(FoldForSecureSum(fold, spec, FitConfig{}, nullptr, probe, terms));
  const auto layout = internal::TermsLayout::Of(terms);
  return AnnouncedLayout{layout.sum_names(), layout.scalar_names()};
}

}  // namespace fedra::net
