// UpdateAccumulator: the running weighted sums that a sum-based strategy folds client results
// into, so server memory stays O(parameters) however many clients report. Each named vector
// sum and each named scalar sum starts at zero on first use.
//
// Under secure aggregation or Paillier the same sums are computed without the server seeing
// any single term, which is why sum-based strategies may only use what Fold() puts here.
//
// Thread-safety: not thread-safe; the round driver folds results one at a time.
#ifndef FEDRA_FL_UPDATE_ACCUMULATOR_H_
#define FEDRA_FL_UPDATE_ACCUMULATOR_H_

#include <map>
#include <string>

#include "fedra/ml/parameters.h"

namespace fedra {

class UpdateAccumulator {
 public:
  // sums[name] += weight * x. REQUIRES: x has the layout of earlier terms of `name`.
  void Add(const std::string& name, float weight, const Parameters& x);
  // scalars[name] += value.
  void AddScalar(const std::string& name, double value);

  bool has(const std::string& name) const { return sums_.contains(name); }
  // REQUIRES: has(name).
  const Parameters& sum(const std::string& name) const;
  // 0 if nothing was added under `name`.
  double scalar(const std::string& name) const;
  // Every sum and scalar, by name (for secure sums that encode them all).
  const std::map<std::string, Parameters>& sums() const { return sums_; }
  const std::map<std::string, double>& scalars() const { return scalars_; }
  void Clear();

 private:
  std::map<std::string, Parameters> sums_;
  std::map<std::string, double> scalars_;
};

}  // namespace fedra

#endif  // FEDRA_FL_UPDATE_ACCUMULATOR_H_
