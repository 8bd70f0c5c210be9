// UpdateAccumulator: the running weighted sums that a sum-based strategy folds client results
// into, so server memory stays O(parameters) however many clients report. Each named vector
// sum and each named scalar sum starts at zero on first use.
//
// Under secure aggregation or Paillier the same sums are computed without the server seeing
// any single term, which is why sum-based strategies may only use what Fold() puts here.
//
// One client's result is folded as a unit: between BeginFold() and CommitFold(), Add() only
// records its term; CommitFold() first computes every staged `sum + weight * x` without
// writing it, and adds the terms in place only if every value is finite. So a bad update
// (NaN, Inf, or values large enough to overflow the sum) never touches the sums, and a fold
// costs no buffer beside the sums: for a 100 MB model that is 100 MB less server memory than
// staging the new sums in a spare buffer (the previous design). Vectors named to BeginFold()
// (the result's own) are read in place at commit; any other vector added is copied.
//
// Thread-safety: not thread-safe; the round driver folds results one at a time.
#ifndef FEDRA_FL_UPDATE_ACCUMULATOR_H_
#define FEDRA_FL_UPDATE_ACCUMULATOR_H_

#include <deque>
#include <initializer_list>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "fedra/core/status.h"
#include "fedra/ml/parameters.h"

namespace fedra {

class UpdateAccumulator {
 public:
  // sums[name] += weight * x. REQUIRES: x has the layout of earlier terms of `name`.
  void Add(const std::string& name, float weight, const Parameters& x);
  // The same, for a vector the caller gives up: a staged fold keeps it without a copy.
  void Add(const std::string& name, float weight, Parameters&& x);
  // scalars[name] += value.
  void AddScalar(const std::string& name, double value);

  // Stages the Add()/AddScalar() calls up to CommitFold() or AbortFold(). Terms whose vector
  // is one of `in_place` are read from it at commit, so each of them must stay alive and
  // unchanged until then; other vectors (a strategy's temporaries) are copied by Add().
  // REQUIRES: no fold is staged.
  void BeginFold(std::initializer_list<const Parameters*> in_place = {});
  void BeginFold(std::span<const Parameters* const> in_place);
  // Makes the staged terms part of the sums. InvalidArgument naming the sum (sums unchanged,
  // staged terms dropped) if a staged sum or scalar is NaN or Inf. REQUIRES: a staged fold.
  Status CommitFold();
  void AbortFold();

  // Moves the sum `name` out (has(name) is false afterwards). REQUIRES: has(name), no fold
  // is staged.
  Parameters Take(const std::string& name);
  // Takes `sum` as the sum `name`, without a copy (a sum that arrived whole: an aggregator's,
  // another rank's). REQUIRES: no fold is staged; no sum `name` yet.
  void Put(const std::string& name, Parameters sum);

  // Adds every sum and scalar of `other` to this one (a sum this one lacks is copied): how
  // two partial sums over disjoint clients combine (fl/fold_tree.h). REQUIRES: no fold is
  // staged; sums of the same name have the same layout.
  void Merge(const UpdateAccumulator& other);

  bool has(const std::string& name) const { return sums_.contains(name); }
  // REQUIRES: has(name).
  const Parameters& sum(const std::string& name) const;
  // The sum `name`, or NotFound naming it (for strategies that must not trust a fold's names,
  // e.g. in a plugin).
  StatusOr<const Parameters*> Sum(const std::string& name) const;
  // 0 if nothing was added under `name`.
  double scalar(const std::string& name) const;
  // Every sum and scalar, by name (for secure sums that encode them all).
  const std::map<std::string, Parameters>& sums() const { return sums_; }
  const std::map<std::string, double>& scalars() const { return scalars_; }
  void Clear();

 private:
  void DropStaged();

  std::map<std::string, Parameters> sums_;
  std::map<std::string, double> scalars_;
  // The staged fold: its vector terms by sum (in Add() order), the copies of vectors not
  // read in place, and the scalar terms.
  struct Term {
    float weight;
    const Parameters* x;
  };
  bool staging_ = false;
  std::vector<const Parameters*> in_place_;
  std::map<std::string, std::vector<Term>> staged_;
  std::deque<Parameters> staged_copies_;
  std::map<std::string, double> staged_scalars_;
};

}  // namespace fedra

#endif  // FEDRA_FL_UPDATE_ACCUMULATOR_H_
