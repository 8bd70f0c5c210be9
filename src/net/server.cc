#include "fedra/net/server.h"

#include <openssl/rand.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include <grpc/grpc_security_constants.h>
#include <grpcpp/grpcpp.h>

#include "core/file_util.h"
#include "core/log_safe.h"
#include "fedra/core/logging.h"
#include "fedra/fl/round_driver.h"
#include "fedra/v1/federation.grpc.pb.h"
#include "net/secure_rounds.h"
#include "net/server_auth.h"
#include "net/wire.h"

namespace fedra {
namespace {

using Clock = std::chrono::steady_clock;

std::string RandomHex(size_t bytes) {
  std::vector<unsigned char> buf(bytes);
  FEDRA_CHECK_MSG(RAND_bytes(buf.data(), static_cast<int>(bytes)) == 1, "RAND_bytes failed");
  static const char* kHex = "0123456789abcdef";
  std::string s;
  for (unsigned char b : buf) {
    s += kHex[b >> 4];
    s += kHex[b & 15];
  }
  return s;
}

uint64_t RandomU64() {
  uint64_t v = 0;
  FEDRA_CHECK_MSG(RAND_bytes(reinterpret_cast<unsigned char*>(&v), sizeof v) == 1,
                  "RAND_bytes failed");
  return v;
}

enum class TaskState { kQueued, kSent, kReceiving, kDone };

struct Task {
  uint64_t id = 0;
  ClientId client = 0;
  size_t index = 0;
  FitConfig fit;
  int eval_batch = 0;
  RoundConfig eval_extra;
  std::shared_ptr<const std::string> stage_message;  // STAGE: the payload
  TaskState state = TaskState::kQueued;
  // The upload in progress (kReceiving), cancelled if the task ends first; cleared by the
  // handler before it returns.
  grpc::ServerContext* upload = nullptr;
  bool holds_slot = false;          // the upload has its slot (waiting for one is not stalling)
  bool answered = false;            // the client sent an answer (accepted or not)
  Clock::time_point last_progress;  // when it got the slot or its last chunk arrived
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
  // Secure answers are checked by the protocol on the driver thread; its verdict goes back to
  // the handler, which tells the client.
  std::shared_ptr<std::promise<Status>> verdict;
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

struct Board {
  int round = 0;
  v1::TaskKind kind = v1::FIT;
  std::optional<v1::SecureFitInstructions> secure;
  std::string protocol;
  uint32_t stage = 0;
  std::shared_ptr<const Parameters> global;
  std::shared_ptr<const std::map<std::string, Parameters>> broadcast;
  std::map<uint64_t, Task> tasks;
  std::map<ClientId, uint64_t> by_client;
  uint64_t opaque_limit = 0;  // largest opaque answer accepted (secure rounds)
  uint64_t generation = 0;    // tells apart the boards of one round (FIT, stages, EVALUATE)
  bool open = true;
  std::deque<Outcome> done;
};

struct ClientRecord {
  std::string name;
  ClientId id = 0;
  std::string session;
  Clock::time_point last_seen;
  std::string peer;                          // address it registered from, without the port
  std::deque<Clock::time_point> registered;  // its registrations in the last minute
  size_t waiting_polls = 0;                  // GetTask calls of this client now waiting
};

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

struct Server::Impl final : v1::Federation::Service, ClientPool {
  ServerOptions o;
  net::ClientAuthenticator auth;  // client certificates and/or tokens
  std::unique_ptr<grpc::Server> grpc_server;
  int port = 0;
  std::shared_ptr<spdlog::logger> log = Logger("server");

  mutable std::mutex mu;
  std::condition_variable cv;
  std::map<std::string, ClientRecord> clients;  // by name
  std::map<std::string, std::string> sessions;  // session id -> name
  std::optional<Board> board;
  // Task ids of the closed boards of this round and the previous one -> their round and
  // whether their client had answered: a second answer is a duplicate, a first one is late.
  struct ClosedTask {
    int round = 0;
    bool answered = false;
  };
  std::map<uint64_t, ClosedTask> closed_tasks;
  int last_round = 0;
  size_t inflight = 0;
  bool finished = false;
  bool stopping = false;
  ServerStats stats;
  std::unique_ptr<net::SecureRoundFactory> secure;
  uint64_t opaque_limit = 0;     // driver thread only
  uint64_t generations = 0;      // boards opened so far
  size_t waiting_polls = 0;      // GetTask calls now waiting, all clients
  Clock::time_point last_prune;  // of dead client records (Register)
  // Warnings caused by one peer: at most 20 per 10 s each (a hostile client cannot flood the log).
  WarningLimiter peer_warnings{20, std::chrono::seconds(10)};

  // The key warnings about this caller are counted under: its authenticated name, else its
  // address without the port (a new connection is the same peer).
  static std::string PeerKey(grpc::ServerContext* ctx, const std::string& name) {
    if (!name.empty()) return "client " + name;
    std::string peer = ctx->peer();
    const size_t colon = peer.rfind(':');
    if (colon != std::string::npos && peer.compare(0, 5, "unix:") != 0) peer.resize(colon);
    return peer;
  }

  // Logs a warning caused by `peer`: escaped, bounded, rate-limited per peer.
  void WarnAboutPeer(const std::string& peer, const std::string& message) {
    const std::optional<int64_t> admitted = peer_warnings.Admit(peer);
    if (!admitted) return;
    if (*admitted > 0) {
      log->warn("{} ({} earlier warnings about {} suppressed)", LogSafe(message, 512), *admitted,
                LogSafe(peer, 96));
    } else {
      log->warn("{}", LogSafe(message, 512));
    }
  }

  // ---- authentication ----------------------------------------------------------------

  // The authenticated identity of the caller (net/server_auth.h), or UNAUTHENTICATED
  // (counted and logged) or PERMISSION_DENIED.
  grpc::Status Identify(grpc::ServerContext* ctx, const std::string& claimed, std::string* name) {
    net::CallerCredentials caller{.claimed = claimed};
    if (auto context = ctx->auth_context()) {
      auto cn = context->FindPropertyValues(GRPC_X509_CN_PROPERTY_NAME);
      if (!cn.empty()) caller.certificate_cn.emplace(cn.front().data(), cn.front().size());
    }
    const auto& md = ctx->client_metadata();
    if (auto it = md.find("authorization"); it != md.end())
      caller.authorization.emplace(it->second.data(), it->second.size());
    grpc::Status s = auth.Identify(caller, name);
    if (s.error_code() == grpc::StatusCode::UNAUTHENTICATED)
      return Unauthenticated(ctx, s.error_message());
    return s;
  }

  grpc::Status Unauthenticated(grpc::ServerContext* ctx, const std::string& why) {
    std::lock_guard lock(mu);
    ++stats.auth_failures;
    WarnAboutPeer(PeerKey(ctx, ""),
                  "refused an unauthenticated call from " + ctx->peer() + ": " + why);
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, why);
  }

  // REQUIRES: mu held. Finds the caller's session and marks the client alive.
  grpc::Status Session(const std::string& auth_name, const std::string& session,
                       ClientRecord** rec) {
    auto it = sessions.find(session);
    if (it == sessions.end()) {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown session; register again");
    }
    if (!auth_name.empty() && auth_name != it->second) {
      return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "session belongs to another client");
    }
    *rec = &clients.at(it->second);
    (*rec)->last_seen = Clock::now();
    return grpc::Status::OK;
  }

  bool AuthConfigured() const { return auth.configured(); }

  grpc::Status Authenticated(grpc::ServerContext* ctx, std::string* name) {
    if (!AuthConfigured()) return grpc::Status::OK;  // identity comes from the session
    return Identify(ctx, "", name);
  }

  // ---- limits ------------------------------------------------------------------------

  // REQUIRES: mu held. Forgets clients silent for longer than the liveness window (at most
  // once a second), so the limits below count live clients and the registry does not grow
  // with every name ever used. A record with a waiting poll is live by definition.
  void PruneDeadLocked() {
    const auto now = Clock::now();
    if (now - last_prune < std::chrono::seconds(1)) return;
    last_prune = now;
    for (auto it = clients.begin(); it != clients.end();) {
      const ClientRecord& c = it->second;
      if (c.waiting_polls == 0 && Seconds(now - c.last_seen) >= o.liveness_seconds) {
        if (!c.session.empty()) sessions.erase(c.session);
        it = clients.erase(it);
      } else {
        ++it;
      }
    }
  }

  // REQUIRES: mu held. RESOURCE_EXHAUSTED when registering `name` from `peer` would pass a
  // limit: live clients in all, live clients from one address, or registrations of one
  // identity per minute (each re-registration re-queues its task and makes a new session).
  grpc::Status AdmitRegistration(const std::string& name, const std::string& peer) {
    PruneDeadLocked();
    const auto now = Clock::now();
    auto it = clients.find(name);
    if (it != clients.end()) {
      auto& times = it->second.registered;
      while (!times.empty() && now - times.front() >= std::chrono::minutes(1)) times.pop_front();
      if (times.size() >= o.max_registrations_per_minute) {
        return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                            "client " + LogSafe(name, 96) + " registered " +
                                std::to_string(times.size()) +
                                " times in the last minute (--max-registrations-per-minute); "
                                "retry later");
      }
      return grpc::Status::OK;  // a known identity again: replaces its own session
    }
    if (clients.size() >= o.max_clients) {
      return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                          "the server has " + std::to_string(clients.size()) +
                              " clients registered, its limit (--max-clients); retry later");
    }
    size_t from_peer = 0;
    for (const auto& [n, c] : clients) from_peer += c.peer == peer;
    if (from_peer >= o.max_clients_per_peer) {
      return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                          std::to_string(from_peer) + " clients are registered from " +
                              LogSafe(peer, 96) +
                              ", the limit per address (--max-clients-per-peer)");
    }
    return grpc::Status::OK;
  }

  // REQUIRES: mu held. Counts a poll that is about to wait, or refuses it: each waiting poll
  // holds a thread of the synchronous server until its task or its poll_seconds come.
  grpc::Status AdmitPoll(ClientRecord& rec) {
    std::string why;
    if (rec.waiting_polls >= o.max_polls_per_client) {
      why = "client " + rec.name + " already has " + std::to_string(rec.waiting_polls) +
            " polls waiting (--max-polls-per-client)";
    } else if (waiting_polls >= o.max_waiting_polls) {
      why = "the server has " + std::to_string(waiting_polls) +
            " polls waiting, its limit (--max-waiting-polls); retry later";
    }
    if (!why.empty()) {
      ++stats.polls_refused;
      WarnAboutPeer(PeerKey(nullptr, rec.name), "refused a poll: " + why);
      return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, LogSafe(why, 256));
    }
    ++rec.waiting_polls;
    ++waiting_polls;
    return grpc::Status::OK;
  }

  // ---- service -----------------------------------------------------------------------

  grpc::Status Register(grpc::ServerContext* ctx, const v1::RegisterRequest* req,
                        v1::RegisterResponse* resp) override {
    if (req->protocol_version() != 1) {
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                          "protocol version " + std::to_string(req->protocol_version()) +
                              " is not supported; this server speaks 1");
    }
    std::string name;
    grpc::Status s = Identify(ctx, req->client_name(), &name);
    if (!s.ok()) return s;
    const ClientId id = net::IdForName(name);
    std::lock_guard lock(mu);
    if (finished) {
      resp->set_run_id(o.run_id);
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "the run is finished");
    }
    for (const auto& [n, c] : clients) {
      if (c.id == id && n != name) {
        return grpc::Status(grpc::StatusCode::ALREADY_EXISTS, "client id collision");
      }
    }
    const std::string peer = PeerKey(ctx, "");
    s = AdmitRegistration(name, peer);
    if (!s.ok()) {
      ++stats.registrations_refused;
      WarnAboutPeer(
          peer, "refused the registration of " + name + " from " + peer + ": " + s.error_message());
      return s;
    }
    ClientRecord& rec = clients[name];
    rec.peer = peer;
    rec.registered.push_back(Clock::now());
    if (!rec.session.empty()) sessions.erase(rec.session);
    rec.name = name;
    rec.id = id;
    rec.session = RandomHex(16);
    rec.last_seen = Clock::now();
    sessions[rec.session] = name;
    ++stats.registrations;
    // A client that re-registers mid-task (it restarted, or lost the connection while
    // downloading) gets its task again.
    if (board && board->open) {
      auto t = board->by_client.find(id);
      if (t != board->by_client.end() && board->tasks.at(t->second).state == TaskState::kSent) {
        board->tasks.at(t->second).state = TaskState::kQueued;
      }
    }
    log->info("client {} registered (id {}, {} registered)", LogSafe(name, 96), id, clients.size());
    resp->set_session_id(rec.session);
    resp->set_client_id(id);
    resp->set_run_id(o.run_id);
    resp->set_model_name(o.model_name);
    resp->set_poll_seconds(static_cast<uint32_t>(std::max(1.0, o.poll_seconds)));
    resp->set_heartbeat_seconds(static_cast<uint32_t>(std::max(1.0, o.heartbeat_seconds)));
    resp->set_max_chunk_bytes(o.chunk_bytes);
    cv.notify_all();
    return grpc::Status::OK;
  }

  grpc::Status Heartbeat(grpc::ServerContext* ctx, const v1::HeartbeatRequest* req,
                         v1::HeartbeatResponse* resp) override {
    std::string name;
    grpc::Status s = Authenticated(ctx, &name);
    if (!s.ok()) return s;
    std::lock_guard lock(mu);
    ClientRecord* rec = nullptr;
    s = Session(name, req->session_id(), &rec);
    if (!s.ok()) return s;
    resp->set_finished(finished);
    return grpc::Status::OK;
  }

  grpc::Status GetTask(grpc::ServerContext* ctx, const v1::GetTaskRequest* req,
                       grpc::ServerWriter<v1::TaskChunk>* writer) override {
    std::string name;
    grpc::Status s = Authenticated(ctx, &name);
    if (!s.ok()) return s;
    v1::TaskChunk chunk;
    v1::TaskHeader* h = chunk.mutable_header();
    std::vector<net::PayloadGroup> groups;
    std::shared_ptr<const Parameters> global;
    std::shared_ptr<const std::map<std::string, Parameters>> broadcast;
    std::shared_ptr<const std::string> stage_message;
    uint64_t task_id = 0;
    int round = 0;
    {
      std::unique_lock lock(mu);
      ClientRecord* rec = nullptr;
      s = Session(name, req->session_id(), &rec);
      if (!s.ok()) return s;
      const ClientId id = rec->id;
      const auto poll_end =
          Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(o.poll_seconds * 1000));
      h->set_run_id(o.run_id);
      // This call counts as a waiting poll from its first wait to its return (a poll that
      // finds its task at once never waits, so it is never refused).
      bool waiting = false;
      struct Unwait {
        Impl& impl;
        ClientRecord* rec;
        bool& waiting;
        ~Unwait() {  // runs before `lock` is released
          if (!waiting) return;
          --rec->waiting_polls;
          --impl.waiting_polls;
        }
      } unwait{*this, rec, waiting};
      while (true) {
        if (stopping) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "server shutting down");
        if (finished) {
          h->set_kind(v1::FINISHED);
          break;
        }
        if (board && board->open) {
          auto t = board->by_client.find(id);
          if (t != board->by_client.end() &&
              board->tasks.at(t->second).state == TaskState::kQueued) {
            Task& task = board->tasks.at(t->second);
            task.state = TaskState::kSent;
            task_id = task.id;
            round = board->round;
            global = board->global;
            broadcast = board->broadcast;
            h->set_kind(board->kind);
            h->set_round(static_cast<uint32_t>(round));
            h->set_task_id(task.id);
            h->set_deadline_seconds(o.round_deadline_seconds);
            if (board->kind == v1::FIT) {
              net::ToProto(task.fit, h->mutable_fit());
              if (board->secure) *h->mutable_fit()->mutable_secure() = *board->secure;
            } else if (board->kind == v1::STAGE) {
              h->mutable_stage()->set_protocol(board->protocol);
              h->mutable_stage()->set_stage(board->stage);
              h->set_deadline_seconds(o.secure.stage_deadline_seconds);
              stage_message = task.stage_message;
              global.reset();
            } else {
              h->mutable_evaluate()->set_batch_size(task.eval_batch);
              net::ToProto(task.eval_extra, h->mutable_evaluate()->mutable_config());
            }
            break;
          }
        }
        if (ctx->IsCancelled()) return grpc::Status(grpc::StatusCode::CANCELLED, "cancelled");
        if (!waiting) {
          grpc::Status admitted = AdmitPoll(*rec);
          if (!admitted.ok()) return admitted;
          waiting = true;
        }
        if (cv.wait_until(lock, std::min(poll_end, Clock::now() + std::chrono::seconds(1))) ==
                std::cv_status::timeout &&
            Clock::now() >= poll_end) {
          h->set_kind(v1::WAIT);
          break;
        }
      }
      rec->last_seen = Clock::now();
    }
    if (global) {
      groups.push_back({"global", global.get()});
      for (const auto& [bname, p] : *broadcast) groups.push_back({"broadcast/" + bname, &p});
      h->set_payload_bytes(net::DescribePayload(groups, h->mutable_tensors()));
    }
    if (stage_message) h->set_payload_bytes(stage_message->size());
    bool ok = writer->Write(chunk);
    v1::TaskChunk data;
    if (ok && global) {
      ok = net::ForEachChunk(groups, o.chunk_bytes, [&](std::string_view bytes) {
        data.set_data(bytes.data(), bytes.size());
        return writer->Write(data);
      });
    }
    if (ok && stage_message) {
      ok = net::ForEachChunk(*stage_message, o.chunk_bytes, [&](std::string_view bytes) {
        data.set_data(bytes.data(), bytes.size());
        return writer->Write(data);
      });
    }
    if (!ok && task_id != 0) {
      std::lock_guard lock(mu);
      if (board && board->open && board->round == round) {
        auto t = board->tasks.find(task_id);
        if (t != board->tasks.end() && t->second.state == TaskState::kSent) {
          t->second.state = TaskState::kQueued;  // deliver again when the client polls
        }
      }
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "client went away during the download");
    }
    return grpc::Status::OK;
  }

  grpc::Status Reject(const std::string& peer, grpc::StatusCode code, const std::string& why,
                      bool late = false) {
    std::lock_guard lock(mu);
    ++(late ? stats.results_late : stats.results_rejected);
    WarnAboutPeer(peer, "rejected a result from " + peer + ": " + why);
    return grpc::Status(code, why);
  }

  // REQUIRES: mu held. Ends a task with an outcome for the driver.
  void Complete(Task& task, Outcome outcome) {
    task.state = TaskState::kDone;
    outcome.index = task.index;
    board->done.push_back(std::move(outcome));
    cv.notify_all();
  }

  grpc::Status SubmitResult(grpc::ServerContext* ctx, grpc::ServerReader<v1::ResultChunk>* reader,
                            v1::SubmitResultResponse*) override {
    std::string name;
    grpc::Status s = Authenticated(ctx, &name);
    if (!s.ok()) return s;
    const std::string peer = PeerKey(ctx, name);
    v1::ResultChunk chunk;
    if (!reader->Read(&chunk) || !chunk.has_header()) {
      return Reject(peer, grpc::StatusCode::INVALID_ARGUMENT,
                    "the first message must be a ResultHeader");
    }
    const v1::ResultHeader header = chunk.header();
    const std::string what = "result for round " + std::to_string(header.round()) + " task " +
                             std::to_string(header.task_id());
    // A second answer to a task, and a first one after the task ended.
    auto duplicate = [&] {
      return Reject(peer, grpc::StatusCode::ALREADY_EXISTS,
                    what + ": already answered (duplicate)");
    };
    auto late_task = [&] {
      return Reject(peer, grpc::StatusCode::FAILED_PRECONDITION,
                    what +
                        " is late: its task closed (deadline, or the client was dropped); "
                        "result dropped",
                    /*late=*/true);
    };
    std::shared_ptr<const Parameters> global;
    ClientId client = 0;
    v1::TaskKind kind = v1::FIT;
    // Whatever path this handler leaves by, its task must not point at its context any more.
    struct ForgetUpload {
      Impl& impl;
      grpc::ServerContext* ctx;
      uint64_t task_id;
      ~ForgetUpload() {
        std::lock_guard lock(impl.mu);
        if (!impl.board) return;
        auto t = impl.board->tasks.find(task_id);
        if (t != impl.board->tasks.end() && t->second.upload == ctx) t->second.upload = nullptr;
      }
    } forget_upload{*this, ctx, header.task_id()};
    bool opaque = false;
    uint64_t limit = 0;
    uint64_t generation = 0;
    {
      std::unique_lock lock(mu);
      ClientRecord* rec = nullptr;
      s = Session(name, header.session_id(), &rec);
      if (!s.ok()) return s;
      client = rec->id;
      const std::string cname = rec->name;
      lock.unlock();
      if (header.run_id() != o.run_id) {
        return Reject(peer, grpc::StatusCode::FAILED_PRECONDITION,
                      what + " belongs to run '" + LogSafe(header.run_id(), 64) +
                          "', this is run '" + o.run_id + "'");
      }
      lock.lock();
      Task* task = nullptr;
      if (board && board->open) {
        auto t = board->tasks.find(header.task_id());
        if (t != board->tasks.end()) task = &t->second;
      }
      if (!task) {
        // A round has several boards (FIT, secure stages, EVALUATE). While the round runs, a
        // second answer to a task of a closed board is a duplicate, a first one late, and an
        // id never handed out unknown; once the round is over, every answer for it is late.
        const auto it = closed_tasks.find(header.task_id());
        const bool closed = it != closed_tasks.end();
        const bool answered = closed && it->second.answered;
        const bool running =
            board && board->open && static_cast<int>(header.round()) == board->round;
        const bool over = !running && static_cast<int>(header.round()) <= last_round;
        lock.unlock();
        if (over) {
          return Reject(peer, grpc::StatusCode::FAILED_PRECONDITION,
                        what + " is late: round " + std::to_string(header.round()) +
                            " is closed; result dropped",
                        true);
        }
        if (answered) return duplicate();
        if (closed) return late_task();
        return Reject(peer, grpc::StatusCode::NOT_FOUND, what + ": unknown task id");
      }
      if (task->client != client) {
        lock.unlock();
        return Reject(peer, grpc::StatusCode::PERMISSION_DENIED,
                      what + ": the task belongs to another client, not " + cname);
      }
      if (static_cast<int>(header.round()) != board->round) {
        lock.unlock();
        return Reject(peer, grpc::StatusCode::FAILED_PRECONDITION,
                      what + ": the task is for round " + std::to_string(board->round));
      }
      // An upload in progress (kReceiving) has answered too.
      if (task->answered) {
        lock.unlock();
        return duplicate();
      }
      if (task->state == TaskState::kDone) {  // ended unanswered (deadline, client dropped)
        lock.unlock();
        return late_task();
      }
      task->answered = true;
      kind = board->kind;
      opaque = kind == v1::STAGE || (kind == v1::FIT && board->secure.has_value());
      limit = board->opaque_limit;
      if (!header.error().empty()) {
        Complete(*task, {.status = UnavailableError("client " + cname + " could not do the task: " +
                                                    header.error().substr(0, 500))});
        return grpc::Status::OK;
      }
      const bool matches = kind == v1::FIT ? header.has_fit()
                           : kind == v1::EVALUATE
                               ? header.has_evaluate()
                               : header.has_stage() && header.stage().stage() == board->stage;
      // The caller owns the task: a wrong answer ends it at once (no waiting for the
      // deadline), and the client is told why.
      std::string refusal;
      if (!matches) refusal = what + ": the report does not match the task's kind";
      if (matches && opaque && header.tensors_size() > 0) {
        refusal = what + ": this round is secure (" + o.secure.protocol +
                  "): plaintext tensors are refused";
      }
      if (!refusal.empty()) {
        Complete(*task, {.status = InvalidArgumentError(refusal)});
        lock.unlock();
        return Reject(peer, grpc::StatusCode::INVALID_ARGUMENT, refusal);
      }
      if (kind == v1::EVALUATE) {
        const v1::EvaluateReport& r = header.evaluate();
        if (r.num_examples() == 0 || !std::isfinite(r.loss()) || !std::isfinite(r.accuracy()) ||
            r.accuracy() < 0 || r.accuracy() > 1 || header.payload_bytes() != 0) {
          lock.unlock();
          return Reject(peer, grpc::StatusCode::INVALID_ARGUMENT,
                        what +
                            ": evaluation report needs examples > 0, finite loss, accuracy in "
                            "[0, 1] and no payload");
        }
        auto metrics = net::MetricsFromProto(r.metrics());
        if (!metrics.ok()) {
          lock.unlock();
          return Reject(peer, grpc::StatusCode::INVALID_ARGUMENT,
                        what + ": " + std::string(metrics.status().message()));
        }
        ++stats.results_accepted;
        Complete(*task, {.eval = {.client = client,
                                  .num_examples = r.num_examples(),
                                  .loss = r.loss(),
                                  .accuracy = r.accuracy(),
                                  .metrics = std::move(metrics).value()}});
        return grpc::Status::OK;
      }
      // A fit result: wait for an upload slot so that memory stays bounded.
      task->state = TaskState::kReceiving;
      task->upload = ctx;
      generation = board->generation;
      while (inflight >= o.max_inflight_results && board && board->open &&
             board->generation == generation && !ctx->IsCancelled()) {
        cv.wait_for(lock, std::chrono::milliseconds(200));
      }
      if (!board || !board->open || board->generation != generation || ctx->IsCancelled()) {
        lock.unlock();
        return Reject(peer, grpc::StatusCode::FAILED_PRECONDITION,
                      what + " is late: the round closed during the upload", true);
      }
      ++inflight;
      task->holds_slot = true;
      task->last_progress = Clock::now();
      global = board->global;
    }
    // Receive and check the payload without holding the lock.
    auto fail = [&](const Status& why) {
      std::lock_guard lock(mu);
      --inflight;
      cv.notify_all();
      if (board && board->open && static_cast<int>(header.round()) == board->round) {
        auto t = board->tasks.find(header.task_id());
        if (t != board->tasks.end() && t->second.state == TaskState::kReceiving) {
          Complete(t->second, {.status = why});
        }
      }
      ++stats.results_rejected;
      WarnAboutPeer(peer, "rejected " + what + " from " + peer + ": " + why.message());
      return net::ToGrpc(why);
    };
    // An upload whose task ended meanwhile (deadline, its board closed) stops at the next
    // chunk and gives its slot back, so a slow sender cannot hold one past its round.
    // Also records the upload's progress (a chunk arrived) for the stall deadline.
    auto still_receiving = [&] {
      std::lock_guard lock(mu);
      if (!board || !board->open || board->generation != generation) return false;
      auto t = board->tasks.find(header.task_id());
      if (t == board->tasks.end() || t->second.state != TaskState::kReceiving) return false;
      t->second.last_progress = Clock::now();
      return true;
    };
    const Status ended =
        FailedPreconditionError(what + " is late: its task ended during the upload");
    if (opaque) {
      Outcome out{.holds_slot = true};
      if (header.payload_bytes() > limit) {
        return fail(InvalidArgumentError(what + ": payload of " +
                                         std::to_string(header.payload_bytes()) +
                                         " bytes exceeds the limit of " + std::to_string(limit)));
      }
      out.opaque.reserve(header.payload_bytes());
      while (reader->Read(&chunk)) {
        if (!chunk.has_data()) return fail(InvalidArgumentError(what + ": a second header"));
        if (!still_receiving()) return fail(ended);
        if (out.opaque.size() + chunk.data().size() > header.payload_bytes()) {
          return fail(InvalidArgumentError(what + ": more bytes than the header declared"));
        }
        out.opaque += chunk.data();
      }
      if (ctx->IsCancelled()) return fail(UnavailableError(what + ": upload cancelled"));
      if (out.opaque.size() != header.payload_bytes()) {
        return fail(InvalidArgumentError(what + ": truncated payload"));
      }
      if (kind == v1::FIT) {
        const v1::FitReport& r = header.fit();
        out.fit.client = client;
        out.fit.num_examples = r.num_examples();
        out.fit.local_steps = r.local_steps();
        out.fit.train_loss = r.train_loss();
        auto metrics = net::MetricsFromProto(r.metrics());
        if (!metrics.ok()) return fail(metrics.status().WithContext(what));
        out.fit.metrics = std::move(metrics).value();
        Status st = ValidateFitReport(out.fit);
        if (!st.ok()) return fail(st.WithContext(what));
        out.secure_report = r;
      }
      out.verdict = std::make_shared<std::promise<Status>>();
      std::future<Status> told = out.verdict->get_future();
      grpc::Status delivered = Deliver(header, what, std::move(out), /*count=*/false);
      if (!delivered.ok()) return delivered;
      return AwaitVerdict(ctx, what, told);
    }
    auto reader_or = net::PayloadReader::WithLayout(
        header.tensors(), header.payload_bytes(), *global,
        [](const std::string& g) { return g == "update" || g.rfind("extra/", 0) == 0; }, "update",
        o.max_result_groups);
    if (!reader_or.ok()) return fail(reader_or.status().WithContext(what));
    net::PayloadReader payload = std::move(*reader_or);
    while (reader->Read(&chunk)) {
      if (!chunk.has_data()) return fail(InvalidArgumentError(what + ": a second header"));
      if (!still_receiving()) return fail(ended);
      Status st = payload.Append(chunk.data());
      if (!st.ok()) return fail(st.WithContext(what));
    }
    if (ctx->IsCancelled()) return fail(UnavailableError(what + ": upload cancelled"));
    Status st = payload.Finish();
    if (!st.ok()) return fail(st.WithContext(what));
    auto groups = payload.TakeGroups();
    FitResult result;
    result.client = client;
    result.update = std::move(groups.at("update"));
    for (auto& [g, p] : groups) {
      if (g != "update") result.extras[g.substr(6)] = std::move(p);
    }
    const v1::FitReport& r = header.fit();
    result.num_examples = r.num_examples();
    result.local_steps = r.local_steps();
    result.train_loss = r.train_loss();
    auto metrics = net::MetricsFromProto(r.metrics());
    if (!metrics.ok()) return fail(metrics.status().WithContext(what));
    result.metrics = std::move(metrics).value();
    st = ValidateFitResult(result, *global);
    if (!st.ok()) return fail(st.WithContext(what));
    Outcome out;  // not a designated initializer: GCC 12 then warns of an uninitialised map
    out.fit = std::move(result);
    out.holds_slot = true;
    return Deliver(header, what, std::move(out));
  }

  // The protocol's verdict on a secure answer, as the client's status: a refusal by the
  // protocol (malformed, wrong sender, not matching the layout, a forged decryption) is the
  // refusal's code, never OK. Counted here, not at delivery.
  grpc::Status AwaitVerdict(grpc::ServerContext* ctx, const std::string& what,
                            std::future<Status>& told) {
    while (told.wait_for(std::chrono::milliseconds(200)) != std::future_status::ready) {
      if (ctx->IsCancelled())
        return grpc::Status(grpc::StatusCode::CANCELLED, what + ": cancelled");
      std::lock_guard lock(mu);
      if (stopping) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "server shutting down");
    }
    Status verdict;
    try {
      verdict = told.get();
    } catch (const std::future_error&) {  // dropped unchecked: the server is stopping
      verdict = UnavailableError(what + ": the round ended before the answer was checked");
    }
    std::lock_guard lock(mu);
    ++(verdict.ok() ? stats.results_accepted : stats.results_rejected);
    if (verdict.ok()) return grpc::Status::OK;
    // Only codes that end one task at the client (it logs them and polls on).
    switch (verdict.code()) {
      case StatusCode::kInvalidArgument:
      case StatusCode::kDataLoss:
      case StatusCode::kFailedPrecondition:
      case StatusCode::kUnavailable:
        break;
      default:
        verdict = FailedPreconditionError(verdict.message());
    }
    return net::ToGrpc(verdict.WithContext(what));
  }

  // Hands a received result that holds an upload slot to the driver, unless its round closed
  // during the upload. `count`: an accepted result (else the verdict counts it).
  grpc::Status Deliver(const v1::ResultHeader& header, const std::string& what, Outcome out,
                       bool count = true) {
    std::lock_guard lock(mu);
    Task* task = nullptr;
    if (board && board->open && static_cast<int>(header.round()) == board->round) {
      auto t = board->tasks.find(header.task_id());
      if (t != board->tasks.end() && t->second.state == TaskState::kReceiving) task = &t->second;
    }
    if (!task) {
      --inflight;
      cv.notify_all();
      ++stats.results_late;
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                          what + " is late: the round closed during the upload");
    }
    if (count) ++stats.results_accepted;
    Complete(*task, std::move(out));
    return grpc::Status::OK;
  }

  // ---- ClientPool --------------------------------------------------------------------

  std::vector<ClientId> AvailableClients() override {
    std::lock_guard lock(mu);
    return LiveLocked();
  }

  std::vector<ClientId> LiveLocked() const {
    std::vector<ClientId> ids;
    const auto now = Clock::now();
    for (const auto& [n, c] : clients) {
      if (!c.session.empty() && Seconds(now - c.last_seen) < o.liveness_seconds)
        ids.push_back(c.id);
    }
    std::sort(ids.begin(), ids.end());
    return ids;
  }

  // Runs one batch of tasks through the board; `deliver` gets each outcome on this thread.
  void RunTasks(const BoardSetup& setup, const Parameters* global,
                const std::map<std::string, Parameters>& broadcast, const std::vector<Task>& tasks,
                const std::function<Status(Outcome&)>& deliver) {
    const int round = setup.round;
    std::shared_ptr<const Parameters> shared_global;
    if (global) shared_global = std::make_shared<const Parameters>(*global);
    auto shared_broadcast = std::make_shared<const std::map<std::string, Parameters>>(broadcast);
    std::unique_lock lock(mu);
    board.emplace();
    board->generation = ++generations;
    board->round = round;
    board->kind = setup.kind;
    board->global = shared_global;
    board->broadcast = shared_broadcast;
    if (setup.secure) board->secure = *setup.secure;
    board->protocol = setup.protocol;
    board->stage = setup.stage;
    board->opaque_limit = opaque_limit;
    for (Task t : tasks) {
      do {
        t.id = RandomU64();
      } while (t.id == 0 || board->tasks.count(t.id) || closed_tasks.count(t.id));
      board->by_client[t.client] = t.id;
      board->tasks.emplace(t.id, t);
    }
    cv.notify_all();
    const auto deadline = Clock::now() + std::chrono::milliseconds(
                                             static_cast<int64_t>(setup.deadline_seconds * 1000));
    std::map<ClientId, const ClientRecord*> by_id;
    size_t remaining = tasks.size();
    while (remaining > 0) {
      while (!board->done.empty()) {
        Outcome out = std::move(board->done.front());
        board->done.pop_front();
        lock.unlock();
        Status verdict = deliver(out);
        if (out.verdict) out.verdict->set_value(std::move(verdict));
        out = Outcome{};  // free the update before taking the lock again
        lock.lock();
        --remaining;
      }
      if (remaining == 0) break;
      const auto now = Clock::now();
      by_id.clear();
      for (const auto& [n, c] : clients) by_id[c.id] = &c;
      for (auto& [id, task] : board->tasks) {
        if (task.state == TaskState::kDone) continue;
        auto c = by_id.find(task.client);
        const bool silent = c == by_id.end() || c->second->session.empty() ||
                            Seconds(now - c->second->last_seen) >= o.liveness_seconds;
        if (task.state == TaskState::kReceiving && task.holds_slot && task.upload &&
            o.upload_stall_seconds > 0 &&
            Seconds(now - task.last_progress) >= o.upload_stall_seconds) {
          // A sender that took an upload slot and stopped sending gives it back long before
          // the round deadline, so the honest uploads waiting for it proceed.
          ++stats.uploads_stalled;
          task.upload->TryCancel();
          const std::string who = c == by_id.end() ? std::to_string(task.client) : c->second->name;
          Complete(task, {.status = UnavailableError(
                              "client " + who + "'s upload sent nothing for " +
                              std::to_string(o.upload_stall_seconds) + " s: its slot is freed")});
          continue;
        }
        if (now >= deadline || (silent && task.state != TaskState::kReceiving)) {
          ++stats.tasks_timed_out;
          // A stalled upload would hold its slot for ever: end it.
          if (task.state == TaskState::kReceiving && task.upload) task.upload->TryCancel();
          const std::string who = c == by_id.end() ? std::to_string(task.client) : c->second->name;
          Complete(task,
                   {.status = UnavailableError(
                        now >= deadline ? "client " + who + " did not answer within the deadline"
                                        : "client " + who + " stopped responding")});
        }
      }
      if (board->done.empty())
        cv.wait_until(lock, std::min(deadline, now + std::chrono::seconds(1)));
    }
    // Close the round; uploads still running find it closed and are counted late.
    std::erase_if(closed_tasks, [&](const auto& e) { return e.second.round < round - 1; });
    for (const auto& [id, t] : board->tasks) closed_tasks[id] = {round, t.answered};
    last_round = std::max(last_round, round);
    board.reset();
    cv.notify_all();
  }

  void ReleaseSlot() {
    std::lock_guard lock(mu);
    --inflight;
    cv.notify_all();
  }

  void RunFit(const Parameters& global, const RoundPlan& plan,
              const FitCallback& on_result) override {
    std::vector<Task> tasks;
    for (size_t i = 0; i < plan.tasks.size(); ++i) {
      tasks.push_back({.client = plan.tasks[i].client, .index = i, .fit = plan.tasks[i].config});
    }
    RunTasks({.kind = v1::FIT, .round = plan.round, .deadline_seconds = o.round_deadline_seconds},
             &global, plan.broadcast, tasks, [&](Outcome& out) {
               if (out.status.ok()) {
                 on_result(out.index, std::move(out.fit));
               } else {
                 on_result(out.index, out.status);
               }
               if (out.holds_slot) ReleaseSlot();
               return OkStatus();
             });
  }

  void RunEvaluate(const Parameters& global, std::span<const EvaluateTask> tasks,
                   const EvaluateCallback& on_result) override {
    std::vector<Task> board_tasks;
    for (size_t i = 0; i < tasks.size(); ++i) {
      board_tasks.push_back({.client = tasks[i].client,
                             .index = i,
                             .eval_batch = tasks[i].batch_size,
                             .eval_extra = tasks[i].extra});
    }
    int round = 0;
    {
      std::lock_guard lock(mu);
      round = last_round;  // evaluation follows the fit round it scores
    }
    RunTasks({.kind = v1::EVALUATE, .round = round, .deadline_seconds = o.round_deadline_seconds},
             &global, {}, board_tasks, [&](Outcome& out) {
               if (out.status.ok()) {
                 on_result(out.index, out.eval);
               } else {
                 on_result(out.index, out.status);
               }
               return OkStatus();
             });
  }

  bool deterministic_order() const override { return false; }

  // ---- secure rounds -------------------------------------------------------------------

  std::string secure_sum_name() const override { return secure ? secure->Name() : ""; }

  StatusOr<SecureSum::Total> RunSecureFit(const Parameters& global, const RoundPlan& plan,
                                          size_t max_losses,
                                          const FitCallback& on_result) override {
    if (!secure) return ClientPool::RunSecureFit(global, plan, max_losses, on_result);
    size_t failed = 0;
    opaque_limit = 8 * global.num_bytes() + (uint64_t{16} << 20);
    FEDRA_ASSIGN_OR_RETURN(std::unique_ptr<net::SecureRound> round,
                           secure->NewRound(plan.round, global));
    std::vector<Task> tasks;
    for (size_t i = 0; i < plan.tasks.size(); ++i) {
      tasks.push_back({.client = plan.tasks[i].client, .index = i, .fit = plan.tasks[i].config});
    }
    RunTasks({.kind = v1::FIT,
              .round = plan.round,
              .deadline_seconds = o.round_deadline_seconds,
              .secure = &secure->fit_instructions()},
             &global, plan.broadcast, tasks, [&](Outcome& out) {
               Status s = out.status;
               if (s.ok()) {
                 s = round->AcceptFit(out.index, out.fit.client, out.secure_report,
                                      std::move(out.opaque));
                 if (!s.ok()) s = s.WithContext("client " + std::to_string(out.fit.client));
               }
               if (out.holds_slot) ReleaseSlot();
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

  class StageRunner final : public net::StageTransport {
   public:
    StageRunner(Impl& impl, int round) : impl_(impl), round_(round) {}
    void RunStage(const std::string& protocol, uint32_t stage, std::vector<net::StageTask> tasks,
                  double deadline_seconds,
                  const std::function<Status(net::StageReply)>& on_reply) override {
      std::vector<Task> board_tasks;
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
                     nullptr, {}, board_tasks, [&](Outcome& out) {
                       if (out.holds_slot) impl_.ReleaseSlot();
                       return on_reply({out.index, out.status, std::move(out.opaque)});
                     });
    }

   private:
    Impl& impl_;
    int round_;
  };
};

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Server::~Server() { Shutdown(); }

StatusOr<std::unique_ptr<Server>> Server::Start(const ServerOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->o = options;
  ServerOptions& o = impl->o;
  if (o.run_id.empty()) o.run_id = RandomHex(8);
  if (o.round_deadline_seconds <= 0 || o.liveness_seconds <= 0 || o.poll_seconds <= 0 ||
      o.heartbeat_seconds <= 0 || o.chunk_bytes == 0 || o.max_inflight_results == 0) {
    return InvalidArgumentError(
        "deadline, liveness, poll and heartbeat seconds, chunk bytes and in-flight results must be "
        "positive");
  }
  if (o.max_clients == 0 || o.max_clients_per_peer == 0 || o.max_registrations_per_minute == 0 ||
      o.max_polls_per_client == 0 || o.max_waiting_polls == 0) {
    return InvalidArgumentError(
        "max clients (in all and per peer), registrations per minute and polls (per client and "
        "in all) must be at least 1");
  }
  if (o.chunk_bytes + 4096 > o.max_message_bytes) {
    return InvalidArgumentError("chunk_bytes must leave room under max_message_bytes");
  }
  if (!(o.upload_stall_seconds >= 0)) {
    return InvalidArgumentError("upload_stall_seconds must be >= 0 (0: no stall deadline)");
  }
  if (o.max_result_groups == 0) {
    return InvalidArgumentError("max_result_groups must be >= 1 (the update itself)");
  }
  std::vector<std::pair<std::string, std::string>> tokens;  // name, token
  bool mtls = false;
  if (!o.tokens_file.empty()) {
    FEDRA_ASSIGN_OR_RETURN(tokens, net::LoadTokens(o.tokens_file));
  }
  if (!o.secure.protocol.empty()) {
    FEDRA_ASSIGN_OR_RETURN(impl->secure, net::SecureRoundFactory::Create(o.secure));
  }
  std::shared_ptr<grpc::ServerCredentials> creds;
  if (o.insecure) {
    if (!o.cert_file.empty() || !o.client_ca_file.empty()) {
      return InvalidArgumentError("--insecure cannot be combined with certificates");
    }
    creds = grpc::InsecureServerCredentials();
  } else {
    if (o.cert_file.empty() || o.key_file.empty()) {
      return InvalidArgumentError(
          "TLS needs a server certificate and key (or --insecure for plaintext)");
    }
    if (o.client_ca_file.empty() && tokens.empty()) {
      return InvalidArgumentError(
          "no client authentication: give a client CA (mTLS) and/or a tokens file");
    }
    grpc::SslServerCredentialsOptions ssl(
        o.client_ca_file.empty() ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
                                 : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
    FEDRA_ASSIGN_OR_RETURN(std::string cert, internal::ReadFile(o.cert_file));
    FEDRA_ASSIGN_OR_RETURN(std::string key, internal::ReadFile(o.key_file));
    if (cert.find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
      return InvalidArgumentError(o.cert_file + ": not a PEM certificate");
    }
    if (key.find("PRIVATE KEY-----") == std::string::npos) {
      return InvalidArgumentError(o.key_file + ": not a PEM private key");
    }
    if (!o.client_ca_file.empty()) {
      FEDRA_ASSIGN_OR_RETURN(ssl.pem_root_certs, internal::ReadFile(o.client_ca_file));
      mtls = true;
    }
    ssl.pem_key_cert_pairs.push_back({key, cert});
    creds = grpc::SslServerCredentials(ssl);
  }
  const bool with_tokens = !tokens.empty();
  impl->auth = net::ClientAuthenticator(mtls, std::move(tokens));
  grpc::ServerBuilder builder;
  builder.AddListeningPort(o.address, creds, &impl->port);
  builder.SetMaxReceiveMessageSize(static_cast<int>(o.max_message_bytes));
  builder.SetMaxSendMessageSize(static_cast<int>(o.max_message_bytes));
  // Uploads that wait for an in-flight slot must not be buffered whole by gRPC: without
  // bandwidth-delay probing a stream's receive window stays at its initial size, so a waiting
  // upload holds at most that much, and memory stays bounded whatever the number of clients.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  builder.RegisterService(impl.get());
  impl->grpc_server = builder.BuildAndStart();
  if (!impl->grpc_server || impl->port == 0) {
    return UnavailableError("cannot listen on " + o.address);
  }
  impl->log->info("listening on {} (port {}, {}{}{}), run {}", o.address, impl->port,
                  o.insecure ? "PLAINTEXT" : "TLS", mtls ? ", client certificates" : "",
                  with_tokens ? ", tokens" : "", o.run_id);
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

int Server::port() const { return impl_->port; }
const std::string& Server::run_id() const { return impl_->o.run_id; }
ClientPool& Server::pool() { return *impl_; }

ServerStats Server::stats() const {
  std::lock_guard lock(impl_->mu);
  return impl_->stats;
}

std::shared_ptr<grpc::Channel> Server::InProcessChannel() {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  args.SetMaxSendMessageSize(-1);
  return impl_->grpc_server->InProcessChannel(args);
}

size_t Server::WaitForClients(size_t n, std::chrono::milliseconds timeout) {
  const auto end = Clock::now() + timeout;
  std::unique_lock lock(impl_->mu);
  while (true) {
    const size_t live = impl_->LiveLocked().size();
    if (live >= n || Clock::now() >= end) return live;
    impl_->cv.wait_for(lock, std::chrono::milliseconds(200));
  }
}

void Server::Finish() {
  std::lock_guard lock(impl_->mu);
  impl_->finished = true;
  impl_->cv.notify_all();
}

void Server::Shutdown(std::chrono::milliseconds grace) {
  if (!impl_ || !impl_->grpc_server) return;
  if (grace.count() > 0) {
    Finish();
    std::this_thread::sleep_for(grace);
  }
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
    impl_->cv.notify_all();
  }
  impl_->grpc_server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  impl_->grpc_server->Wait();
  impl_->grpc_server.reset();
}

}  // namespace fedra
