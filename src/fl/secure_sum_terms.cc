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
