// fedra::Server's gRPC handlers: each authenticates the caller, finds its session and works
// through the registry and the task board under the server's mutex; payloads are streamed
// and checked without holding it.
#include <algorithm>
#include <cmath>

#include <grpc/grpc_security_constants.h>

#include "net/server_impl.h"
#include "net/wire.h"

namespace fedra {

using Clock = std::chrono::steady_clock;

// One SubmitResult call whose answer was claimed for a fit task (an upload follows).
struct Server::Impl::Upload {
  grpc::ServerContext* ctx = nullptr;
  v1::ResultHeader header;
  std::string what;  // "result for round R task T", for messages
  std::string peer;
  ClientId client = 0;
  v1::TaskKind kind = v1::FIT;
  uint64_t limit = 0;       // largest opaque payload accepted
  uint64_t generation = 0;  // of the board it answers
  uint64_t token = 0;       // the task's upload token while this call receives
  std::shared_ptr<const Parameters> global;
};

std::string Server::Impl::PeerKey(grpc::ServerContextBase* ctx, const std::string& name) {
  if (!name.empty()) return "client " + name;
  std::string peer = ctx->peer();
  const size_t colon = peer.rfind(':');
  if (colon != std::string::npos && peer.compare(0, 5, "unix:") != 0) peer.resize(colon);
  return peer;
}

void Server::Impl::WarnAboutPeer(const std::string& peer, const std::string& message) {
  const std::optional<int64_t> admitted = peer_warnings.Admit(peer);
  if (!admitted) return;
  if (*admitted > 0) {
    log->warn("{} ({} earlier warnings about {} suppressed)", LogSafe(message, 512), *admitted,
              LogSafe(peer, 96));
  } else {
    log->warn("{}", LogSafe(message, 512));
  }
}

grpc::Status Server::Impl::Identify(grpc::ServerContextBase* ctx, const std::string& claimed,
                                    std::string* name) {
  net::CallerCredentials caller{.claimed = claimed};
  if (auto context = ctx->auth_context()) {
    auto cn = context->FindPropertyValues(GRPC_X509_CN_PROPERTY_NAME);
    if (!cn.empty()) caller.certificate_cn.emplace(cn.front().data(), cn.front().size());
  }
  const auto& md = ctx->client_metadata();
  if (auto it = md.find("authorization"); it != md.end())
    caller.authorization.emplace(it->second.data(), it->second.size());
  grpc::Status s = auth.Identify(caller, name);
  if (s.error_code() == grpc::StatusCode::UNAUTHENTICATED) {
    std::lock_guard lock(mu);
    ++stats.auth_failures;
    WarnAboutPeer(PeerKey(ctx, ""),
                  "refused an unauthenticated call from " + ctx->peer() + ": " + s.error_message());
  }
  return s;
}

grpc::Status Server::Impl::Authenticated(grpc::ServerContextBase* ctx, std::string* name) {
  if (!auth.configured()) return grpc::Status::OK;  // identity comes from the session
  return Identify(ctx, "", name);
}

void Server::Impl::Complete(net::Task& task, Outcome outcome) {
  board.Complete(task, std::move(outcome));
  cv.notify_all();
}

grpc::Status Server::Impl::Reject(const std::string& peer, const grpc::Status& refusal, bool late) {
  std::lock_guard lock(mu);
  ++(late ? stats.results_late : stats.results_rejected);
  WarnAboutPeer(peer, "rejected a result from " + peer + ": " + refusal.error_message());
  return refusal;
}

// ---- Register, Heartbeat ---------------------------------------------------------------

grpc::Status Server::Impl::Register(grpc::ServerContext* ctx, const v1::RegisterRequest* req,
                                    v1::RegisterResponse* resp) {
  if (req->protocol_version() != 1) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        "protocol version " + std::to_string(req->protocol_version()) +
                            " is not supported; this server speaks 1");
  }
  std::string name;
  grpc::Status s = Identify(ctx, req->client_name(), &name);
  if (!s.ok()) return s;
  const ClientId id = net::IdForName(name);
  std::unique_lock lock(mu);
  if (finished) {
    resp->set_run_id(o.run_id);
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "the run is finished");
  }
  const std::string peer = PeerKey(ctx, "");
  const net::ClientRecord* rec = nullptr;
  s = registry.Register(name, id, peer, Clock::now(), &rec);
  if (s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
    ++stats.registrations_refused;
    WarnAboutPeer(
        peer, "refused the registration of " + name + " from " + peer + ": " + s.error_message());
  }
  if (!s.ok()) return s;
  ++stats.registrations;
  // A client that re-registers mid-task (it restarted, or lost the connection while
  // downloading) gets its task again.
  board.Requeue(id);
  log->info("client {} registered (id {}, {} registered)", LogSafe(name, 96), id, registry.size());
  resp->set_session_id(rec->session);
  resp->set_client_id(id);
  resp->set_run_id(o.run_id);
  resp->set_model_name(o.model_name);
  resp->set_poll_seconds(static_cast<uint32_t>(std::max(1.0, o.poll_seconds)));
  resp->set_heartbeat_seconds(static_cast<uint32_t>(std::max(1.0, o.heartbeat_seconds)));
  resp->set_max_chunk_bytes(o.chunk_bytes);
  cv.notify_all();
  lock.unlock();
  WakePolls();  // its task, if it had one in flight, goes out again
  return grpc::Status::OK;
}

grpc::Status Server::Impl::Heartbeat(grpc::ServerContext* ctx, const v1::HeartbeatRequest* req,
                                     v1::HeartbeatResponse* resp) {
  std::string name;
  grpc::Status s = Authenticated(ctx, &name);
  if (!s.ok()) return s;
  std::lock_guard lock(mu);
  net::ClientRecord* rec = nullptr;
  s = registry.Find(name, req->session_id(), Clock::now(), &rec);
  if (!s.ok()) return s;
  resp->set_finished(finished);
  return grpc::Status::OK;
}

// ---- SubmitResult ----------------------------------------------------------------------

grpc::Status Server::Impl::SubmitResult(grpc::ServerContext* ctx,
                                        grpc::ServerReader<v1::ResultChunk>* reader,
                                        v1::SubmitResultResponse*) {
  std::string name;
  grpc::Status s = Authenticated(ctx, &name);
  if (!s.ok()) return s;
  Upload up{.ctx = ctx, .peer = PeerKey(ctx, name)};
  v1::ResultChunk chunk;
  if (!reader->Read(&chunk) || !chunk.has_header()) {
    return Reject(up.peer, grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                        "the first message must be a ResultHeader"));
  }
  up.header = chunk.header();
  const v1::ResultHeader& header = up.header;
  up.what = "result for round " + std::to_string(header.round()) + " task " +
            std::to_string(header.task_id());
  const std::string& what = up.what;
  // Whatever path this handler leaves by, its task must not point at its context any more.
  struct ForgetUpload {
    Impl& impl;
    const Upload& up;
    ~ForgetUpload() {
      if (up.token == 0) return;
      std::lock_guard lock(impl.mu);
      net::Board* b = impl.board.board();
      if (!b) return;
      auto t = b->tasks.find(up.header.task_id());
      if (t != b->tasks.end() && t->second.upload == up.token) {
        t->second.upload = 0;
        t->second.cancel_upload = nullptr;
      }
    }
  } forget_upload{*this, up};
  bool opaque = false;
  {
    std::unique_lock lock(mu);
    net::ClientRecord* rec = nullptr;
    s = registry.Find(name, header.session_id(), Clock::now(), &rec);
    if (!s.ok()) return s;
    up.client = rec->id;
    const std::string cname = rec->name;
    lock.unlock();
    if (header.run_id() != o.run_id) {
      return Reject(up.peer,
                    grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                                 what + " belongs to run '" + LogSafe(header.run_id(), 64) +
                                     "', this is run '" + o.run_id + "'"));
    }
    lock.lock();
    const net::Claim claim = board.ClaimAnswer(header.task_id(), static_cast<int>(header.round()),
                                               up.client, cname, what);
    if (!claim.task) {
      lock.unlock();
      return Reject(up.peer, claim.refusal, claim.late);
    }
    net::Task& task = *claim.task;
    const net::Board& b = *board.board();
    up.kind = b.kind;
    opaque = b.opaque();
    up.limit = b.opaque_limit;
    if (!header.error().empty()) {
      Complete(task, {.status = UnavailableError("client " + cname + " could not do the task: " +
                                                 header.error().substr(0, 500))});
      return grpc::Status::OK;
    }
    const bool matches = b.kind == v1::FIT ? header.has_fit()
                         : b.kind == v1::EVALUATE
                             ? header.has_evaluate()
                             : header.has_stage() && header.stage().stage() == b.stage;
    // The caller owns the task: a wrong answer ends it at once (no waiting for the
    // deadline), and the client is told why.
    std::string refusal;
    if (!matches) refusal = what + ": the report does not match the task's kind";
    if (matches && opaque && header.tensors_size() > 0) {
      refusal = what + ": this round is secure (" + o.secure.protocol +
                "): plaintext tensors are refused";
    }
    if (!refusal.empty()) {
      Complete(task, {.status = InvalidArgumentError(refusal)});
      lock.unlock();
      return Reject(up.peer, grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, refusal));
    }
    if (b.kind == v1::EVALUATE) return AcceptEvaluation(lock, task, up);
    // A fit result: wait for an upload slot so that memory stays bounded.
    up.generation = b.generation;
    s = AwaitUploadSlot(lock, task, up);
    if (!s.ok()) return s;
  }
  return opaque ? ReceiveSecure(up, reader) : ReceivePlain(up, reader);
}

// REQUIRES: `lock` holds mu. An evaluation report: a few numbers, no payload.
grpc::Status Server::Impl::AcceptEvaluation(std::unique_lock<std::mutex>& lock, net::Task& task,
                                            const Upload& up) {
  const v1::EvaluateReport& r = up.header.evaluate();
  std::string refusal;
  auto metrics = net::MetricsFromProto(r.metrics());
  if (r.num_examples() == 0 || !std::isfinite(r.loss()) || !std::isfinite(r.accuracy()) ||
      r.accuracy() < 0 || r.accuracy() > 1 || up.header.payload_bytes() != 0) {
    refusal = up.what +
              ": evaluation report needs examples > 0, finite loss, accuracy in [0, 1] and no "
              "payload";
  } else if (!metrics.ok()) {
    refusal = up.what + ": " + std::string(metrics.status().message());
  }
  if (!refusal.empty()) {  // the task ends now, not at the deadline
    Complete(task, {.status = InvalidArgumentError(refusal)});
    lock.unlock();
    return Reject(up.peer, grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, refusal));
  }
  ++stats.results_accepted;
  Complete(task, {.eval = {.client = up.client,
                           .num_examples = r.num_examples(),
                           .loss = r.loss(),
                           .accuracy = r.accuracy(),
                           .metrics = std::move(metrics).value()}});
  return grpc::Status::OK;
}

// REQUIRES: `lock` holds mu. Waits until fewer than max_inflight_results uploads hold a slot,
// then takes one for `task`; refuses (late) when the task ends meanwhile.
grpc::Status Server::Impl::AwaitUploadSlot(std::unique_lock<std::mutex>& lock, net::Task& task,
                                           Upload& up) {
  const uint64_t task_id = up.header.task_id();
  grpc::ServerContext* ctx = up.ctx;
  task.state = net::TaskState::kReceiving;
  up.token = ++uploads;
  task.upload = up.token;
  task.cancel_upload = [ctx] { ctx->TryCancel(); };
  while (inflight >= o.max_inflight_results && board.Receiving(task_id, up.generation) &&
         !ctx->IsCancelled()) {
    cv.wait_for(lock, std::chrono::milliseconds(200));
  }
  net::Task* receiving = board.Receiving(task_id, up.generation);
  if (!receiving || ctx->IsCancelled()) {
    lock.unlock();
    return Reject(up.peer,
                  grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                               up.what + " is late: the round closed during the upload"),
                  true);
  }
  ++inflight;
  receiving->holds_slot = true;
  receiving->last_progress = Clock::now();
  up.global = board.board()->global;
  return grpc::Status::OK;
}

grpc::Status Server::Impl::FailUpload(const Upload& up, const Status& why) {
  std::lock_guard lock(mu);
  --inflight;
  cv.notify_all();
  if (net::Task* t = board.Receiving(up.header.task_id(), up.generation)) {
    Complete(*t, {.status = why});
  }
  ++stats.results_rejected;
  WarnAboutPeer(up.peer, "rejected " + up.what + " from " + up.peer + ": " + why.message());
  return net::ToGrpc(why);
}

bool Server::Impl::StillReceiving(const Upload& up) {
  std::lock_guard lock(mu);
  net::Task* t = board.Receiving(up.header.task_id(), up.generation);
  if (!t) return false;
  t->last_progress = Clock::now();
  return true;
}

// Secure FIT uploads and STAGE answers: bytes for the protocol, which checks them on the
// driver thread; the handler waits for its verdict.
grpc::Status Server::Impl::ReceiveSecure(Upload& up, grpc::ServerReader<v1::ResultChunk>* reader) {
  const v1::ResultHeader& header = up.header;
  const std::string& what = up.what;
  // An upload whose task ended meanwhile (deadline, its board closed) stops at the next chunk
  // and gives its slot back, so a slow sender cannot hold one past its round.
  const Status ended = FailedPreconditionError(what + " is late: its task ended during the upload");
  Outcome out{.holds_slot = true};
  if (header.payload_bytes() > up.limit) {
    return FailUpload(
        up, InvalidArgumentError(what + ": payload of " + std::to_string(header.payload_bytes()) +
                                 " bytes exceeds the limit of " + std::to_string(up.limit)));
  }
  out.opaque.reserve(header.payload_bytes());
  v1::ResultChunk chunk;
  while (reader->Read(&chunk)) {
    if (!chunk.has_data()) return FailUpload(up, InvalidArgumentError(what + ": a second header"));
    if (!StillReceiving(up)) return FailUpload(up, ended);
    if (out.opaque.size() + chunk.data().size() > header.payload_bytes()) {
      return FailUpload(up, InvalidArgumentError(what + ": more bytes than the header declared"));
    }
    out.opaque += chunk.data();
  }
  if (up.ctx->IsCancelled()) return FailUpload(up, UnavailableError(what + ": upload cancelled"));
  if (out.opaque.size() != header.payload_bytes()) {
    return FailUpload(up, InvalidArgumentError(what + ": truncated payload"));
  }
  if (up.kind == v1::FIT) {
    const v1::FitReport& r = header.fit();
    out.fit.client = up.client;
    out.fit.num_examples = r.num_examples();
    out.fit.local_steps = r.local_steps();
    out.fit.train_loss = r.train_loss();
    auto metrics = net::MetricsFromProto(r.metrics());
    if (!metrics.ok()) return FailUpload(up, metrics.status().WithContext(what));
    out.fit.metrics = std::move(metrics).value();
    Status st = ValidateFitReport(out.fit);
    if (!st.ok()) return FailUpload(up, st.WithContext(what));
    out.secure_report = r;
  }
  out.verdict = std::make_shared<std::promise<Status>>();
  std::future<Status> told = out.verdict->get_future();
  grpc::Status delivered = Deliver(up, std::move(out), /*count=*/false);
  if (!delivered.ok()) return delivered;
  return AwaitVerdict(up.ctx, what, told);
}

// A plaintext fit result: tensors checked against the global model's layout as they arrive.
grpc::Status Server::Impl::ReceivePlain(Upload& up, grpc::ServerReader<v1::ResultChunk>* reader) {
  const v1::ResultHeader& header = up.header;
  const std::string& what = up.what;
  const Status ended = FailedPreconditionError(what + " is late: its task ended during the upload");
  auto reader_or = net::PayloadReader::WithLayout(
      header.tensors(), header.payload_bytes(), *up.global,
      [](const std::string& g) { return g == "update" || g.rfind("extra/", 0) == 0; }, "update",
      o.max_result_groups);
  if (!reader_or.ok()) return FailUpload(up, reader_or.status().WithContext(what));
  net::PayloadReader payload = std::move(*reader_or);
  v1::ResultChunk chunk;
  while (reader->Read(&chunk)) {
    if (!chunk.has_data()) return FailUpload(up, InvalidArgumentError(what + ": a second header"));
    if (!StillReceiving(up)) return FailUpload(up, ended);
    Status st = payload.Append(chunk.data());
    if (!st.ok()) return FailUpload(up, st.WithContext(what));
  }
  if (up.ctx->IsCancelled()) return FailUpload(up, UnavailableError(what + ": upload cancelled"));
  Status st = payload.Finish();
  if (!st.ok()) return FailUpload(up, st.WithContext(what));
  auto groups = payload.TakeGroups();
  FitResult result;
  result.client = up.client;
  result.update = std::move(groups.at("update"));
  for (auto& [g, p] : groups) {
    if (g != "update") result.extras[g.substr(6)] = std::move(p);
  }
  const v1::FitReport& r = header.fit();
  result.num_examples = r.num_examples();
  result.local_steps = r.local_steps();
  result.train_loss = r.train_loss();
  auto metrics = net::MetricsFromProto(r.metrics());
  if (!metrics.ok()) return FailUpload(up, metrics.status().WithContext(what));
  result.metrics = std::move(metrics).value();
  st = ValidateFitResult(result, *up.global);
  if (!st.ok()) return FailUpload(up, st.WithContext(what));
  Outcome out;  // not a designated initializer: GCC 12 then warns of an uninitialised map
  out.fit = std::move(result);
  out.holds_slot = true;
  return Deliver(up, std::move(out));
}

// The protocol's verdict on a secure answer, as the client's status: a refusal by the
// protocol (malformed, wrong sender, not matching the layout, a forged decryption) is the
// refusal's code, never OK. Counted here, not at delivery.
grpc::Status Server::Impl::AwaitVerdict(grpc::ServerContext* ctx, const std::string& what,
                                        std::future<Status>& told) {
  while (told.wait_for(std::chrono::milliseconds(200)) != std::future_status::ready) {
    if (ctx->IsCancelled()) return grpc::Status(grpc::StatusCode::CANCELLED, what + ": cancelled");
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

// Hands a received result that holds an upload slot to the driver, unless its task ended
// during the upload. `count`: an accepted result (else the verdict counts it).
grpc::Status Server::Impl::Deliver(const Upload& up, Outcome out, bool count) {
  std::lock_guard lock(mu);
  net::Task* task = board.Receiving(up.header.task_id(), up.generation);
  if (!task) {
    --inflight;
    cv.notify_all();
    ++stats.results_late;
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        up.what + " is late: the round closed during the upload");
  }
  if (count) ++stats.results_accepted;
  Complete(*task, std::move(out));
  return grpc::Status::OK;
}

}  // namespace fedra
