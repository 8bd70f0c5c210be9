#include "fl/secure_sum_terms.h"

namespace fedra::internal {

TermsLayout TermsLayout::Of(const UpdateAccumulator& terms) {
  TermsLayout l;
  for (const auto& [name, p] : terms.sums()) {
    l.vectors_.emplace_back(name, Parameters::ZerosLike(p));
    l.size_ += p.size();
  }
  for (const auto& [name, v] : terms.scalars()) l.scalars_.push_back(name);
  l.size_ += l.scalars_.size();
  return l;
}

StatusOr<TermsLayout> TermsLayout::FromNames(std::span<const std::string> sums,
                                             std::span<const std::string> scalars,
                                             const Parameters& vector_layout) {
  if (sums.size() + scalars.size() > 16) {
    return InvalidArgumentError("more than 16 folded sums announced");
  }
  UpdateAccumulator zeros;
  const Parameters zero = Parameters::ZerosLike(vector_layout);
  for (const std::string& name : sums) {
    if (name.empty() || zeros.has(name)) {
      return InvalidArgumentError("an empty or repeated sum name");
    }
    zeros.Add(name, 0.0f, zero);
  }
  for (const std::string& name : scalars) {
    if (name.empty() || zeros.scalars().contains(name)) {
      return InvalidArgumentError("an empty or repeated scalar name");
    }
    zeros.AddScalar(name, 0.0);
  }
  return Of(zeros);
}

std::vector<std::string> TermsLayout::sum_names() const {
  std::vector<std::string> names;
  for (const auto& [name, p] : vectors_) names.push_back(name);
  return names;
}

Status TermsLayout::AdoptOrMatch(std::optional<TermsLayout>& layout,
                                 const UpdateAccumulator& terms) {
  if (layout) return layout->Matches(terms);
  layout = Of(terms);
  return OkStatus();
}

Status TermsLayout::Matches(const UpdateAccumulator& terms) const {
  bool same = terms.sums().size() == vectors_.size() && terms.scalars().size() == scalars_.size();
  size_t i = 0;
  for (const auto& [name, p] : terms.sums()) {
    same = same && i < vectors_.size() && vectors_[i].first == name &&
           vectors_[i].second.SameLayout(p);
    ++i;
  }
  i = 0;
  for (const auto& [name, v] : terms.scalars()) {
    same = same && i < scalars_.size() && scalars_[i] == name;
    ++i;
  }
  return same ? OkStatus()
              : InvalidArgumentError(
                    "the client's terms have other names or shapes than the round's first "
                    "contribution");
}

std::vector<float> TermsLayout::Flatten(const UpdateAccumulator& terms) const {
  std::vector<float> flat;
  flat.reserve(size_);
  for (const auto& [name, p] : terms.sums()) flat.insert(flat.end(), p.data(), p.data() + p.size());
  for (const auto& [name, v] : terms.scalars()) flat.push_back(static_cast<float>(v));
  return flat;
}

}  // namespace fedra::internal
