// EdgeTrainer: how a fedra-server takes part in an upper server's run as an edge aggregator
// (a hierarchy of aggregators). It is the LocalTrainer of a Client connected to the upper
// server. Given the upper server's FIT task, it runs that round on its own clients (its
// ClientPool, e.g. its own Server): its strategy samples them, each gets the upper task's
// settings and broadcast, and their accepted results fold into the strategy's sums
// (RoundDriver::FoldRound: the same checks, influence bound and secure-sum paths as any round).
// It answers with the sums themselves (FitResult::folded), not a mean, so the upper server's
// sum over its edges equals its sum over all their clients. An EVALUATE task is answered with
// the example-weighted evaluation of the edge's clients.
//
//   EdgeTrainer edge(*strategy, server->pool(), {.before_round = wait_for_clients});
//   Client upstream(edge, client_options);  // the upper server must list it as an aggregator
//   upstream.Run();
//
// The edge's strategy must fold like the upper server's (the upper server refuses sums it
// does not fold); its AggregateFit never runs. A task of a DP run across tiers (its config
// names the mode, fedra/fl/tiers.h) is folded as DP folds, whatever the strategy: each
// client's update clipped to the task's clip_norm (central mode) with weight 1; in
// distributed mode the task's noise_stddev is split over the edge's clients and the edge
// adds the shares of those that failed. An edge with its own secure sum refuses such tasks.
// Every answer carries the edge's planned and connected client counts (fedra/fl/tiers.h).
// Thread-safety: one Client drives it.
#ifndef FEDRA_NET_EDGE_H_
#define FEDRA_NET_EDGE_H_

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "fedra/fl/client_pool.h"
#include "fedra/fl/local_trainer.h"
#include "fedra/fl/round_driver.h"
#include "fedra/fl/strategy.h"
#include "fedra/privacy/dp/gaussian_noise.h"

namespace fedra {
namespace internal {
class TierDpFold;
}

struct EdgeOptions {
  // max_failure_fraction, influence bound and secure sum of the edge's rounds (num_rounds,
  // evaluation and the learning-rate decay are the upper server's business).
  RoundDriverOptions driver;
  // Before each edge round, e.g. waiting for enough of the edge's clients; an error fails the
  // upper server's task (the edge then counts as one failed client there).
  std::function<Status()> before_round;
  // After each edge round, with its own metrics (fit counts, loss, bytes), for logs.
  std::function<void(const RoundMetrics&)> on_round;
  // The edge's own clients include aggregators (a middle tier, fedra-server --aggregators):
  // it refuses DP tasks, whose client counts would then mix clients and edges.
  bool has_aggregators = false;
};

class EdgeTrainer final : public LocalTrainer {
 public:
  // `strategy` and `pool` must outlive the trainer.
  EdgeTrainer(Strategy& strategy, ClientPool& pool, EdgeOptions options);
  ~EdgeTrainer() override;

  // The folded sums of one round of the edge's clients, with num_examples and train_loss over
  // the accepted ones and metrics "edge_clients" / "edge_failures". Errors: the strategy's
  // ConfigureFit (too few clients), the edge round's failure.
  StatusOr<FitResult> Fit(const Parameters& global, const FitConfig& config,
                          const std::map<std::string, Parameters>& broadcast, Rng& rng) override;
  StatusOr<EvaluateResult> Evaluate(const Parameters& global, const EvaluateTask& task) override;

 private:
  Strategy& strategy_;
  ClientPool& pool_;
  EdgeOptions o_;
  RoundDriver driver_;
  // DP rounds across tiers: DP's fold around strategy_, its own driver, the top-up noise.
  std::unique_ptr<internal::TierDpFold> dp_fold_;
  std::unique_ptr<RoundDriver> dp_driver_;
  std::optional<dp::GaussianNoise> dp_noise_;
  int round_ = 0;
};

}  // namespace fedra

#endif  // FEDRA_NET_EDGE_H_
