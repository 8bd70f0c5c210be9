// Private to the net layer: the tasks of the batch fedra::Server is running (a round's FIT,
// each secure STAGE, EVALUATE) and what became of them. The driver opens a batch, the service
// handlers hand its tasks out and claim them with answers, and overdue tasks are ended; an
// answer to a closed batch is told apart (late, duplicate, unknown) for this round and the
// previous one. Not thread-safe: the server calls it under its own mutex. Time is passed in,
// so the rules are tested without gRPC (tests/net/task_board_test.cc).
#ifndef FEDRA_SRC_NET_TASK_BOARD_H_
#define FEDRA_SRC_NET_TASK_BOARD_H_

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <grpcpp/support/status.h>

#include "fedra/core/status.h"
#include "fedra/fl/round_config.h"
#include "fedra/fl/types.h"
#include "fedra/ml/parameters.h"
#include "fedra/v1/federation.pb.h"
#include "net/model_lease.h"
#include "net/steady_time.h"

namespace fedra::net {

enum class TaskState { kQueued, kSent, kReceiving, kDone };

struct Task {
  uint64_t id = 0;  // set by TaskBoard::Open
  ClientId client = 0;
  size_t index = 0;  // position in the driver's batch
  FitConfig fit;
  int eval_batch = 0;
  RoundConfig eval_extra;
  std::shared_ptr<const std::string> stage_message;  // STAGE: the payload
  TaskState state = TaskState::kQueued;
  // The upload in progress (kReceiving): its handler's token and how to cancel it if the
  // task ends first; cleared by the handler before it returns.
  uint64_t upload = 0;
  std::function<void()> cancel_upload;
  bool holds_slot = false;   // the upload has its slot (waiting for one is not stalling)
  bool answered = false;     // the client sent an answer (accepted or not)
  SteadyTime last_progress;  // when it got the slot or its last chunk arrived
};

// Tells a secure answer's handler the protocol's verdict, once. An outcome dropped before the
// driver checked it tells Unavailable; Cancel() forgets the handler without telling it.
class VerdictPromise {
 public:
  explicit VerdictPromise(std::function<void(Status)> tell) : tell_(std::move(tell)) {}
  ~VerdictPromise() { Tell(UnavailableError("the round ended before the answer was checked")); }
  VerdictPromise(const VerdictPromise&) = delete;
  VerdictPromise& operator=(const VerdictPromise&) = delete;
  void Tell(Status verdict) {
    if (auto tell = std::exchange(tell_, nullptr)) tell(std::move(verdict));
  }
  void Cancel() { tell_ = nullptr; }

 private:
  std::function<void(Status)> tell_;
};

// What a finished task hands back to the driver thread.
struct Outcome {
  size_t index = 0;
  Status status;
  FitResult fit;
  EvaluateResult eval;
  v1::FitReport secure_report;  // secure FIT: the folded sums' names
  std::string opaque;           // secure FIT upload or STAGE answer
  bool holds_slot = false;      // an upload slot to release once the driver is done with it
  uint64_t slot_bytes = 0;      // the bytes it declared
  // Secure answers are checked by the protocol on the driver thread; its verdict goes back to
  // the handler, which tells the client.
  std::shared_ptr<VerdictPromise> verdict;
};

// What one batch of tasks is: its kind and, for secure rounds, the protocol's instructions.
struct BoardSetup {
  v1::TaskKind kind = v1::FIT;
  int round = 0;
  double deadline_seconds = 0;
  const v1::SecureFitInstructions* secure = nullptr;  // FIT of a secure round
  std::string protocol;                               // STAGE
  uint32_t stage = 0;                                 // STAGE
};

// The open batch.
struct Board {
  int round = 0;
  v1::TaskKind kind = v1::FIT;
  std::optional<v1::SecureFitInstructions> secure;
  std::string protocol;
  uint32_t stage = 0;
  std::shared_ptr<ModelLease> model;  // what FIT and EVALUATE tasks download (null: STAGE)
  std::map<uint64_t, Task> tasks;
  std::map<ClientId, uint64_t> by_client;
  uint64_t opaque_limit = 0;  // largest opaque answer accepted (secure rounds)
  uint64_t generation = 0;    // tells apart the boards of one round (FIT, stages, EVALUATE)
  std::deque<Outcome> done;
  bool opaque() const { return kind == v1::STAGE || (kind == v1::FIT && secure.has_value()); }
};

// A client's answer checked against the board: the task it may answer, or the refusal.
struct Claim {
  Task* task = nullptr;
  grpc::Status refusal;
  bool late = false;  // the refusal is for an answer that came after its task or round ended
};

// Tasks ended by TaskBoard::Expire.
struct Expired {
  size_t timed_out = 0;  // deadline passed or client silent
  size_t stalled = 0;    // an upload holding a slot stopped sending
  // The cancel_upload of the uploads they ended, for the caller to run once it has released
  // its lock (cancelling may run the upload's handler at once).
  std::vector<std::function<void()>> cancels;
};

class TaskBoard {
 public:
  // Opens a batch; REQUIRES none open. Task ids are random, never 0 and never reuse an id of
  // this round or the previous one.
  void Open(const BoardSetup& setup, std::shared_ptr<ModelLease> model, std::vector<Task> tasks,
            uint64_t opaque_limit);
  // The open batch, or null.
  Board* board() { return board_ ? &*board_ : nullptr; }
  const Board* board() const { return board_ ? &*board_ : nullptr; }

  // The queued task of `client`, now marked sent; null when it has none.
  Task* TakeQueued(ClientId client);
  // Sends a task again at its client's next poll (it re-registered mid-task, or its download
  // broke): a sent task goes back to the queue. RequeueTask only acts on a board of `round`.
  void Requeue(ClientId client);
  void RequeueTask(uint64_t task_id, int round);

  // Checks an answer to `task_id` for `round` from `client` (called `name`; `what` names the
  // result in messages). A task of the open batch that this client has not answered is
  // returned, now marked answered; otherwise the refusal: NOT_FOUND (never handed out),
  // PERMISSION_DENIED (another client's), ALREADY_EXISTS (a second answer), FAILED_PRECONDITION
  // (late: its task or round ended; or for another round).
  Claim ClaimAnswer(uint64_t task_id, int round, ClientId client, const std::string& name,
                    const std::string& what);
  // The task `task_id` of board `generation` if it is still receiving an upload, else null.
  Task* Receiving(uint64_t task_id, uint64_t generation);
  // Ends a task with an outcome for the driver.
  void Complete(Task& task, Outcome outcome);
  std::optional<Outcome> PopDone();

  // Ends the tasks that are overdue at `now`: all unfinished ones past `deadline`; those whose
  // client stopped responding (not while it uploads); uploads holding a slot that received
  // nothing for `stall_seconds` (0: never), whose handlers are to be cancelled.
  Expired Expire(SteadyTime now, SteadyTime deadline, double stall_seconds,
                 const std::function<bool(ClientId)>& responsive,
                 const std::function<std::string(ClientId)>& name_of);
  // Closes the batch: answers to its tasks are duplicates or late from now on.
  void Close();
  int last_round() const { return last_round_; }

 private:
  struct ClosedTask {
    int round = 0;
    bool answered = false;
  };
  std::optional<Board> board_;
  std::map<uint64_t, ClosedTask> closed_tasks_;  // this round's and the previous one's
  int last_round_ = 0;
  uint64_t generations_ = 0;  // boards opened so far
};

}  // namespace fedra::net

#endif  // FEDRA_SRC_NET_TASK_BOARD_H_
