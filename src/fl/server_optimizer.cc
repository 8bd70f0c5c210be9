// Server optimizers: heavy-ball SGD (FedAvg, FedAvgM) and the adaptive family of
// Reddi et al. (ICLR 2021): FedAdagrad, FedAdam, FedYogi.
#include "fedra/fl/server_optimizer.h"

#include <cmath>

namespace fedra {
namespace {

// Restores named vectors from `state`; each must be absent (fresh optimizer) or as long as
// `size` (or any length while `size` is 0, i.e. before the first Apply).
Status RestoreVectors(const StrategyState& state, std::initializer_list<const char*> names,
                      std::map<std::string, std::vector<float>>* out) {
  std::map<std::string, std::vector<float>> restored;
  for (const char* name : names) {
    auto it = state.vectors.find(name);
    if (it == state.vectors.end())
      return InvalidArgumentError(std::string("server optimizer state lacks '") + name + "'");
    restored[name] = it->second;
  }
  if (state.vectors.size() != names.size())
    return InvalidArgumentError("server optimizer state has unexpected vectors");
  *out = std::move(restored);
  return OkStatus();
}

Status CheckStateSize(size_t state, size_t params) {
  if (state == params) return OkStatus();
  return InvalidArgumentError("server optimizer state holds " + std::to_string(state) +
                              " values but the model has " + std::to_string(params) +
                              " parameters");
}

class ServerSgd final : public ServerOptimizer {
 public:
  ServerSgd(float lr, float momentum) : lr_(lr), momentum_(momentum) {}
  std::string Name() const override { return momentum_ > 0 ? "sgd_momentum" : "sgd"; }

  Status Apply(const Parameters& delta, Parameters& global) override {
    FEDRA_RETURN_IF_ERROR(global.CheckSameLayout(delta));
    if (momentum_ == 0.0f) {
      global.Axpy(lr_, delta);
      return OkStatus();
    }
    if (v_.empty()) v_.assign(delta.size(), 0.0f);
    FEDRA_RETURN_IF_ERROR(CheckStateSize(v_.size(), delta.size()));
    VectorMap v(v_.data(), static_cast<Eigen::Index>(v_.size()));
    v = momentum_ * v + delta.Flat();
    global.Flat() += lr_ * v;
    return OkStatus();
  }

  StrategyState ExportState() const override {
    StrategyState s;
    if (momentum_ > 0) s.vectors["velocity"] = v_;
    return s;
  }
  Status ImportState(const StrategyState& state) override {
    if (momentum_ == 0.0f) {
      if (!state.vectors.empty()) return InvalidArgumentError("plain server SGD keeps no state");
      return OkStatus();
    }
    std::map<std::string, std::vector<float>> r;
    FEDRA_RETURN_IF_ERROR(RestoreVectors(state, {"velocity"}, &r));
    v_ = std::move(r["velocity"]);
    return OkStatus();
  }

 private:
  float lr_, momentum_;
  std::vector<float> v_;
};

class AdaptiveServer final : public ServerOptimizer {
 public:
  AdaptiveServer(AdaptiveKind kind, const AdaptiveServerOptions& o) : kind_(kind), o_(o) {}
  std::string Name() const override {
    switch (kind_) {
      case AdaptiveKind::kAdagrad:
        return "adagrad";
      case AdaptiveKind::kAdam:
        return "adam";
      case AdaptiveKind::kYogi:
        return "yogi";
    }
    return "adaptive";
  }

  Status Apply(const Parameters& delta, Parameters& global) override {
    FEDRA_RETURN_IF_ERROR(global.CheckSameLayout(delta));
    if (m_.empty()) {
      m_.assign(delta.size(), 0.0f);
      v_.assign(delta.size(), o_.tau * o_.tau);
    }
    FEDRA_RETURN_IF_ERROR(CheckStateSize(m_.size(), delta.size()));
    const auto n = static_cast<Eigen::Index>(delta.size());
    Eigen::Map<Eigen::ArrayXf> m(m_.data(), n), v(v_.data(), n);
    const auto d = delta.Flat().array();
    m = o_.beta1 * m + (1 - o_.beta1) * d;
    const Eigen::ArrayXf d2 = d.square();
    switch (kind_) {
      case AdaptiveKind::kAdagrad:
        v += d2;
        break;
      case AdaptiveKind::kAdam:
        v = o_.beta2 * v + (1 - o_.beta2) * d2;
        break;
      case AdaptiveKind::kYogi:
        v -= (1 - o_.beta2) * d2 * (v - d2).sign();
        break;
    }
    global.Flat().array() += o_.eta * m / (v.sqrt() + o_.tau);
    return OkStatus();
  }

  StrategyState ExportState() const override { return {{{"m", m_}, {"v", v_}}, {}}; }
  Status ImportState(const StrategyState& state) override {
    std::map<std::string, std::vector<float>> r;
    FEDRA_RETURN_IF_ERROR(RestoreVectors(state, {"m", "v"}, &r));
    if (r["m"].size() != r["v"].size())
      return InvalidArgumentError("server optimizer moments differ in size");
    m_ = std::move(r["m"]);
    v_ = std::move(r["v"]);
    return OkStatus();
  }

 private:
  AdaptiveKind kind_;
  AdaptiveServerOptions o_;
  std::vector<float> m_, v_;
};

}  // namespace

StatusOr<std::unique_ptr<ServerOptimizer>> NewServerSgd(float learning_rate, float momentum) {
  if (!(learning_rate > 0) || !std::isfinite(learning_rate))
    return InvalidArgumentError("server learning rate must be > 0");
  if (!(momentum >= 0 && momentum < 1))
    return InvalidArgumentError("server momentum must be in [0, 1)");
  return std::unique_ptr<ServerOptimizer>(std::make_unique<ServerSgd>(learning_rate, momentum));
}

StatusOr<std::unique_ptr<ServerOptimizer>> NewAdaptiveServerOptimizer(
    AdaptiveKind kind, const AdaptiveServerOptions& o) {
  if (!(o.eta > 0) || !std::isfinite(o.eta)) return InvalidArgumentError("server eta must be > 0");
  if (!(o.beta1 >= 0 && o.beta1 < 1) || !(o.beta2 >= 0 && o.beta2 < 1)) {
    return InvalidArgumentError("server beta1 and beta2 must be in [0, 1)");
  }
  if (!(o.tau > 0) || !std::isfinite(o.tau)) return InvalidArgumentError("server tau must be > 0");
  return std::unique_ptr<ServerOptimizer>(std::make_unique<AdaptiveServer>(kind, o));
}

}  // namespace fedra
