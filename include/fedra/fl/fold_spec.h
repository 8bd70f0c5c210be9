// FoldSpec: what one client adds to a sum-based strategy's sums, as data. In a secure round
// over gRPC the server announces its strategy's FoldSpec in every FIT task; clients fold by it
// (no client rebuilds a strategy by name, so a custom strategy needs nothing on the clients)
// and the server checks every report's sum names against it.
//
//   FoldSpec{.vectors = {{"update", "update", FoldWeight::kExamples}},
//            .scalars = {{"weight", FoldWeight::kExamples}}}        // FedAvg's
//
// A vector term adds weight * source to sum `sum`, where source is the update or one of the
// result's extras (by name); a scalar term adds its weight. Weights: 1, the example count n,
// n / a or n * a, where a = EffectiveLocalSteps(local_steps, momentum) (FedNova).
#ifndef FEDRA_FL_FOLD_SPEC_H_
#define FEDRA_FL_FOLD_SPEC_H_

#include <string>
#include <vector>

#include "fedra/core/status.h"
#include "fedra/fl/types.h"
#include "fedra/fl/update_accumulator.h"

namespace fedra {

enum class FoldWeight { kOne, kExamples, kExamplesPerEffectiveStep, kExamplesTimesEffectiveStep };

struct FoldVectorTerm {
  std::string sum;
  std::string source = "update";  // "update" or the name of an extra (e.g. "control_delta")
  FoldWeight weight = FoldWeight::kExamples;
  bool operator==(const FoldVectorTerm&) const = default;
};

struct FoldScalarTerm {
  std::string name;
  FoldWeight weight = FoldWeight::kExamples;
  bool operator==(const FoldScalarTerm&) const = default;
};

struct FoldSpec {
  std::vector<FoldVectorTerm> vectors;
  std::vector<FoldScalarTerm> scalars;
  double momentum = 0;  // for the effective-steps weights

  bool operator==(const FoldSpec&) const = default;

  // FedAvg's fold: n * update into "update", n into "weight".
  static FoldSpec FedAvg();

  // InvalidArgument unless: at least one and at most 16 vector terms, at most 16 scalars,
  // names of 1..64 characters from [A-Za-z0-9_.-/], no name twice, momentum in [0, 1).
  Status Validate() const;

  // Adds `result`'s terms to `acc`. FailedPrecondition (nothing added) when a source extra is
  // missing or has another layout than the update, or an effective-steps weight is asked of a
  // result with local_steps <= 0.
  Status Apply(const FitResult& result, UpdateAccumulator& acc) const;
};

}  // namespace fedra

#endif  // FEDRA_FL_FOLD_SPEC_H_
