// fedra::Server as a ClientPool: the round driver's batches of tasks (FIT, EVALUATE, the
// secure protocols' STAGEs) run through the task board; outcomes come back on the driver's
// thread.
#include <algorithm>

#include "net/server_impl.h"

namespace fedra {

std::vector<ClientId> Server::Impl::AvailableClients() {
  std::lock_guard lock(mu);
  return registry.Live(Clock::now());
}

void Server::Impl::RunTasks(const net::BoardSetup& setup, const Parameters* global,
                            const std::map<std::string, Parameters>& broadcast,
                            std::vector<net::Task> tasks,
                            const std::function<Status(Outcome&)>& deliver) {
  // Downloads read the driver's model in place; see the end for what happens to late ones.
  std::shared_ptr<net::ModelLease> lease;
  if (global) lease = std::make_shared<net::ModelLease>(*global, broadcast);
  size_t remaining = tasks.size();
  std::unique_lock lock(mu);
  board.Open(setup, lease, std::move(tasks), opaque_limit);
  cv.notify_all();
  lock.unlock();
  WakePolls(Wake::kBoard);  // the waiting polls of this batch's clients get their tasks now
  lock.lock();
  const auto deadline =
      Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(setup.deadline_seconds * 1000));
  const auto responsive = [&](ClientId id) { return registry.Responsive(id, Clock::now()); };
  const auto name_of = [&](ClientId id) { return registry.NameOf(id); };
  while (remaining > 0) {
    while (std::optional<Outcome> out = board.PopDone()) {
      lock.unlock();
      Status verdict = deliver(*out);
      if (out->verdict) out->verdict->Tell(std::move(verdict));
      out.reset();  // free the update before taking the lock again
      lock.lock();
      --remaining;
    }
    if (remaining == 0) break;
    const auto now = Clock::now();
    net::Expired expired = board.Expire(now, deadline, o.upload_stall_seconds, responsive, name_of);
    stats.uploads_stalled += expired.stalled;
    stats.tasks_timed_out += expired.timed_out;
    if (!expired.cancels.empty()) {
      lock.unlock();
      for (const auto& cancel : expired.cancels) cancel();
      lock.lock();
    }
    if (expired.stalled + expired.timed_out == 0) {
      cv.wait_until(lock, std::min(deadline, now + std::chrono::seconds(1)));
    }
  }
  // Close the batch; uploads still running find it closed and are counted late.
  board.Close();
  cv.notify_all();
  lock.unlock();
  // The driver may change its model once we return: a download still reading it (a client
  // slower than the round) goes on from the lease's own copy.
  if (lease) lease->Return(lease.use_count());
}

namespace {

std::vector<net::Task> FitTasks(const RoundPlan& plan) {
  std::vector<net::Task> tasks;
  for (size_t i = 0; i < plan.tasks.size(); ++i) {
    tasks.push_back({.client = plan.tasks[i].client, .index = i, .fit = plan.tasks[i].config});
  }
  return tasks;
}

}  // namespace

void Server::Impl::RunFit(const Parameters& global, const RoundPlan& plan,
                          const FitCallback& on_result) {
  RunTasks({.kind = v1::FIT, .round = plan.round, .deadline_seconds = o.round_deadline_seconds},
           &global, plan.broadcast, FitTasks(plan), [&](Outcome& out) {
             if (out.status.ok()) {
               on_result(out.index, std::move(out.fit));
             } else {
               on_result(out.index, out.status);
             }
             if (out.holds_slot) ReleaseSlot(out.slot_bytes);
             return OkStatus();
           });
  spare.Clear();  // the round's aggregation comes next: no spare model beside it
}

void Server::Impl::RunEvaluate(const Parameters& global, std::span<const EvaluateTask> tasks,
                               const EvaluateCallback& on_result) {
  std::vector<net::Task> board_tasks;
  for (size_t i = 0; i < tasks.size(); ++i) {
    board_tasks.push_back({.client = tasks[i].client,
                           .index = i,
                           .eval_batch = tasks[i].batch_size,
                           .eval_extra = tasks[i].extra});
  }
  int round = 0;
  {
    std::lock_guard lock(mu);
    round = board.last_round();  // evaluation follows the fit round it scores
  }
  RunTasks({.kind = v1::EVALUATE, .round = round, .deadline_seconds = o.round_deadline_seconds},
           &global, {}, std::move(board_tasks), [&](Outcome& out) {
             if (out.status.ok()) {
               on_result(out.index, out.eval);
             } else {
               on_result(out.index, out.status);
             }
             return OkStatus();
           });
}

// ---- secure rounds ---------------------------------------------------------------------

// The protocol's STAGE tasks, as batches on the board.
class Server::Impl::StageRunner final : public net::StageTransport {
 public:
  StageRunner(Impl& impl, int round) : impl_(impl), round_(round) {}
  void RunStage(const std::string& protocol, uint32_t stage, std::vector<net::StageTask> tasks,
                double deadline_seconds,
                const std::function<Status(net::StageReply)>& on_reply) override {
    std::vector<net::Task> board_tasks;
    for (auto& t : tasks) {
      board_tasks.push_back(
          {.client = t.client,
           .index = t.index,
           .stage_message = std::make_shared<const std::string>(std::move(t.message))});
    }
    impl_.RunTasks({.kind = v1::STAGE,
                    .round = round_,
                    .deadline_seconds = deadline_seconds,
                    .protocol = protocol,
                    .stage = stage},
                   nullptr, {}, std::move(board_tasks), [&](Outcome& out) {
                     if (out.holds_slot) impl_.ReleaseSlot(out.slot_bytes);
                     return on_reply({out.index, out.status, std::move(out.opaque)});
                   });
  }

 private:
  Impl& impl_;
  int round_;
};

StatusOr<SecureSum::Total> Server::Impl::RunSecureFit(const Parameters& global,
                                                      const RoundPlan& plan, size_t max_losses,
                                                      const FitCallback& on_result) {
  if (!secure) return ClientPool::RunSecureFit(global, plan, max_losses, on_result);
  size_t failed = 0;
  opaque_limit = 8 * global.num_bytes() + (uint64_t{16} << 20);
  FEDRA_ASSIGN_OR_RETURN(std::unique_ptr<net::SecureRound> round,
                         secure->NewRound(plan.round, global));
  RunTasks({.kind = v1::FIT,
            .round = plan.round,
            .deadline_seconds = o.round_deadline_seconds,
            .secure = &secure->fit_instructions()},
           &global, plan.broadcast, FitTasks(plan), [&](Outcome& out) {
             Status s = out.status;
             if (s.ok()) {
               s = round->AcceptFit(out.index, out.fit.client, out.secure_report,
                                    std::move(out.opaque));
               if (!s.ok()) s = s.WithContext("client " + std::to_string(out.fit.client));
             }
             if (out.holds_slot) ReleaseSlot(out.slot_bytes);
             if (s.ok()) {
               on_result(out.index, std::move(out.fit));
             } else {
               ++failed;
               on_result(out.index, s);
             }
             return s;
           });
  if (failed > max_losses) {
    return UnavailableError(std::to_string(failed) + " of " + std::to_string(plan.tasks.size()) +
                            " clients failed, more than the " + std::to_string(max_losses) +
                            " tolerated; the protocol was not run");
  }
  StageRunner stages(*this, plan.round);
  StatusOr<SecureSum::Total> total = round->Finish(stages, max_losses - failed);
  {
    std::lock_guard<std::mutex> lock(mu);
    stats.forged_answers += round->forged_answers();
  }
  return total;
}

}  // namespace fedra
