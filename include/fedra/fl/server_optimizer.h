// ServerOptimizer: how a sum-based strategy turns the round's aggregated client update
// (the example-weighted mean of local - global, "delta") into a step of the global model.
// Plain FedAvg adds delta; FedAvgM, FedAdam, FedYogi and FedAdagrad keep moments here
// (Reddi et al., "Adaptive Federated Optimization", ICLR 2021, Algorithm 2). Strategies hold
// one as an object, so any sum-based strategy can use any server optimizer.
//
// Thread-safety: not thread-safe.
#ifndef FEDRA_FL_SERVER_OPTIMIZER_H_
#define FEDRA_FL_SERVER_OPTIMIZER_H_

#include <memory>
#include <string>

#include "fedra/core/status.h"
#include "fedra/fl/strategy.h"
#include "fedra/ml/parameters.h"

namespace fedra {

class ServerOptimizer {
 public:
  virtual ~ServerOptimizer() = default;
  virtual std::string Name() const = 0;
  // global <- global + step(delta). InvalidArgument (global unchanged) if delta and global
  // differ in layout or do not match the size of the optimizer's state (e.g. state imported
  // from a checkpoint of another model).
  virtual Status Apply(const Parameters& delta, Parameters& global) = 0;
  virtual StrategyState ExportState() const = 0;
  // InvalidArgument (optimizer unchanged) if the state does not fit.
  virtual Status ImportState(const StrategyState& state) = 0;
};

// x += lr * v with v = momentum * v + delta (v starts at 0). lr = 1, momentum = 0 is FedAvg;
// momentum > 0 is FedAvgM (Hsu et al., 2019).
StatusOr<std::unique_ptr<ServerOptimizer>> NewServerSgd(float learning_rate, float momentum);

// Adaptive server optimizers of Reddi et al. (2021), Algorithm 2, without bias correction:
//   m = beta1 m + (1 - beta1) delta
//   v = v + delta^2                                   (Adagrad)
//   v = beta2 v + (1 - beta2) delta^2                 (Adam)
//   v = v - (1 - beta2) delta^2 sign(v - delta^2)     (Yogi)
//   x = x + eta * m / (sqrt(v) + tau)
// m starts at 0; v starts at tau^2 (the paper's v_{-1} >= tau^2).
struct AdaptiveServerOptions {
  float eta = 0.01f;  // server learning rate
  float beta1 = 0.9f;
  float beta2 = 0.99f;
  float tau = 1e-3f;  // degree of adaptivity
};
enum class AdaptiveKind { kAdagrad, kAdam, kYogi };
StatusOr<std::unique_ptr<ServerOptimizer>> NewAdaptiveServerOptimizer(
    AdaptiveKind kind, const AdaptiveServerOptions& options);

}  // namespace fedra

#endif  // FEDRA_FL_SERVER_OPTIMIZER_H_
