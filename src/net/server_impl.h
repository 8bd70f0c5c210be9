// Private to the net layer: fedra::Server's state, shared by its parts —
//   server.cc         start-up (options, credentials, listening) and the public API;
//   server_service.cc the unary handlers (Register, Heartbeat), authentication, refusals;
//   server_uploads.cc SubmitResult on the callback API: uploads wait for a slot in a queue;
//   server_polls.cc   GetTask on gRPC's callback API: a waiting long poll costs memory, not a
//                     thread; polls are answered when a task, the end or their time comes;
//   server_rounds.cc  the ClientPool side the round driver calls (runs batches of tasks).
// The rules live in smaller pieces tested without a server: who a caller is
// (net/server_auth.h), the clients and their sessions (net/session_registry.h), and the
// tasks of the running batch (net/task_board.h). One mutex guards all mutable state.
#ifndef FEDRA_SRC_NET_SERVER_IMPL_H_
#define FEDRA_SRC_NET_SERVER_IMPL_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "core/log_safe.h"
#include "fedra/core/logging.h"
#include "fedra/fl/round_driver.h"
#include "fedra/net/server.h"
#include "fedra/v1/federation.grpc.pb.h"
#include "net/secure_rounds.h"
#include "net/server_auth.h"
#include "net/session_registry.h"
#include "net/spare_buffer.h"
#include "net/task_board.h"

namespace fedra {

// The server's deadlines, waits and liveness (one alias for every server_*.cc).
using Clock = std::chrono::steady_clock;

struct Server::Impl final : v1::Federation::CallbackService, ClientPool {
  using Outcome = net::Outcome;
  explicit Impl(const ServerOptions& options);
  ~Impl() override;

  ServerOptions o;
  net::ClientAuthenticator auth;  // client certificates and/or tokens
  std::unique_ptr<grpc::Server> grpc_server;
  int port = 0;
  std::shared_ptr<spdlog::logger> log = Logger("server");
  std::unique_ptr<net::SecureRoundFactory> secure;

  // Model downloads being written; each sends chunks of ChunkBytesForDownloads() (atomic: the
  // writers count themselves without mu).
  std::atomic<size_t> downloads{0};
  // One folded upload's memory for the next upload (net/spare_buffer.h); emptied after a
  // round's fit.
  net::SpareBuffer spare;
  size_t ChunkBytesForDownloads(size_t downloads_now) const;

  mutable std::mutex mu;
  std::condition_variable cv;
  // Guarded by mu.
  net::SessionRegistry registry;
  net::TaskBoard board;
  size_t inflight = 0;          // uploads holding a slot
  uint64_t inflight_bytes = 0;  // the bytes they declared
  uint64_t uploads = 0;         // upload tokens handed out
  bool finished = false;
  bool stopping = false;
  ServerStats stats;
  uint64_t opaque_limit = 0;  // driver thread only
  // Warnings caused by one peer: at most 20 per 10 s each (a hostile client cannot flood the log).
  WarningLimiter peer_warnings{20, std::chrono::seconds(10)};

  // ---- service (server_service.cc) ----
  grpc::ServerUnaryReactor* Register(grpc::CallbackServerContext* ctx,
                                     const v1::RegisterRequest* req,
                                     v1::RegisterResponse* resp) override;
  grpc::ServerUnaryReactor* Heartbeat(grpc::CallbackServerContext* ctx,
                                      const v1::HeartbeatRequest* req,
                                      v1::HeartbeatResponse* resp) override;
  // Their work, done at once on gRPC's callback thread (no waiting inside).
  grpc::Status RegisterNow(grpc::CallbackServerContext* ctx, const v1::RegisterRequest* req,
                           v1::RegisterResponse* resp);
  grpc::Status HeartbeatNow(grpc::CallbackServerContext* ctx, const v1::HeartbeatRequest* req,
                            v1::HeartbeatResponse* resp);
  grpc::ServerWriteReactor<v1::TaskChunk>* GetTask(grpc::CallbackServerContext* ctx,
                                                   const v1::GetTaskRequest* req) override;
  grpc::ServerReadReactor<v1::ResultChunk>* SubmitResult(grpc::CallbackServerContext* ctx,
                                                         v1::SubmitResultResponse* resp) override;

  // The key warnings about this caller are counted under: its authenticated name, else its
  // address without the port (a new connection is the same peer).
  static std::string PeerKey(grpc::ServerContextBase* ctx, const std::string& name);
  // Logs a warning caused by `peer`: escaped, bounded, rate-limited per peer.
  void WarnAboutPeer(const std::string& peer, const std::string& message);
  // The authenticated identity of the caller (net/server_auth.h), or UNAUTHENTICATED
  // (counted and logged) or PERMISSION_DENIED. Authenticated(): "" with no credentials
  // configured (the identity then comes from the session).
  grpc::Status Identify(grpc::ServerContextBase* ctx, const std::string& claimed,
                        std::string* name);
  grpc::Status Authenticated(grpc::ServerContextBase* ctx, std::string* name);
  // REQUIRES: mu held. Ends a task with an outcome for the driver and wakes it.
  void Complete(net::Task& task, Outcome outcome);
  // Counts and logs a refused result; returns the refusal.
  grpc::Status Reject(const std::string& peer, const grpc::Status& refusal, bool late = false);

  // ---- uploads (server_uploads.cc) ----
  struct Upload;       // one SubmitResult call
  class ResultReader;  // its reactor
  struct VerdictSink;  // where a secure answer's verdict reaches its reader
  // Guarded by mu: fit uploads waiting for one of max_inflight_results slots, in order; open
  // SubmitResult calls by caller and in all.
  std::deque<ResultReader*> slot_waiters;
  std::map<std::string, size_t> open_uploads_by_caller;
  size_t open_uploads = 0;
  // Counts a new SubmitResult call of `caller`, or refuses it (RESOURCE_EXHAUSTED).
  grpc::Status OpenUpload(const std::string& caller);
  void CloseUpload(const std::string& caller);
  // What a SubmitResult call does once its header is checked.
  enum class AfterClaim {
    kFinish,  // finish with the returned status (a refusal, or a complete answer)
    kRead,    // a slot is taken: read the payload
    kQueued,  // queued for a slot; GrantSlots continues the call (maybe on another thread)
  };
  // Checks a result's header against the registry and the board; sets *next.
  grpc::Status ClaimResult(Upload& up, const std::string& name, ResultReader* reader,
                           AfterClaim* next);
  grpc::Status AcceptEvaluation(std::unique_lock<std::mutex>& lock, net::Task& task,
                                const Upload& up);
  // Gives free slots to the queued uploads in order, and ends queued ones whose task ended.
  void GrantSlots();
  bool ForgetSlotWaiter(ResultReader* reader);  // false if it was not queued
  void ForgetUpload(const Upload& up);          // the task no longer points at the call
  void ReleaseSlot(uint64_t bytes);
  bool SlotFreeLocked(uint64_t bytes) const;
  // Ends an upload that failed its checks: frees its slot, fails its task, logs why.
  grpc::Status FailUpload(const Upload& up, const Status& why);
  // Whether the upload's task still waits for it; records its progress (a chunk arrived).
  bool StillReceiving(const Upload& up);
  grpc::Status Deliver(const Upload& up, Outcome& out, bool count = true);
  grpc::Status VerdictStatus(const std::string& what, Status verdict);

  // ---- long polls (server_polls.cc) ----
  class TaskWriter;  // one GetTask call
  struct WaitingPoll {
    net::ClientRecord* record = nullptr;  // kept by the registry while the poll waits
    Clock::time_point until;              // answered WAIT then
    std::multimap<Clock::time_point, TaskWriter*>::iterator by_time;
    std::multimap<ClientId, TaskWriter*>::iterator by_client;
  };
  struct PollAnswer;  // what one poll is told, sent after mu is released
  // Guarded by mu: the polls waiting for a task, and two indexes, so that a wake-up looks only
  // at the polls it concerns (10,000 clients may be waiting).
  std::map<TaskWriter*, WaitingPoll> waiting;
  std::multimap<Clock::time_point, TaskWriter*> waiting_by_time;
  std::multimap<ClientId, TaskWriter*> waiting_by_client;
  void AddWaitingLocked(TaskWriter* writer, net::ClientRecord* record, Clock::time_point until);
  void RemoveWaitingLocked(std::map<TaskWriter*, WaitingPoll>::iterator it);  // + EndPoll
  // Which waiting polls a wake-up looks at: all (the run ended, the server stops), those whose
  // time is up, one client's (it registered again, its download broke), or those of the open
  // board's clients with a queued task.
  enum class Wake { kAll, kExpired, kClient, kBoard };
  std::thread poll_timer;           // answers polls whose time is up
  std::condition_variable poll_cv;  // wakes poll_timer to stop
  // REQUIRES: mu held. Takes the waiting polls that can be answered now (a task of their
  // client, the end of the run, shutdown, or their time is up) off the list.
  std::vector<PollAnswer> AnswerPollsLocked(Clock::time_point now, Wake scope, ClientId client = 0);
  // Sends the answers; REQUIRES: mu not held (a reaction may run inline).
  void SendAnswers(std::vector<PollAnswer> answers);
  // Locks, answers what can be answered in `scope`, sends.
  void WakePolls(Wake scope, ClientId client = 0);
  // REQUIRES: mu held. What a poll of `record` hears now, if anything.
  std::optional<PollAnswer> AnswerNowLocked(net::ClientRecord& record);
  // Takes a cancelled poll off the list; false if it was not waiting (being answered).
  bool ForgetPoll(TaskWriter* writer);
  // A download failed: its task goes out again at the client's next poll.
  void DownloadBroke(ClientId client, uint64_t task_id, int round);
  void StartPollTimer();
  // Sets `stopping`, ends the timer and tells every waiting poll.
  void StopPollTimer();

  // ---- ClientPool (server_rounds.cc) ----
  std::vector<ClientId> AvailableClients() override;
  void RunFit(const Parameters& global, const RoundPlan& plan,
              const FitCallback& on_result) override;
  void RunEvaluate(const Parameters& global, std::span<const EvaluateTask> tasks,
                   const EvaluateCallback& on_result) override;
  bool deterministic_order() const override { return false; }
  // The driver is done with a folded update: its memory serves the next upload.
  void Recycle(Parameters&& done) override { spare.Put(std::move(done)); }
  Parameters TakeRecycled() override { return spare.Take(); }
  std::string secure_sum_name() const override { return secure ? secure->Name() : ""; }
  StatusOr<SecureSum::Total> RunSecureFit(const Parameters& global, const RoundPlan& plan,
                                          size_t max_losses, const FitCallback& on_result) override;

  // Runs one batch of tasks through the board; `deliver` gets each outcome on this thread,
  // and what it returns is the verdict told to a secure answer's handler.
  void RunTasks(const net::BoardSetup& setup, const Parameters* global,
                const std::map<std::string, Parameters>& broadcast, std::vector<net::Task> tasks,
                const std::function<Status(net::Outcome&)>& deliver);
  class StageRunner;
};

}  // namespace fedra

#endif  // FEDRA_SRC_NET_SERVER_IMPL_H_
