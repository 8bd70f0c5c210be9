#include "fedra/fl/fold_spec.h"

#include <cmath>
#include <set>

#include "fedra/fl/local_update.h"
#include "fedra/fl/round_config.h"
#include "fedra/fl/strategy.h"

namespace fedra {
namespace {

Status CheckName(const std::string& what, const std::string& name, std::set<std::string>& seen) {
  if (!ValidConfigName(name))
    return InvalidArgumentError("fold spec: a " + what +
                                " name must have 1 to 64 characters from [A-Za-z0-9_.-/]");
  if (!seen.insert(name).second)
    return InvalidArgumentError("fold spec: " + what + " '" + name + "' appears twice");
  return OkStatus();
}

bool NeedsSteps(FoldWeight w) {
  return w == FoldWeight::kExamplesPerEffectiveStep || w == FoldWeight::kExamplesTimesEffectiveStep;
}

double WeightOf(FoldWeight w, double n, double a) {
  switch (w) {
    case FoldWeight::kOne:
      return 1;
    case FoldWeight::kExamples:
      return n;
    case FoldWeight::kExamplesPerEffectiveStep:
      return n / a;
    case FoldWeight::kExamplesTimesEffectiveStep:
      return n * a;
  }
  return 0;
}

}  // namespace

FoldSpec FoldSpec::FedAvg() {
  return {.vectors = {{.sum = "update", .source = "update", .weight = FoldWeight::kExamples}},
          .scalars = {{.name = "weight", .weight = FoldWeight::kExamples}}};
}

Status FoldSpec::Validate() const {
  if (vectors.empty() || vectors.size() > 16 || scalars.size() > 16)
    return InvalidArgumentError("fold spec: 1 to 16 vector terms and at most 16 scalars");
  if (!(momentum >= 0 && momentum < 1))
    return InvalidArgumentError("fold spec: momentum must be in [0, 1)");
  std::set<std::string> sums, scalar_names;
  for (const auto& v : vectors) {
    FEDRA_RETURN_IF_ERROR(CheckName("sum", v.sum, sums));
    if (!ValidConfigName(v.source))
      return InvalidArgumentError(
          "fold spec: a source name must have 1 to 64 characters from [A-Za-z0-9_.-/]");
  }
  for (const auto& s : scalars) FEDRA_RETURN_IF_ERROR(CheckName("scalar", s.name, scalar_names));
  return OkStatus();
}

Status FoldSpec::Apply(const FitResult& result, UpdateAccumulator& acc) const {
  // Check everything first: a fold is all of a result's terms or none.
  bool steps = false;
  for (const auto& v : vectors) {
    steps = steps || NeedsSteps(v.weight);
    if (v.source == "update") continue;
    auto it = result.extras.find(v.source);
    if (it == result.extras.end() || !it->second.SameLayout(result.update)) {
      return FailedPreconditionError("the result carries no extra '" + v.source +
                                     "' in the update's layout");
    }
  }
  for (const auto& s : scalars) steps = steps || NeedsSteps(s.weight);
  if (steps && result.local_steps <= 0)
    return FailedPreconditionError("the fold weighs by local steps, and the result took none");
  const auto n = static_cast<double>(result.num_examples);
  const double a = steps ? EffectiveLocalSteps(result.local_steps, momentum) : 1.0;
  for (const auto& v : vectors) {
    const Parameters& x = v.source == "update" ? result.update : result.extras.at(v.source);
    acc.Add(v.sum, static_cast<float>(WeightOf(v.weight, n, a)), x);
  }
  for (const auto& s : scalars) acc.AddScalar(s.name, WeightOf(s.weight, n, a));
  return OkStatus();
}

}  // namespace fedra

namespace fedra {

StatusOr<FoldSpec> CheckedFoldSpec(const Strategy& strategy) {
  const std::string who = "strategy " + strategy.Name();
  std::optional<FoldSpec> spec = strategy.fold_spec();
  if (!spec) return FailedPreconditionError(who + " has no fold spec: it cannot fold on clients");
  FEDRA_RETURN_IF_ERROR(spec->Validate().WithContext(who));
  // Probes of small norm (a DP fold clips larger ones) with distinct, non-round values, and an
  // extra under every name the spec reads, so any difference in names or weights shows.
  Parameters layout;
  layout.Add("w", {3});
  for (int probe = 0; probe < 2; ++probe) {
    FitResult r{.update = Parameters::ZerosLike(layout),
                .num_examples = static_cast<size_t>(7 + 6 * probe),
                .local_steps = 5 + 4 * probe};
    for (size_t i = 0; i < 3; ++i) r.update.data()[i] = 1e-4f * static_cast<float>(i + 1 + probe);
    for (const auto& v : spec->vectors) {
      if (v.source == "update") continue;
      Parameters extra = Parameters::ZerosLike(layout);
      for (size_t i = 0; i < 3; ++i) extra.data()[i] = -2e-4f * static_cast<float>(i + 2 + probe);
      r.extras[v.source] = std::move(extra);
    }
    UpdateAccumulator by_fold, by_spec;
    strategy.Fold(r, by_fold);
    FEDRA_RETURN_IF_ERROR(spec->Apply(r, by_spec).WithContext(who + ": its fold spec"));
    auto differs = [&](const std::string& what) {
      return FailedPreconditionError(who + ": its Fold() and fold_spec() differ (" + what +
                                     "); override both alike");
    };
    if (by_fold.sums().size() != by_spec.sums().size()) return differs("the sums");
    for (const auto& [name, sum] : by_spec.sums()) {
      if (!by_fold.has(name)) return differs("sum '" + name + "'");
      const Parameters& other = by_fold.sum(name);
      for (size_t i = 0; i < sum.size(); ++i) {
        if (std::abs(sum.data()[i] - other.data()[i]) > 1e-5 * (std::abs(sum.data()[i]) + 1e-12))
          return differs("the values of sum '" + name + "'");
      }
    }
    if (by_fold.scalars().size() != by_spec.scalars().size()) return differs("the scalars");
    for (const auto& [name, value] : by_spec.scalars()) {
      auto it = by_fold.scalars().find(name);
      if (it == by_fold.scalars().end()) return differs("scalar '" + name + "'");
      if (std::abs(it->second - value) > 1e-9 * (std::abs(value) + 1))
        return differs("the value of scalar '" + name + "'");
    }
  }
  return *spec;
}

}  // namespace fedra
