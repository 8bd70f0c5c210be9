// SubmitResult on gRPC's callback API. A result is claimed against the task board from its
// header; an evaluation report ends there. A fit result waits for one of max_inflight_results
// upload slots in a queue (memory, no thread), then its payload is read chunk by chunk and
// checked as it arrives; a secure answer then waits for the protocol's verdict, which the
// driver thread tells it. Reactor operations start with the mutex released: gRPC may run a
// reaction inline.
#include <algorithm>
#include <cmath>
#include <functional>
#include <mutex>

#include "net/server_impl.h"
#include "net/wire.h"

namespace fedra {
namespace {

// ValidateFitResult for a result whose tensors were read against the model's layout (so
// they have it): finite values and a plausible report.
Status CheckReceivedFit(const FitResult& r) {
  const std::string who = "client " + std::to_string(r.client);
  FEDRA_RETURN_IF_ERROR(r.update.CheckFinite().WithContext(who + " update"));
  for (const auto& [name, x] : r.extras) {
    FEDRA_RETURN_IF_ERROR(x.CheckFinite().WithContext(who + " " + name));
  }
  return ValidateFitReport(r);
}

// An aggregator's sums ("sum/<name>" groups) and scalars as FitResult::folded.
Status FoldedFromWire(const v1::FitReport& r, std::map<std::string, Parameters> groups,
                      FitResult& result) {
  if (r.folded_scalars_size() > 64) return InvalidArgumentError("more than 64 folded scalars");
  result.folded.emplace();
  for (auto& [g, p] : groups) result.folded->Put(g.substr(4), std::move(p));
  for (const auto& [name, value] : r.folded_scalars()) {
    if (name.empty() || name.size() > 64) {
      return InvalidArgumentError("a folded scalar name must have 1 to 64 characters");
    }
    if (!std::isfinite(value)) return InvalidArgumentError("folded scalar not finite");
    result.folded->AddScalar(name, value);
  }
  return OkStatus();
}

}  // namespace

// One SubmitResult call.
struct Server::Impl::Upload {
  grpc::CallbackServerContext* ctx = nullptr;
  v1::ResultHeader header;
  std::string what;  // "result for round R task T", for messages
  std::string peer;
  ClientId client = 0;
  v1::TaskKind kind = v1::FIT;
  bool opaque = false;      // a secure FIT upload or a STAGE answer
  uint64_t limit = 0;       // largest opaque payload accepted
  uint64_t generation = 0;  // of the board it answers
  uint64_t token = 0;       // the task's upload token while this call receives
  std::shared_ptr<const std::vector<TensorInfo>> layout;  // the round's model's tensors
  // Whether the call still exists, for the task board's cancel closure: the board hands the
  // closure out under mu and it runs with mu released, when the call may have ended. A
  // recursive mutex, as TryCancel may run the call's reactions inline.
  struct Alive {
    std::recursive_mutex m;
    bool done = false;
  };
  std::shared_ptr<Alive> alive = std::make_shared<Alive>();
};

// The handler's end of a secure answer's verdict: the reader while it waits, null once told
// or done (so the driver never reaches a finished reader).
struct Server::Impl::VerdictSink {
  std::mutex m;
  ResultReader* reader = nullptr;
  ResultReader* Take() {
    std::lock_guard lock(m);
    return std::exchange(reader, nullptr);
  }
};

class Server::Impl::ResultReader final : public grpc::ServerReadReactor<v1::ResultChunk> {
 public:
  ResultReader(Impl& impl, grpc::CallbackServerContext* ctx)
      : impl_(impl), verdict_(std::make_shared<VerdictSink>()) {
    up_.ctx = ctx;
  }

  Upload up_;  // read by the slot queue (under mu) while the call waits there

  // REQUIRES: the call was counted by OpenUpload(PeerKey(ctx, name)).
  void Begin(std::string name) {
    name_ = std::move(name);
    up_.peer = PeerKey(up_.ctx, name_);
    counted_ = true;
    StartRead(&chunk_);
  }

  void OnReadDone(bool ok) override {
    if (!header_seen_) {
      header_seen_ = true;
      OnHeader(ok);
    } else {
      OnPayload(ok);
    }
  }

  // A cancelled call waiting for a slot or a verdict ends here; one reading ends through its
  // failed read.
  void OnCancel() override {
    if (impl_.ForgetSlotWaiter(this)) {
      Finish(impl_.Reject(up_.peer,
                          grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                                       up_.what + " is late: the round closed during the upload"),
                          true));
      return;
    }
    if (verdict_->Take() == this) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, up_.what + ": cancelled"));
    }
  }

  void OnDone() override {
    {
      std::lock_guard lock(up_.alive->m);  // waits for a cancel running now; none comes after
      up_.alive->done = true;
    }
    verdict_->Take();
    impl_.ForgetUpload(up_);
    if (counted_) impl_.CloseUpload(up_.peer);
    delete this;
  }

  // Once the slot is taken: where the payload goes (a buffer, or a reader of the layout).
  Status PrepareReceive() {
    const std::string& what = up_.what;
    if (up_.opaque) {
      if (up_.header.payload_bytes() > up_.limit) {
        return InvalidArgumentError(what + ": payload of " +
                                    std::to_string(up_.header.payload_bytes()) +
                                    " bytes exceeds the limit of " + std::to_string(up_.limit));
      }
      opaque_.reserve(up_.header.payload_bytes());
      return OkStatus();
    }
    const bool folded = up_.header.has_fit() && up_.header.fit().folded();
    if (folded && std::find(impl_.o.aggregators.begin(), impl_.o.aggregators.end(), name_) ==
                      impl_.o.aggregators.end()) {
      return FailedPreconditionError(what +
                                     ": folded sums, but this client is not an aggregator "
                                     "(fedra-server --aggregators)");
    }
    auto update_groups = [](const std::string& g) {
      return g == "update" || g.rfind("extra/", 0) == 0;
    };
    auto sum_groups = [](const std::string& g) { return g.rfind("sum/", 0) == 0; };
    auto reader = net::PayloadReader::WithLayout(
        up_.header.tensors(), up_.header.payload_bytes(), *up_.layout,
        folded ? std::function<bool(const std::string&)>(sum_groups) : update_groups,
        folded ? "" : "update", impl_.o.max_result_groups);
    if (!reader.ok()) return reader.status().WithContext(what);
    payload_.emplace(std::move(*reader));
    payload_->set_spare(&impl_.spare);
    return OkStatus();
  }

  // The slot this call waited for (called with mu released), or the refusal that ends it.
  void SlotGranted() { StartRead(&chunk_); }
  void SlotRefused(grpc::Status refusal) { Finish(std::move(refusal)); }
  // The protocol's verdict on this secure answer (from the driver thread, mu released).
  void Verdict(Status verdict) { Finish(impl_.VerdictStatus(up_.what, std::move(verdict))); }

 private:
  void OnHeader(bool ok) {
    if (!ok || !chunk_.has_header()) {
      Finish(impl_.Reject(up_.peer, grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                                 "the first message must be a ResultHeader")));
      return;
    }
    up_.header = chunk_.header();
    up_.what = "result for round " + std::to_string(up_.header.round()) + " task " +
               std::to_string(up_.header.task_id());
    AfterClaim next = AfterClaim::kFinish;
    const grpc::Status s = impl_.ClaimResult(up_, name_, this, &next);
    switch (next) {
      case AfterClaim::kFinish:
        Finish(s);
        return;
      case AfterClaim::kRead:
        StartRead(&chunk_);
        return;
      case AfterClaim::kQueued:  // SlotGranted/SlotRefused continue it: touch nothing here
        return;
    }
  }

  void OnPayload(bool ok) {
    const std::string& what = up_.what;
    if (ok) {
      Status st;
      if (!chunk_.has_data()) {
        st = InvalidArgumentError(what + ": a second header");
      } else if (!impl_.StillReceiving(up_)) {
        // Its task ended meanwhile (deadline, its board closed): stop at this chunk and give
        // the slot back, so a slow sender cannot hold one past its round.
        st = FailedPreconditionError(what + " is late: its task ended during the upload");
      } else if (up_.opaque) {
        if (opaque_.size() + chunk_.data().size() > up_.header.payload_bytes()) {
          st = InvalidArgumentError(what + ": more bytes than the header declared");
        } else {
          opaque_ += chunk_.data();
        }
      } else {
        st = payload_ ? payload_->Append(chunk_.data()) : OkStatus();
        if (!st.ok()) st = st.WithContext(what);
      }
      if (!st.ok()) {
        Finish(impl_.FailUpload(up_, st));
        return;
      }
      StartRead(&chunk_);
      return;
    }
    if (up_.ctx->IsCancelled()) {
      Finish(impl_.FailUpload(up_, UnavailableError(what + ": upload cancelled")));
      return;
    }
    if (up_.opaque) {
      FinishSecure();
    } else {
      FinishPlain();
    }
  }

  void FinishSecure() {
    const std::string& what = up_.what;
    if (opaque_.size() != up_.header.payload_bytes()) {
      Finish(impl_.FailUpload(up_, InvalidArgumentError(what + ": truncated payload")));
      return;
    }
    Outcome out{.holds_slot = true, .slot_bytes = up_.header.payload_bytes()};
    out.opaque = std::move(opaque_);
    if (up_.kind == v1::FIT) {
      const v1::FitReport& r = up_.header.fit();
      out.fit.client = up_.client;
      out.fit.num_examples = r.num_examples();
      out.fit.local_steps = r.local_steps();
      out.fit.train_loss = r.train_loss();
      auto metrics = net::MetricsFromProto(r.metrics());
      if (!metrics.ok()) {
        Finish(impl_.FailUpload(up_, metrics.status().WithContext(what)));
        return;
      }
      out.fit.metrics = std::move(metrics).value();
      Status st = ValidateFitReport(out.fit);
      if (!st.ok()) {
        Finish(impl_.FailUpload(up_, st.WithContext(what)));
        return;
      }
      out.secure_report = r;
    }
    {
      std::lock_guard lock(verdict_->m);
      verdict_->reader = this;
    }
    std::shared_ptr<VerdictSink> sink = verdict_;
    out.verdict = std::make_shared<net::VerdictPromise>([sink](Status v) {
      if (ResultReader* reader = sink->Take()) reader->Verdict(std::move(v));
    });
    // From here the driver may tell the verdict at any time, on its thread.
    const grpc::Status delivered = impl_.Deliver(up_, out, /*count=*/false);
    if (!delivered.ok()) {
      out.verdict->Cancel();
      if (sink->Take() == this) Finish(delivered);
    }
  }

  void FinishPlain() {
    const std::string& what = up_.what;
    Status st = payload_->Finish();
    if (!st.ok()) {
      Finish(impl_.FailUpload(up_, st.WithContext(what)));
      return;
    }
    auto groups = payload_->TakeGroups();
    FitResult result;
    result.client = up_.client;
    const v1::FitReport& r = up_.header.fit();
    if (r.folded()) {
      st = FoldedFromWire(r, std::move(groups), result);
      if (!st.ok()) {
        Finish(impl_.FailUpload(up_, st.WithContext(what)));
        return;
      }
    } else {
      result.update = std::move(groups.at("update"));
      for (auto& [g, p] : groups) {
        if (g != "update") result.extras[g.substr(6)] = std::move(p);
      }
    }
    result.num_examples = r.num_examples();
    result.local_steps = r.local_steps();
    result.train_loss = r.train_loss();
    auto metrics = net::MetricsFromProto(r.metrics());
    if (!metrics.ok()) {
      Finish(impl_.FailUpload(up_, metrics.status().WithContext(what)));
      return;
    }
    result.metrics = std::move(metrics).value();
    // A folded result's names are checked against the strategy's fold by the round driver.
    st = result.folded ? ValidateFitReport(result) : CheckReceivedFit(result);
    if (!st.ok()) {
      Finish(impl_.FailUpload(up_, st.WithContext(what)));
      return;
    }
    Outcome out;  // not a designated initializer: GCC 12 then warns of an uninitialised map
    out.fit = std::move(result);
    out.holds_slot = true;
    out.slot_bytes = up_.header.payload_bytes();
    Finish(impl_.Deliver(up_, out));
  }

  Impl& impl_;
  std::string name_;
  bool counted_ = false;  // in open_uploads until OnDone
  bool header_seen_ = false;
  v1::ResultChunk chunk_;
  std::string opaque_;
  std::optional<net::PayloadReader> payload_;
  std::shared_ptr<VerdictSink> verdict_;
};

grpc::ServerReadReactor<v1::ResultChunk>* Server::Impl::SubmitResult(
    grpc::CallbackServerContext* ctx, v1::SubmitResultResponse*) {
  auto* reader = new ResultReader(*this, ctx);
  std::string name;
  grpc::Status s = Authenticated(ctx, &name);
  if (!s.ok()) {
    reader->Finish(s);
    return reader;
  }
  s = OpenUpload(PeerKey(ctx, name));
  if (!s.ok()) {
    reader->Finish(s);
    return reader;
  }
  reader->Begin(std::move(name));
  return reader;
}

grpc::Status Server::Impl::OpenUpload(const std::string& caller) {
  std::lock_guard lock(mu);
  size_t& mine = open_uploads_by_caller[caller];
  std::string why;
  // Per caller only for authenticated names: without credentials every client on one host
  // shares its address (the in-all cap still holds).
  if (auth.configured() && mine >= o.max_uploads_per_client) {
    why = std::to_string(mine) + " uploads of " + caller +
          " are open (--max-uploads-per-client); finish one first";
  } else if (open_uploads >= o.max_open_uploads) {
    why = "the server has " + std::to_string(open_uploads) +
          " uploads open, its limit (--max-open-uploads); retry later";
  }
  if (!why.empty()) {
    if (mine == 0) open_uploads_by_caller.erase(caller);
    ++stats.uploads_refused;
    WarnAboutPeer(caller, "refused an upload: " + why);
    return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, LogSafe(why, 256));
  }
  ++mine;
  ++open_uploads;
  return grpc::Status::OK;
}

void Server::Impl::CloseUpload(const std::string& caller) {
  std::lock_guard lock(mu);
  auto it = open_uploads_by_caller.find(caller);
  if (it != open_uploads_by_caller.end() && --it->second == 0) open_uploads_by_caller.erase(it);
  --open_uploads;
}

grpc::Status Server::Impl::ClaimResult(Upload& up, const std::string& name, ResultReader* reader,
                                       AfterClaim* next) {
  const v1::ResultHeader& header = up.header;
  const std::string& what = up.what;
  std::unique_lock lock(mu);
  net::ClientRecord* rec = nullptr;
  grpc::Status s = registry.Find(name, header.session_id(), Clock::now(), &rec);
  if (!s.ok()) return s;
  up.client = rec->id;
  const std::string cname = rec->name;
  if (header.run_id() != o.run_id) {
    lock.unlock();
    return Reject(up.peer, grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                                        what + " belongs to run '" + LogSafe(header.run_id(), 64) +
                                            "', this is run '" + o.run_id + "'"));
  }
  const net::Claim claim =
      board.ClaimAnswer(header.task_id(), static_cast<int>(header.round()), up.client, cname, what);
  if (!claim.task) {
    lock.unlock();
    return Reject(up.peer, claim.refusal, claim.late);
  }
  net::Task& task = *claim.task;
  const net::Board& b = *board.board();
  up.kind = b.kind;
  up.opaque = b.opaque();
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
  // The caller owns the task: a wrong answer ends it at once (no waiting for the deadline),
  // and the client is told why.
  std::string refusal;
  if (!matches) refusal = what + ": the report does not match the task's kind";
  if (matches && up.opaque && header.tensors_size() > 0) {
    refusal =
        what + ": this round is secure (" + o.secure.protocol + "): plaintext tensors are refused";
  }
  if (!refusal.empty()) {
    Complete(task, {.status = InvalidArgumentError(refusal)});
    lock.unlock();
    return Reject(up.peer, grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, refusal));
  }
  if (b.kind == v1::EVALUATE) return AcceptEvaluation(lock, task, up);
  // A fit result or stage answer: it needs an upload slot, so that memory stays bounded.
  grpc::CallbackServerContext* ctx = up.ctx;
  task.state = net::TaskState::kReceiving;
  up.token = ++uploads;
  task.upload = up.token;
  task.cancel_upload = [ctx, alive = up.alive] {
    std::lock_guard guard(alive->m);
    if (!alive->done) ctx->TryCancel();
  };
  up.generation = b.generation;
  if (b.model) up.layout = b.model->layout();
  // First come, first served: behind others waiting, or without room, it waits its turn.
  if (!slot_waiters.empty() || !SlotFreeLocked(up.header.payload_bytes())) {
    slot_waiters.push_back(reader);
    *next = AfterClaim::kQueued;
    return grpc::Status::OK;
  }
  ++inflight;
  inflight_bytes += up.header.payload_bytes();
  task.holds_slot = true;
  task.last_progress = Clock::now();
  lock.unlock();
  const Status ready = reader->PrepareReceive();
  if (!ready.ok()) return FailUpload(up, ready);
  *next = AfterClaim::kRead;
  return grpc::Status::OK;
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

void Server::Impl::GrantSlots() {
  struct Next {
    ResultReader* reader;
    bool granted;
  };
  std::vector<Next> next;
  {
    std::lock_guard lock(mu);
    bool full = false;
    for (auto it = slot_waiters.begin(); it != slot_waiters.end();) {
      ResultReader* r = *it;
      net::Task* task = board.Receiving(r->up_.header.task_id(), r->up_.generation);
      if (task == nullptr || r->up_.ctx->IsCancelled()) {  // its task or round ended first
        ++stats.results_late;
        WarnAboutPeer(r->up_.peer, "rejected a result from " + r->up_.peer + ": " + r->up_.what +
                                       " is late: the round closed during the upload");
        next.push_back({r, false});
        it = slot_waiters.erase(it);
        continue;
      }
      // In order: once the first waiter does not fit, later (smaller) ones wait behind it.
      if (full || !SlotFreeLocked(r->up_.header.payload_bytes())) {
        full = true;
        ++it;
        continue;
      }
      ++inflight;
      inflight_bytes += r->up_.header.payload_bytes();
      task->holds_slot = true;
      task->last_progress = Clock::now();
      next.push_back({r, true});
      it = slot_waiters.erase(it);
    }
  }
  for (const Next& n : next) {
    if (!n.granted) {
      n.reader->SlotRefused(
          grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                       n.reader->up_.what + " is late: the round closed during the upload"));
      continue;
    }
    const Status ready = n.reader->PrepareReceive();
    if (!ready.ok()) {
      n.reader->SlotRefused(FailUpload(n.reader->up_, ready));
    } else {
      n.reader->SlotGranted();
    }
  }
}

bool Server::Impl::ForgetSlotWaiter(ResultReader* reader) {
  std::lock_guard lock(mu);
  auto it = std::find(slot_waiters.begin(), slot_waiters.end(), reader);
  if (it == slot_waiters.end()) return false;
  slot_waiters.erase(it);
  return true;
}

void Server::Impl::ForgetUpload(const Upload& up) {
  if (up.token == 0) return;
  std::lock_guard lock(mu);
  net::Board* b = board.board();
  if (!b) return;
  auto t = b->tasks.find(up.header.task_id());
  if (t != b->tasks.end() && t->second.upload == up.token) {
    t->second.upload = 0;
    t->second.cancel_upload = nullptr;
  }
}

// Whether an upload of `bytes` may take a slot now: at most max_inflight_results uploads and
// max_inflight_result_bytes declared bytes at once, but always one.
bool Server::Impl::SlotFreeLocked(uint64_t bytes) const {
  return inflight == 0 || (inflight < o.max_inflight_results &&
                           inflight_bytes + bytes <= o.max_inflight_result_bytes);
}

void Server::Impl::ReleaseSlot(uint64_t bytes) {
  {
    std::lock_guard lock(mu);
    --inflight;
    inflight_bytes -= std::min(inflight_bytes, bytes);
    cv.notify_all();
  }
  GrantSlots();
}

grpc::Status Server::Impl::FailUpload(const Upload& up, const Status& why) {
  {
    std::lock_guard lock(mu);
    --inflight;
    inflight_bytes -= std::min(inflight_bytes, up.header.payload_bytes());
    cv.notify_all();
    if (net::Task* t = board.Receiving(up.header.task_id(), up.generation)) {
      Complete(*t, {.status = why});
    }
    ++stats.results_rejected;
    WarnAboutPeer(up.peer, "rejected " + up.what + " from " + up.peer + ": " + why.message());
  }
  GrantSlots();
  return net::ToGrpc(why);
}

bool Server::Impl::StillReceiving(const Upload& up) {
  std::lock_guard lock(mu);
  net::Task* t = board.Receiving(up.header.task_id(), up.generation);
  if (!t) return false;
  t->last_progress = Clock::now();
  return true;
}

// Hands a received result that holds an upload slot to the driver, unless its task ended
// during the upload (then `out` stays with the caller). `count`: an accepted result (else the
// verdict counts it).
grpc::Status Server::Impl::Deliver(const Upload& up, Outcome& out, bool count) {
  {
    std::lock_guard lock(mu);
    net::Task* task = board.Receiving(up.header.task_id(), up.generation);
    if (task) {
      if (count) ++stats.results_accepted;
      Complete(*task, std::move(out));
      return grpc::Status::OK;
    }
    --inflight;
    inflight_bytes -= std::min(inflight_bytes, up.header.payload_bytes());
    cv.notify_all();
    ++stats.results_late;
  }
  GrantSlots();
  return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                      up.what + " is late: the round closed during the upload");
}

// The protocol's verdict on a secure answer, as the client's status: a refusal by the protocol
// (malformed, wrong sender, not matching the layout, a forged decryption) is the refusal's
// code, never OK. Counted here, not at delivery.
grpc::Status Server::Impl::VerdictStatus(const std::string& what, Status verdict) {
  {
    std::lock_guard lock(mu);
    ++(verdict.ok() ? stats.results_accepted : stats.results_rejected);
  }
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

}  // namespace fedra
