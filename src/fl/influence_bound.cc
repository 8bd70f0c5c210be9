#include "fedra/fl/influence_bound.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace fedra {
namespace {

// The median (mean of the two middle values for an even count). REQUIRES: !v.empty().
double Median(std::vector<double> v) {
  const size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
  const double upper = v[mid];
  if (v.size() % 2 == 1) return upper;
  const double lower = *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid));
  return lower + (upper - lower) / 2;
}

bool Positive(double x) { return std::isfinite(x) && x > 0; }

// Scales `v`, of L2 norm `norm`, down to norm `bound` if it is longer; false if it was not. A
// vector whose norm is not finite is left to the fold, which refuses it.
bool ClipNorm(Parameters& v, double norm, double bound) {
  if (!std::isfinite(norm) || norm <= bound) return false;
  v.Scale(static_cast<float>(bound / norm));
  return true;
}

}  // namespace

Status ValidateInfluenceBoundOptions(const InfluenceBoundOptions& o) {
  if (!o.enabled) return OkStatus();
  if (!Positive(o.weight_factor)) {
    return InvalidArgumentError("the influence bound's weight factor must be > 0, got " +
                                std::to_string(o.weight_factor));
  }
  if (!Positive(o.norm_factor)) {
    return InvalidArgumentError("the influence bound's norm factor must be > 0, got " +
                                std::to_string(o.norm_factor));
  }
  if (o.calibration_results < 1) {
    return InvalidArgumentError("the influence bound needs at least 1 calibration result");
  }
  return OkStatus();
}

InfluenceBound::Reported InfluenceBound::Measure(const FitResult& r) {
  Reported out{.num_examples = r.num_examples, .local_steps = r.local_steps};
  out.norms.reserve(1 + r.extras.size());
  out.norms.emplace_back("update", r.update.L2Norm());
  for (const auto& [name, extra] : r.extras) out.norms.emplace_back(name, extra.L2Norm());
  return out;
}

void InfluenceBound::Record(const Reported& r, Sample& s) {
  // A result with a non-finite vector is refused by the fold, so it says nothing here.
  for (const auto& [name, norm] : r.norms) {
    if (!std::isfinite(norm)) return;
  }
  s.examples.push_back(static_cast<double>(r.num_examples));
  if (r.local_steps > 0) s.steps.push_back(static_cast<double>(r.local_steps));
  for (const auto& [name, norm] : r.norms) s.norms[name].push_back(norm);
}

void InfluenceBound::TakeReference(Sample& s) {
  if (s.examples.empty()) return;
  ref_examples_ = Median(std::move(s.examples));
  ref_steps_ = s.steps.empty() ? 0 : Median(std::move(s.steps));
  ref_norms_.clear();
  for (auto& [name, norms] : s.norms) ref_norms_[name] = Median(std::move(norms));
  has_reference_ = true;
  s = Sample{};
}

void InfluenceBound::Observe(const Reported& reported) { Record(reported, round_); }

void InfluenceBound::SetReference(std::span<const Reported> reported) {
  Sample s;
  for (const Reported& r : reported) Record(r, s);
  TakeReference(s);
}

void InfluenceBound::SetReference(std::span<const FitResult> results) {
  Sample s;
  for (const FitResult& r : results) Record(Measure(r), s);
  TakeReference(s);
}

void InfluenceBound::EndRound() {
  TakeReference(round_);
  round_ = Sample{};
}

std::map<std::string, double> InfluenceBound::ExportReference() const {
  if (!has_reference_) return {};
  std::map<std::string, double> out{{"examples", ref_examples_}, {"steps", ref_steps_}};
  for (const auto& [name, norm] : ref_norms_) out["norm/" + name] = norm;
  return out;
}

Status InfluenceBound::ImportReference(const std::map<std::string, double>& reference) {
  if (reference.empty()) {
    has_reference_ = false;
    return OkStatus();
  }
  double examples = -1, steps = -1;
  std::map<std::string, double> norms;
  for (const auto& [name, value] : reference) {
    if (!std::isfinite(value) || value < 0) {
      return InvalidArgumentError("influence reference \"" + name + "\" is " +
                                  std::to_string(value) + ", expected a finite value >= 0");
    }
    if (name == "examples") {
      examples = value;
    } else if (name == "steps") {
      steps = value;
    } else if (name.starts_with("norm/") && name.size() > 5) {
      norms[name.substr(5)] = value;
    } else {
      return InvalidArgumentError("influence reference has an unknown entry \"" + name + "\"");
    }
  }
  if (examples < 0 || steps < 0 || !norms.contains("update")) {
    return InvalidArgumentError(
        "influence reference needs \"examples\", \"steps\" and \"norm/update\"");
  }
  ref_examples_ = examples;
  ref_steps_ = steps;
  ref_norms_ = std::move(norms);
  has_reference_ = true;
  return OkStatus();
}

double InfluenceBound::max_norm(const std::string& vector) const {
  auto it = ref_norms_.find(vector);
  return it == ref_norms_.end() ? 0 : options_.norm_factor * it->second;
}

BoundReport InfluenceBound::Apply(FitResult& r, const Reported& reported) const {
  BoundReport report;
  // At least 1: a round of tiny clients must not bound the weight to zero.
  const double max_examples = std::max(1.0, std::floor(options_.weight_factor * ref_examples_));
  if (static_cast<double>(r.num_examples) > max_examples) {
    r.num_examples = static_cast<size_t>(max_examples);
    report.weight_capped = true;
  }
  if (ref_steps_ > 0) {
    const double max_steps = std::max(1.0, std::floor(options_.weight_factor * ref_steps_));
    if (static_cast<double>(r.local_steps) > max_steps) {
      r.local_steps = static_cast<int64_t>(max_steps);
      report.weight_capped = true;
    }
  }
  // reported.norms is "update" and then the extras, in the extras' order.
  auto norm = reported.norms.begin();
  auto clip = [&](const std::string& name, Parameters& v) {
    FEDRA_CHECK(norm != reported.norms.end() && norm->first == name);
    auto it = ref_norms_.find(name);
    if (it != ref_norms_.end() && ClipNorm(v, norm->second, options_.norm_factor * it->second)) {
      report.norm_clipped = true;
    }
    ++norm;
  };
  clip("update", r.update);
  for (auto& [name, extra] : r.extras) clip(name, extra);
  return report;
}

}  // namespace fedra
