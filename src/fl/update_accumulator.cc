#include "fedra/fl/update_accumulator.h"

#include <cmath>

#include "ml/kernels.h"

namespace fedra {

void UpdateAccumulator::Add(const std::string& name, float weight, const Parameters& x) {
  auto it = sums_.find(name);
  if (it == sums_.end()) it = sums_.emplace(name, Parameters::ZerosLike(x)).first;
  if (!staging_) {
    it->second.Axpy(weight, x);  // checks the layout
    return;
  }
  FEDRA_CHECK(it->second.SameLayout(x));
  // The staged value starts from the sum, or from itself when this fold already added to it.
  Parameters& spare = staged_[name];
  if (!spare.SameLayout(it->second)) spare = Parameters::ZerosLike(it->second);
  const bool first_touch = staged_touched_.insert(name).second;
  const float* from = first_touch ? it->second.data() : spare.data();
  if (!internal::AxpyIntoAllFinite(from, weight, x.data(), spare.data(),
                                   static_cast<int64_t>(x.size()))) {
    staged_not_finite_.insert(name);
  }
}

void UpdateAccumulator::AddScalar(const std::string& name, double value) {
  if (staging_) {
    staged_scalars_[name] += value;
    return;
  }
  scalars_[name] += value;
}

void UpdateAccumulator::BeginFold() {
  FEDRA_CHECK_MSG(!staging_, "a fold is already staged");
  staging_ = true;
  staged_touched_.clear();
  staged_not_finite_.clear();
  staged_scalars_.clear();
}

Status UpdateAccumulator::CommitFold() {
  FEDRA_CHECK_MSG(staging_, "no staged fold to commit");
  staging_ = false;
  if (!staged_not_finite_.empty()) {
    return InvalidArgumentError("the sum '" + *staged_not_finite_.begin() +
                                "' would hold NaN or Inf after this update");
  }
  for (const auto& [name, value] : staged_scalars_) {
    if (!std::isfinite(scalar(name) + value)) {
      return InvalidArgumentError("the scalar sum '" + name + "' would be NaN or Inf");
    }
  }
  // Swap the staged buffers in; the old sums become the spare buffers of the next fold.
  for (const std::string& name : staged_touched_) std::swap(sums_[name], staged_[name]);
  for (const auto& [name, value] : staged_scalars_) scalars_[name] += value;
  return OkStatus();
}

void UpdateAccumulator::AbortFold() {
  FEDRA_CHECK_MSG(staging_, "no staged fold to abort");
  staging_ = false;
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
  staged_.clear();
}

}  // namespace fedra
