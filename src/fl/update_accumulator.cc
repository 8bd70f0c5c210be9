#include "fedra/fl/update_accumulator.h"

#include <algorithm>
#include <cmath>

#include "ml/kernels.h"

namespace fedra {

void UpdateAccumulator::Add(const std::string& name, float weight, const Parameters& x) {
  if (!staging_) {
    auto it = sums_.find(name);
    if (it == sums_.end()) it = sums_.emplace(name, Parameters::ZerosLike(x)).first;
    it->second.Axpy(weight, x);  // checks the layout
    return;
  }
  std::vector<Term>& terms = staged_[name];
  auto it = sums_.find(name);
  const Parameters* like = it != sums_.end() ? &it->second : terms.empty() ? &x : terms[0].x;
  FEDRA_CHECK_MSG(like->SameLayout(x), "a term of the sum " + name + " with another layout");
  const bool read_in_place = std::find(in_place_.begin(), in_place_.end(), &x) != in_place_.end();
  const Parameters* term = &x;
  if (!read_in_place) term = &staged_copies_.emplace_back(x);
  terms.push_back({weight, term});
}

void UpdateAccumulator::Add(const std::string& name, float weight, Parameters&& x) {
  if (!staging_) {
    Add(name, weight, static_cast<const Parameters&>(x));
    return;
  }
  const Parameters& kept = staged_copies_.emplace_back(std::move(x));
  in_place_.push_back(&kept);  // read in place: Add() must not copy it again
  Add(name, weight, kept);
}

void UpdateAccumulator::AddScalar(const std::string& name, double value) {
  if (staging_) {
    staged_scalars_[name] += value;
    return;
  }
  scalars_[name] += value;
}

void UpdateAccumulator::BeginFold(std::initializer_list<const Parameters*> in_place) {
  BeginFold(std::span<const Parameters* const>(in_place.begin(), in_place.size()));
}

void UpdateAccumulator::BeginFold(std::span<const Parameters* const> in_place) {
  FEDRA_CHECK_MSG(!staging_, "a fold is already staged");
  staging_ = true;
  in_place_.assign(in_place.begin(), in_place.end());
}

namespace {

// sum (or 0 when null) + every term, checked (out null) or written to out.
bool AddTerms(const Parameters* sum, const std::vector<float>& w,
              const std::vector<const float*>& x, float* out, size_t n) {
  return internal::AxpyTermsAllFinite(sum ? sum->data() : nullptr, w.data(), x.data(),
                                      static_cast<int64_t>(w.size()), out, static_cast<int64_t>(n));
}

}  // namespace

Status UpdateAccumulator::CommitFold() {
  FEDRA_CHECK_MSG(staging_, "no staged fold to commit");
  // Whatever the verdict, the staged terms are dropped on return.
  struct Drop {
    UpdateAccumulator* a;
    ~Drop() { a->DropStaged(); }
  } drop{this};
  struct Staged {
    Parameters* sum;  // null: a sum this fold starts
    std::vector<float> w;
    std::vector<const float*> x;
  };
  std::vector<std::pair<const std::string*, Staged>> all;
  for (const auto& [name, terms] : staged_) {
    if (terms.empty()) continue;
    auto it = sums_.find(name);
    Staged st{it == sums_.end() ? nullptr : &it->second, {}, {}};
    for (const Term& t : terms) {
      st.w.push_back(t.weight);
      st.x.push_back(t.x->data());
    }
    if (!AddTerms(st.sum, st.w, st.x, nullptr, terms[0].x->size())) {
      return InvalidArgumentError("the sum '" + name + "' would hold NaN or Inf after this update");
    }
    all.emplace_back(&name, std::move(st));
  }
  for (const auto& [name, value] : staged_scalars_) {
    if (!std::isfinite(scalar(name) + value)) {
      return InvalidArgumentError("the scalar sum '" + name + "' would be NaN or Inf");
    }
  }
  // Every value checked: the same arithmetic again, now in place.
  for (auto& [name, st] : all) {
    if (!st.sum) {
      st.sum = &sums_.emplace(*name, Parameters::ZerosLike(*staged_[*name][0].x)).first->second;
    }
    AddTerms(st.sum, st.w, st.x, st.sum->data(), st.sum->size());
  }
  for (const auto& [name, value] : staged_scalars_) scalars_[name] += value;
  return OkStatus();
}

void UpdateAccumulator::AbortFold() {
  FEDRA_CHECK_MSG(staging_, "no staged fold to abort");
  DropStaged();
}

void UpdateAccumulator::DropStaged() {
  staging_ = false;
  in_place_.clear();
  staged_.clear();
  staged_copies_.clear();
  staged_scalars_.clear();
}

Parameters UpdateAccumulator::Take(const std::string& name) {
  FEDRA_CHECK_MSG(!staging_, "Take() during a staged fold");
  auto node = sums_.extract(name);
  FEDRA_CHECK_MSG(!node.empty(), "no sum named " + name);
  return std::move(node.mapped());
}

void UpdateAccumulator::Put(const std::string& name, Parameters sum) {
  FEDRA_CHECK_MSG(!staging_, "Put() during a staged fold");
  FEDRA_CHECK_MSG(sums_.emplace(name, std::move(sum)).second, "a second sum named " + name);
}

void UpdateAccumulator::Merge(const UpdateAccumulator& other) {
  FEDRA_CHECK_MSG(!staging_, "Merge() during a staged fold");
  for (const auto& [name, sum] : other.sums_) {
    auto it = sums_.find(name);
    if (it == sums_.end()) {
      sums_.emplace(name, sum);
    } else {
      it->second.Axpy(1.0f, sum);  // checks the layout
    }
  }
  for (const auto& [name, value] : other.scalars_) scalars_[name] += value;
}

StatusOr<const Parameters*> UpdateAccumulator::Sum(const std::string& name) const {
  auto it = sums_.find(name);
  if (it == sums_.end()) return NotFoundError("no sum named '" + name + "' was folded");
  return &it->second;
}

const Parameters& UpdateAccumulator::sum(const std::string& name) const {
  auto it = sums_.find(name);
  FEDRA_CHECK_MSG(it != sums_.end(), "no sum named " + name);
  return it->second;
}

double UpdateAccumulator::scalar(const std::string& name) const {
  auto it = scalars_.find(name);
  return it == scalars_.end() ? 0.0 : it->second;
}

void UpdateAccumulator::Clear() {
  FEDRA_CHECK_MSG(!staging_, "Clear() during a staged fold");
  sums_.clear();
  scalars_.clear();
}

}  // namespace fedra
