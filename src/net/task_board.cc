#include "net/task_board.h"

#include <openssl/rand.h>

#include <algorithm>

#include "fedra/core/logging.h"

namespace fedra::net {
namespace {

uint64_t RandomU64() {
  uint64_t v = 0;
  FEDRA_CHECK_MSG(RAND_bytes(reinterpret_cast<unsigned char*>(&v), sizeof v) == 1,
                  "RAND_bytes failed");
  return v;
}

}  // namespace

void TaskBoard::Open(const BoardSetup& setup, std::shared_ptr<ModelLease> model,
                     std::vector<Task> tasks, uint64_t opaque_limit) {
  FEDRA_CHECK_MSG(!board_, "a batch of tasks is already open");
  Board& b = board_.emplace();
  b.generation = ++generations_;
  b.round = setup.round;
  b.kind = setup.kind;
  b.model = std::move(model);
  if (setup.secure) b.secure = *setup.secure;
  b.protocol = setup.protocol;
  b.stage = setup.stage;
  b.opaque_limit = opaque_limit;
  for (Task& t : tasks) {
    do {
      t.id = RandomU64();
    } while (t.id == 0 || b.tasks.contains(t.id) || closed_tasks_.contains(t.id));
    b.by_client[t.client] = t.id;
    b.tasks.emplace(t.id, std::move(t));
  }
}

Task* TaskBoard::TakeQueued(ClientId client) {
  if (!board_) return nullptr;
  auto t = board_->by_client.find(client);
  if (t == board_->by_client.end()) return nullptr;
  Task& task = board_->tasks.at(t->second);
  if (task.state != TaskState::kQueued) return nullptr;
  task.state = TaskState::kSent;
  return &task;
}

void TaskBoard::Requeue(ClientId client) {
  if (!board_) return;
  auto t = board_->by_client.find(client);
  if (t == board_->by_client.end()) return;
  Task& task = board_->tasks.at(t->second);
  if (task.state == TaskState::kSent) task.state = TaskState::kQueued;
}

void TaskBoard::RequeueTask(uint64_t task_id, int round) {
  if (!board_ || board_->round != round) return;
  auto t = board_->tasks.find(task_id);
  if (t != board_->tasks.end() && t->second.state == TaskState::kSent) {
    t->second.state = TaskState::kQueued;
  }
}

Claim TaskBoard::ClaimAnswer(uint64_t task_id, int round, ClientId client, const std::string& name,
                             const std::string& what) {
  const grpc::Status duplicate(grpc::StatusCode::ALREADY_EXISTS,
                               what + ": already answered (duplicate)");
  const grpc::Status late_task(
      grpc::StatusCode::FAILED_PRECONDITION,
      what + " is late: its task closed (deadline, or the client was dropped); result dropped");
  Task* task = nullptr;
  if (board_) {
    auto t = board_->tasks.find(task_id);
    if (t != board_->tasks.end()) task = &t->second;
  }
  if (!task) {
    // A round has several boards (FIT, secure stages, EVALUATE). While the round runs, a
    // second answer to a task of a closed board is a duplicate, a first one late, and an id
    // never handed out unknown; once the round is over, every answer for it is late.
    const auto it = closed_tasks_.find(task_id);
    const bool closed = it != closed_tasks_.end();
    const bool running = board_ && round == board_->round;
    if (!running && round <= last_round_) {
      return {.refusal = grpc::Status(
                  grpc::StatusCode::FAILED_PRECONDITION,
                  what + " is late: round " + std::to_string(round) + " is closed; result dropped"),
              .late = true};
    }
    if (closed && it->second.answered) return {.refusal = duplicate};
    if (closed) return {.refusal = late_task, .late = true};
    return {.refusal = grpc::Status(grpc::StatusCode::NOT_FOUND, what + ": unknown task id")};
  }
  if (task->client != client) {
    return {.refusal = grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                                    what + ": the task belongs to another client, not " + name)};
  }
  if (round != board_->round) {
    return {.refusal =
                grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                             what + ": the task is for round " + std::to_string(board_->round))};
  }
  if (task->answered) return {.refusal = duplicate};  // an upload in progress has answered too
  if (task->state == TaskState::kDone) {              // ended unanswered
    return {.refusal = late_task, .late = true};
  }
  task->answered = true;
  return {.task = task};
}

Task* TaskBoard::Receiving(uint64_t task_id, uint64_t generation) {
  if (!board_ || board_->generation != generation) return nullptr;
  auto t = board_->tasks.find(task_id);
  if (t == board_->tasks.end() || t->second.state != TaskState::kReceiving) return nullptr;
  return &t->second;
}

void TaskBoard::Complete(Task& task, Outcome outcome) {
  FEDRA_CHECK(board_.has_value());
  task.state = TaskState::kDone;
  outcome.index = task.index;
  board_->done.push_back(std::move(outcome));
}

std::optional<Outcome> TaskBoard::PopDone() {
  if (!board_ || board_->done.empty()) return std::nullopt;
  Outcome out = std::move(board_->done.front());
  board_->done.pop_front();
  return out;
}

Expired TaskBoard::Expire(SteadyTime now, SteadyTime deadline, double stall_seconds,
                          const std::function<bool(ClientId)>& responsive,
                          const std::function<std::string(ClientId)>& name_of) {
  Expired expired;
  if (!board_) return expired;
  for (auto& [id, task] : board_->tasks) {
    if (task.state == TaskState::kDone) continue;
    const bool receiving = task.state == TaskState::kReceiving;
    if (receiving && task.holds_slot && task.upload != 0 && stall_seconds > 0 &&
        Seconds(now - task.last_progress) >= stall_seconds) {
      // A sender that took an upload slot and stopped sending gives it back long before the
      // round deadline, so the honest uploads waiting for it proceed.
      ++expired.stalled;
      if (task.cancel_upload) expired.cancels.push_back(task.cancel_upload);
      Complete(task, {.status = UnavailableError(
                          "client " + name_of(task.client) + "'s upload sent nothing for " +
                          std::to_string(stall_seconds) + " s: its slot is freed")});
      continue;
    }
    const bool past_deadline = now >= deadline;
    if (past_deadline || (!receiving && !responsive(task.client))) {
      ++expired.timed_out;
      // A stalled upload would hold its slot for ever: end it.
      if (receiving && task.upload != 0 && task.cancel_upload) {
        expired.cancels.push_back(task.cancel_upload);
      }
      const std::string who = name_of(task.client);
      Complete(task, {.status = UnavailableError(
                          past_deadline ? "client " + who + " did not answer within the deadline"
                                        : "client " + who + " stopped responding")});
    }
  }
  return expired;
}

void TaskBoard::Close() {
  if (!board_) return;
  const int round = board_->round;
  std::erase_if(closed_tasks_, [&](const auto& e) { return e.second.round < round - 1; });
  for (const auto& [id, t] : board_->tasks) closed_tasks_[id] = {round, t.answered};
  last_round_ = std::max(last_round_, round);
  board_.reset();
}

}  // namespace fedra::net
