// Private to src/fl: the flat form in which secure sums (Paillier, secure aggregation) carry a
// client's UpdateAccumulator terms — every vector sum in name order, then every scalar — and
// the layout, fixed by a round's first contribution, that turns a summed flat vector back
// into an UpdateAccumulator.
#ifndef FEDRA_SRC_FL_SECURE_SUM_TERMS_H_
#define FEDRA_SRC_FL_SECURE_SUM_TERMS_H_

#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "fedra/core/status.h"
#include "fedra/fl/update_accumulator.h"

namespace fedra::internal {

class TermsLayout {
 public:
  static TermsLayout Of(const UpdateAccumulator& terms);
  // A round's first contribution fixes `layout`; every later one must match it
  // (InvalidArgument otherwise, `layout` unchanged).
  static Status AdoptOrMatch(std::optional<TermsLayout>& layout, const UpdateAccumulator& terms);
  // The layout a remote client announces by name (secure rounds over gRPC): every vector sum
  // has `vector_layout`. InvalidArgument for more than 16 names, an empty or repeated name.
  static StatusOr<TermsLayout> FromNames(std::span<const std::string> sums,
                                         std::span<const std::string> scalars,
                                         const Parameters& vector_layout);
  const std::vector<std::string>& scalar_names() const { return scalars_; }
  std::vector<std::string> sum_names() const;

  // InvalidArgument unless `terms` has exactly this layout's names and shapes.
  Status Matches(const UpdateAccumulator& terms) const;
  size_t size() const { return size_; }

  // REQUIRES: Matches(terms).
  std::vector<float> Flatten(const UpdateAccumulator& terms) const;

  // The accumulator whose flat form is `flat`. REQUIRES: flat.size() == size().
  template <typename T>
  UpdateAccumulator Unflatten(std::span<const T> flat) const {
    UpdateAccumulator sums;
    size_t at = 0;
    for (const auto& [name, zeros] : vectors_) {
      Parameters p = zeros;
      for (size_t i = 0; i < p.size(); ++i) p.data()[i] = static_cast<float>(flat[at++]);
      sums.Add(name, 1.0f, p);
    }
    for (const std::string& name : scalars_) sums.AddScalar(name, static_cast<double>(flat[at++]));
    return sums;
  }

 private:
  std::vector<std::pair<std::string, Parameters>> vectors_;  // zero-filled templates
  std::vector<std::string> scalars_;
  size_t size_ = 0;
};

}  // namespace fedra::internal

#endif  // FEDRA_SRC_FL_SECURE_SUM_TERMS_H_
