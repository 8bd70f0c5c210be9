#include "fedra/fl/update_accumulator.h"

namespace fedra {

void UpdateAccumulator::Add(const std::string& name, float weight, const Parameters& x) {
  auto it = sums_.find(name);
  if (it == sums_.end()) it = sums_.emplace(name, Parameters::ZerosLike(x)).first;
  it->second.Axpy(weight, x);
}

void UpdateAccumulator::AddScalar(const std::string& name, double value) {
  scalars_[name] += value;
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
  sums_.clear();
  scalars_.clear();
}

}  // namespace fedra
