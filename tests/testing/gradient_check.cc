#include "testing/gradient_check.h"

#include <algorithm>
#include <cmath>

namespace fedra::testing {
namespace {

double Objective(Layer& layer, const Matrix& x, const Matrix& r) {
  Matrix y;
  layer.Forward(x, &y, /*training=*/true);
  return (y.cast<double>().array() * r.cast<double>().array()).sum();
}

double RelErr(double numeric, double analytic) {
  return std::abs(numeric - analytic) / std::max(1.0, std::abs(numeric));
}

}  // namespace

BoundLayer BindLayer(std::unique_ptr<Layer> layer, Rng& rng) {
  BoundLayer b;
  b.layer = std::move(layer);
  std::vector<float*> w, g;
  for (const ParamSpec& spec : b.layer->ParameterSpecs()) {
    b.weights.emplace_back(static_cast<size_t>(NumElements(spec.shape)));
    b.grads.emplace_back(static_cast<size_t>(NumElements(spec.shape)));
  }
  for (size_t i = 0; i < b.weights.size(); ++i) {
    w.push_back(b.weights[i].data());
    g.push_back(b.grads[i].data());
  }
  b.layer->Bind(w, g);
  b.layer->Initialize(rng);
  return b;
}

GradientReport CheckLayerGradients(BoundLayer& bound, const Matrix& x, Rng& rng, double eps,
                                   const std::function<void(BoundLayer&)>& corrupt) {
  Layer& layer = *bound.layer;
  Matrix y, dx;
  layer.Forward(x, &y, true);
  Matrix r(y.rows(), y.cols());
  for (Eigen::Index i = 0; i < r.size(); ++i) r.data()[i] = static_cast<float>(rng.Normal());
  layer.Backward(x, y, r, &dx);
  if (corrupt) corrupt(bound);
  const std::vector<std::vector<float>> analytic = bound.grads;

  GradientReport report;
  Matrix xp = x;
  for (Eigen::Index i = 0; i < x.size(); ++i) {
    const float orig = xp.data()[i];
    const float hi = orig + static_cast<float>(eps), lo = orig - static_cast<float>(eps);
    xp.data()[i] = hi;
    const double lp = Objective(layer, xp, r);
    xp.data()[i] = lo;
    const double lm = Objective(layer, xp, r);
    xp.data()[i] = orig;
    report.max_input_error = std::max(report.max_input_error,
                                      RelErr((lp - lm) / (double{hi} - double{lo}), dx.data()[i]));
    ++report.checked;
  }
  for (size_t t = 0; t < bound.weights.size(); ++t) {
    for (size_t i = 0; i < bound.weights[t].size(); ++i) {
      float& w = bound.weights[t][i];
      const float orig = w;
      const float hi = orig + static_cast<float>(eps), lo = orig - static_cast<float>(eps);
      w = hi;
      const double lp = Objective(layer, x, r);
      w = lo;
      const double lm = Objective(layer, x, r);
      w = orig;
      report.max_param_error = std::max(
          report.max_param_error, RelErr((lp - lm) / (double{hi} - double{lo}), analytic[t][i]));
      ++report.checked;
    }
  }
  return report;
}

}  // namespace fedra::testing
