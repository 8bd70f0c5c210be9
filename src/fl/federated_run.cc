#include "fedra/fl/federated_run.h"

#include <filesystem>

namespace fedra {

StatusOr<FederatedRun> FederatedRun::Open(FederatedRunOptions options, Parameters initial) {
  FederatedRun run;
  run.o_ = std::move(options);
  run.global_ = std::move(initial);
  run.run_id_ = run.o_.run_id;
  run.seed_ = run.o_.seed;
  if (!run.o_.run_dir.empty()) {
    FEDRA_ASSIGN_OR_RETURN(run.checkpoint_, LoadCheckpoint(run.o_.run_dir));
  }
  if (run.checkpoint_) {
    Checkpoint& c = *run.checkpoint_;
    if (c.fingerprint != run.o_.fingerprint) {
      return FailedPreconditionError(run.o_.run_dir + " holds a checkpoint of another run (" +
                                     c.fingerprint + "); this run is " + run.o_.fingerprint +
                                     ". Use another run directory.");
    }
    FEDRA_RETURN_IF_ERROR(run.global_.CheckSameLayout(c.global).WithContext(run.o_.run_dir));
    run.global_ = std::move(c.global);
    run.history_ = std::move(c.history);
    run.next_round_ = c.round + 1;
    run.run_id_ = c.run_id;
    run.seed_ = c.seed;
  }
  return run;
}

Status FederatedRun::Run(Strategy& strategy, ClientPool& pool, RoundDriverOptions driver) {
  if (checkpoint_) {
    FEDRA_RETURN_IF_ERROR(strategy.ImportState(checkpoint_->strategy).WithContext(o_.run_dir));
    if (!checkpoint_->clients.empty() && !o_.import_clients) {
      return FailedPreconditionError(o_.run_dir + " holds client state this pool cannot take");
    }
    if (o_.import_clients)
      FEDRA_RETURN_IF_ERROR(o_.import_clients(checkpoint_->clients).WithContext(o_.run_dir));
    checkpoint_->strategy = {};  // imported once
    checkpoint_->clients.clear();
  }
  std::optional<MetricsLog> metrics;
  if (!o_.metrics_path.empty()) {
    const auto parent = std::filesystem::path(o_.metrics_path).parent_path();
    std::error_code ec;
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    if (ec) return InvalidArgumentError("cannot create " + parent.string() + ": " + ec.message());
    FEDRA_ASSIGN_OR_RETURN(metrics, MetricsLog::Open(o_.metrics_path, true));
    for (const auto& m : history_) FEDRA_RETURN_IF_ERROR(metrics->Append(m));
  }
  driver.num_rounds = o_.num_rounds;
  driver.seed = seed_;
  RoundDriver rounds(strategy, pool, driver);
  if (checkpoint_) {
    FEDRA_RETURN_IF_ERROR(
        rounds.influence_bound().ImportReference(checkpoint_->influence).WithContext(o_.run_dir));
  }
  for (int round = next_round_; round <= o_.num_rounds; ++round) {
    if (o_.stop != nullptr && o_.stop->load()) {
      stopped_by_flag_ = true;
      break;
    }
    if (o_.before_round) FEDRA_RETURN_IF_ERROR(o_.before_round(round));
    if (o_.stop != nullptr && o_.stop->load()) {
      stopped_by_flag_ = true;
      break;
    }
    RoundMetrics m = rounds.RunRound(round, global_);
    if (m.stop) {
      // The strategy's own words, without the status code that carried them.
      const std::string code = "RESOURCE_EXHAUSTED: ";
      strategy_stop_ = m.error.rfind(code, 0) == 0 ? m.error.substr(code.size()) : m.error;
      break;
    }
    if (o_.stop_on_empty_round && !m.aggregated && m.fit_clients == 0) {
      return FailedPreconditionError("round " + std::to_string(round) + ": " + m.error);
    }
    if (o_.annotate) o_.annotate(m);
    history_.push_back(m);
    if (metrics) FEDRA_RETURN_IF_ERROR(metrics->Append(m));
    if (!o_.run_dir.empty()) {
      Checkpoint c{.round = round,
                   .seed = seed_,
                   .run_id = run_id_,
                   .fingerprint = o_.fingerprint,
                   .global = global_,
                   .strategy = strategy.ExportState(),
                   .history = history_,
                   .influence = rounds.influence_bound().ExportReference()};
      if (o_.export_clients) c.clients = o_.export_clients();
      FEDRA_RETURN_IF_ERROR(SaveCheckpoint(o_.run_dir, c));
    }
    next_round_ = round + 1;
    if (o_.on_round) o_.on_round(history_.back());
  }
  return OkStatus();
}

}  // namespace fedra
