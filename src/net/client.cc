#include "fedra/net/client.h"

#include <openssl/rand.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "core/file_util.h"
#include "core/log_safe.h"
#include "fedra/core/logging.h"
#include "fedra/core/rng.h"
#include "fedra/fl/local_update.h"
#include "fedra/net/features.h"
#include "fedra/v1/federation.grpc.pb.h"
#include "net/client_secure.h"
#include "net/spare_buffer.h"
#include "net/wire.h"

namespace fedra {
namespace {

using Clock = std::chrono::steady_clock;

uint64_t OsRandomU64() {
  uint64_t v = 0;
  FEDRA_CHECK_MSG(RAND_bytes(reinterpret_cast<unsigned char*>(&v), sizeof v) == 1,
                  "RAND_bytes failed");
  return v;
}

bool Transient(const grpc::Status& s) {
  // RESOURCE_EXHAUSTED: a server limit (polls, registrations); back off and try again.
  return s.error_code() == grpc::StatusCode::UNAVAILABLE ||
         s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED ||
         s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED ||
         s.error_code() == grpc::StatusCode::CANCELLED ||
         s.error_code() == grpc::StatusCode::UNKNOWN ||
         s.error_code() == grpc::StatusCode::INTERNAL;
}

}  // namespace

struct Client::Impl {
  Impl(std::unique_ptr<LocalTrainer> own, LocalTrainer& t, ClientState* st, ClientOptions opts)
      : owned(std::move(own)), trainer(t), builtin_state(st), o(std::move(opts)) {}

  std::unique_ptr<LocalTrainer> owned;  // the built-in trainer, when the client made it
  LocalTrainer& trainer;
  ClientState* builtin_state;  // its state (null for the application's own trainer)
  ClientOptions o;
  std::shared_ptr<spdlog::logger> log = Logger("client");
  std::atomic<bool> stop{false};
  std::atomic<int> fits{0}, evals{0};
  std::mutex sleep_mu;
  std::condition_variable sleep_cv;

  std::shared_ptr<grpc::Channel> channel;
  std::shared_ptr<grpc::Channel> given_channel;  // Client(trainer, channel, options)
  std::unique_ptr<v1::Federation::Stub> stub;
  std::string session, run_id, name;
  uint32_t poll_seconds = 5, heartbeat_seconds = 2;
  uint64_t chunk_bytes = 1 << 20;
  Rng jitter{OsRandomU64()};
  net::SecureParticipant secure{o};
  net::SpareBuffer spare;  // the last global model's memory, for the next download

  std::unique_ptr<grpc::ClientContext> Context(double seconds) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    if (!o.token.empty()) ctx->AddMetadata("authorization", "Bearer " + o.token);
    ctx->set_deadline(std::chrono::system_clock::now() +
                      std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000)));
    return ctx;
  }

  Status MakeChannel() {
    if (given_channel) {  // the application's (e.g. an in-process channel in tests)
      channel = given_channel;
      stub = v1::Federation::NewStub(channel);
      return OkStatus();
    }
    std::shared_ptr<grpc::ChannelCredentials> creds;
    if (o.insecure) {
      creds = grpc::InsecureChannelCredentials();
    } else {
      if (o.ca_file.empty()) {
        return InvalidArgumentError(
            "TLS needs the CA certificate that signed the server's (or insecure)");
      }
      grpc::SslCredentialsOptions ssl;
      FEDRA_ASSIGN_OR_RETURN(ssl.pem_root_certs, internal::ReadFile(o.ca_file));
      if (o.cert_file.empty() != o.key_file.empty()) {
        return InvalidArgumentError(
            "a client certificate needs its key, and the key its certificate");
      }
      if (!o.cert_file.empty()) {
        FEDRA_ASSIGN_OR_RETURN(ssl.pem_cert_chain, internal::ReadFile(o.cert_file));
        FEDRA_ASSIGN_OR_RETURN(ssl.pem_private_key, internal::ReadFile(o.key_file));
      }
      creds = grpc::SslCredentials(ssl);
    }
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(static_cast<int>(o.max_message_bytes));
    args.SetMaxSendMessageSize(static_cast<int>(o.max_message_bytes));
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 200);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
    // A channel is rebuilt after repeated failures (see Run); a private subchannel pool makes
    // that a really fresh connection rather than the shared, possibly wedged one.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    if (!o.server_name_override.empty()) args.SetSslTargetNameOverride(o.server_name_override);
    channel = grpc::CreateCustomChannel(o.server, creds, args);
    stub = v1::Federation::NewStub(channel);
    return OkStatus();
  }

  // Sleeps up to `seconds`, returning early on Stop().
  void Sleep(double seconds) {
    std::unique_lock lock(sleep_mu);
    sleep_cv.wait_for(lock, std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000)),
                      [&] { return stop.load(); });
  }

  grpc::Status Register() {
    v1::RegisterRequest req;
    req.set_client_name(o.name);
    req.set_protocol_version(1);
    // All of them: RunClientFit honours each setting or refuses it.
    for (std::string_view feature : kClientFeatures) req.add_features(std::string(feature));
    v1::RegisterResponse resp;
    auto ctx = Context(30);
    grpc::Status s = stub->Register(ctx.get(), req, &resp);
    if (!s.ok()) return s;
    session = resp.session_id();
    // A new run: forget the built-in trainer's SCAFFOLD state.
    if (resp.run_id() != run_id && builtin_state != nullptr) *builtin_state = ClientState{};
    run_id = resp.run_id();
    poll_seconds = std::max<uint32_t>(1, resp.poll_seconds());
    heartbeat_seconds = std::max<uint32_t>(1, resp.heartbeat_seconds());
    chunk_bytes = std::clamp<uint64_t>(resp.max_chunk_bytes(), 4096, o.max_message_bytes - 4096);
    log->info("registered with {} as client {} (run {}, model {})", o.server, resp.client_id(),
              LogSafe(run_id, 64), LogSafe(resp.model_name(), 64));
    return s;
  }

  // Sends heartbeats until destroyed, so the server knows a long training is still alive.
  class HeartbeatThread {
   public:
    explicit HeartbeatThread(Impl& impl) : impl_(impl), thread_([this] { Loop(); }) {}
    ~HeartbeatThread() {
      {
        std::lock_guard lock(mu_);
        done_ = true;
      }
      cv_.notify_all();
      thread_.join();
    }

   private:
    void Loop() {
      std::unique_lock lock(mu_);
      while (!cv_.wait_for(lock, std::chrono::seconds(impl_.heartbeat_seconds),
                           [&] { return done_; })) {
        lock.unlock();
        v1::HeartbeatRequest req;
        req.set_session_id(impl_.session);
        v1::HeartbeatResponse resp;
        auto ctx = impl_.Context(std::max(1u, impl_.heartbeat_seconds));
        impl_.stub->Heartbeat(ctx.get(), req, &resp);  // failures: the next poll finds out
        lock.lock();
      }
    }
    Impl& impl_;
    std::mutex mu_;
    std::condition_variable cv_;
    bool done_ = false;
    std::thread thread_;
  };

  grpc::Status Submit(const v1::ResultHeader& header, const std::vector<net::PayloadGroup>& groups,
                      const std::string& opaque = {}) {
    v1::SubmitResultResponse resp;
    auto ctx = Context(600);
    auto writer = stub->SubmitResult(ctx.get(), &resp);
    v1::ResultChunk chunk;
    *chunk.mutable_header() = header;
    if (writer->Write(chunk)) {
      v1::ResultChunk data;
      auto send = [&](std::string_view bytes) {
        data.set_data(bytes.data(), bytes.size());
        return writer->Write(data);
      };
      if (net::ForEachChunk(groups, chunk_bytes, send))
        net::ForEachChunk(opaque, chunk_bytes, send);
    }
    writer->WritesDone();
    return writer->Finish();
  }

  // The server refusing one result (late, duplicate, malformed, failing the protocol's check)
  // ends that task, not the session: log it and go on polling.
  grpc::Status Refused(const grpc::Status& s, const v1::TaskHeader& task) {
    const auto code = s.error_code();
    if (code == grpc::StatusCode::FAILED_PRECONDITION || code == grpc::StatusCode::ALREADY_EXISTS ||
        code == grpc::StatusCode::INVALID_ARGUMENT || code == grpc::StatusCode::DATA_LOSS) {
      log->warn("round {}: the server refused the result: {}", task.round(),
                LogSafe(s.error_message(), 512));
      return grpc::Status(grpc::StatusCode::OK, "");
    }
    return s;
  }

  v1::ResultHeader HeaderFor(const v1::TaskHeader& task) {
    v1::ResultHeader h;
    h.set_session_id(session);
    h.set_run_id(task.run_id());
    h.set_round(task.round());
    h.set_task_id(task.task_id());
    return h;
  }

  // Does one task and uploads its result (or the reason it could not be done).
  grpc::Status DoTask(const v1::TaskHeader& task, std::map<std::string, Parameters> groups) {
    v1::ResultHeader h = HeaderFor(task);
    std::vector<net::PayloadGroup> out;
    auto global_it = groups.find("global");
    Status status = global_it == groups.end() ? InvalidArgumentError("the task has no global model")
                                              : OkStatus();
    FitResult fit;
    std::string opaque;
    if (status.ok() && task.kind() == v1::FIT) {
      std::map<std::string, Parameters> broadcast;
      for (auto& [g, p] : groups) {
        if (g.rfind("broadcast/", 0) == 0) broadcast[g.substr(10)] = std::move(p);
      }
      auto config = net::FromProto(task.fit());
      if (!config.ok()) {
        status = config.status();
      } else {
        Rng rng(o.seed == 0 ? OsRandomU64() : Rng(o.seed).Split(task.round()).NextU64());
        HeartbeatThread heartbeat(*this);
        auto r = RunClientFit(trainer, global_it->second, *config, broadcast, rng);
        if (r.ok()) {
          fit = std::move(*r);
        } else {
          status = r.status();
        }
      }
      if (status.ok()) {
        v1::FitReport* rep = h.mutable_fit();
        if (task.fit().has_secure()) {
          // A secure round: only the protocol's upload leaves this client; the report says
          // nothing of it (one "example" marks it trained).
          rep->set_num_examples(1);
          auto up = secure.PrepareFit(task.fit().secure(), fit, *net::FromProto(task.fit()),
                                      task.round());
          if (up.ok()) {
            for (const auto& n : up->sum_names) rep->add_sum_names(n);
            for (const auto& n : up->scalar_names) rep->add_scalar_names(n);
            opaque = std::move(up->payload);
            h.set_payload_bytes(opaque.size());
          } else {
            status = up.status();
          }
        } else {
          rep->set_num_examples(fit.num_examples);
          rep->set_local_steps(fit.local_steps);
          rep->set_train_loss(fit.train_loss);
          rep->mutable_metrics()->insert(fit.metrics.begin(), fit.metrics.end());
          if (fit.folded) {  // an aggregator's sums (net/edge.h)
            rep->set_folded(true);
            rep->mutable_folded_scalars()->insert(fit.folded->scalars().begin(),
                                                  fit.folded->scalars().end());
            for (const auto& [n, p] : fit.folded->sums()) out.push_back({"sum/" + n, &p});
          } else {
            out.push_back({"update", &fit.update});
            for (const auto& [n, p] : fit.extras) out.push_back({"extra/" + n, &p});
          }
          h.set_payload_bytes(net::DescribePayload(out, h.mutable_tensors()));
        }
      }
    } else if (status.ok()) {
      auto extra = net::FromProto(task.evaluate().config());
      if (!extra.ok()) {
        status = extra.status();
      } else {
        const EvaluateTask et{.batch_size = std::max(1, task.evaluate().batch_size()),
                              .extra = std::move(extra).value()};
        HeartbeatThread heartbeat(*this);  // an edge aggregator's evaluation takes a while
        auto r = RunClientEvaluate(trainer, global_it->second, et);
        if (r.ok()) {
          v1::EvaluateReport* rep = h.mutable_evaluate();
          rep->set_num_examples(r->num_examples);
          rep->set_loss(r->loss);
          rep->set_accuracy(r->accuracy);
          rep->mutable_metrics()->insert(r->metrics.begin(), r->metrics.end());
        } else {
          status = r.status();
        }
      }
    }
    if (!status.ok()) {
      log->warn("round {}: cannot do the task: {}", task.round(), status.ToString());
      h.set_error(status.ToString());
      out.clear();
      opaque.clear();
      h.clear_tensors();
      h.set_payload_bytes(0);
    }
    grpc::Status s = Submit(h, out, opaque);
    // The next download reads into this model's memory (the same peak, fewer page faults).
    if (global_it != groups.end()) spare.Put(std::move(global_it->second));
    if (s.ok() && status.ok()) {
      if (task.kind() == v1::FIT) {
        ++fits;
        log->info("round {}: trained on {} examples (loss {:.4f}), update sent", task.round(),
                  fit.num_examples, fit.train_loss);
      } else {
        ++evals;
      }
    }
    return Refused(s, task);
  }

  // A protocol stage: the payload is the stage's message; the answer's payload is the reply.
  grpc::Status DoStage(const v1::TaskHeader& task, grpc::ClientReader<v1::TaskChunk>& reader,
                       v1::TaskChunk& chunk) {
    std::string message;
    Status bad = task.payload_bytes() > o.max_payload_bytes
                     ? InvalidArgumentError("stage message larger than max_payload_bytes")
                     : OkStatus();
    while (reader.Read(&chunk)) {
      if (!bad.ok()) continue;
      if (!chunk.has_data() || message.size() + chunk.data().size() > task.payload_bytes()) {
        bad = InvalidArgumentError("malformed stage message");
      } else {
        message += chunk.data();
      }
    }
    grpc::Status s = reader.Finish();
    if (!s.ok()) return s;
    if (bad.ok() && message.size() != task.payload_bytes()) {
      bad = InvalidArgumentError("truncated stage message");
    }
    v1::ResultHeader h = HeaderFor(task);
    h.mutable_stage()->set_stage(task.stage().stage());
    std::string reply;
    if (o.on_stage) o.on_stage(task.stage().protocol(), task.stage().stage());
    if (bad.ok()) {
      HeartbeatThread heartbeat(*this);
      auto r = secure.Stage(task.stage(), task.round(), message);
      if (r.ok()) {
        reply = std::move(*r);
      } else {
        bad = r.status();
      }
    }
    if (!bad.ok()) {
      log->warn("round {}: {} stage {} refused: {}", task.round(),
                LogSafe(task.stage().protocol(), 32), task.stage().stage(),
                LogSafe(bad.ToString(), 512));
      h.set_error(bad.ToString());
      reply.clear();
    }
    h.set_payload_bytes(reply.size());
    return Refused(Submit(h, {}, reply), task);
  }

  // One long poll. Sets *finished when the server says the run is over.
  grpc::Status Poll(bool* finished) {
    v1::GetTaskRequest req;
    req.set_session_id(session);
    auto ctx = Context(poll_seconds + 600.0);
    auto reader = stub->GetTask(ctx.get(), req);
    v1::TaskChunk chunk;
    if (!reader->Read(&chunk)) return reader->Finish();
    if (!chunk.has_header()) {
      ctx->TryCancel();
      reader->Finish();
      return grpc::Status(grpc::StatusCode::INTERNAL, "the server sent data before a task header");
    }
    const v1::TaskHeader task = chunk.header();
    if (task.kind() == v1::WAIT || task.kind() == v1::FINISHED) {
      *finished = task.kind() == v1::FINISHED;
      while (reader->Read(&chunk)) {
      }
      return reader->Finish();
    }
    if (task.kind() == v1::STAGE) return DoStage(task, *reader, chunk);
    if (task.kind() != v1::FIT && task.kind() != v1::EVALUATE) {
      ctx->TryCancel();
      reader->Finish();
      v1::ResultHeader h = HeaderFor(task);
      h.set_error("this client does not support task kind " + std::to_string(task.kind()));
      return Submit(h, {});
    }
    auto payload =
        net::PayloadReader::FromSpecs(task.tensors(), task.payload_bytes(), o.max_payload_bytes);
    Status bad = payload.ok() ? OkStatus() : payload.status();
    if (payload.ok()) payload->set_spare(&spare);
    while (reader->Read(&chunk)) {
      if (bad.ok())
        bad = chunk.has_data() ? payload->Append(chunk.data())
                               : InvalidArgumentError("a second task header");
    }
    grpc::Status s = reader->Finish();
    if (!s.ok()) return s;  // the download broke: the server hands the task out again
    if (bad.ok()) bad = payload->Finish();
    if (!bad.ok()) {
      v1::ResultHeader h = HeaderFor(task);
      h.set_error("bad task payload: " + bad.ToString());
      log->warn("round {}: {}", task.round(), LogSafe(h.error(), 512));
      return Submit(h, {});
    }
    return DoTask(task, payload->TakeGroups());
  }

  Status Run() {
    FEDRA_RETURN_IF_ERROR(MakeChannel());
    auto last_contact = Clock::now();
    double backoff = o.initial_backoff_seconds;
    int failures = 0;
    while (!stop) {
      grpc::Status s;
      bool finished = false;
      s = session.empty() ? Register() : Poll(&finished);
      if (finished) {
        log->info("the server finished the run ({} rounds trained here)", fits.load());
        return OkStatus();
      }
      if (s.ok()) {
        last_contact = Clock::now();
        backoff = o.initial_backoff_seconds;
        failures = 0;
        continue;
      }
      const auto code = s.error_code();
      if (code == grpc::StatusCode::NOT_FOUND && !session.empty()) {
        log->info("the server does not know this session (it restarted?): registering again");
        session.clear();
        continue;
      }
      if (code == grpc::StatusCode::UNAUTHENTICATED ||
          code == grpc::StatusCode::PERMISSION_DENIED) {
        return net::FromGrpc(s, "the server refused this client");
      }
      if (code == grpc::StatusCode::FAILED_PRECONDITION && session.empty()) {
        return net::FromGrpc(s, "registration refused");
      }
      if (!Transient(s)) {
        log->warn("call failed: {} (code {})", LogSafe(s.error_message(), 512),
                  static_cast<int>(code));
        session.clear();
      }
      const double idle = std::chrono::duration<double>(Clock::now() - last_contact).count();
      if (idle > o.give_up_seconds) {
        return net::FromGrpc(s, "no contact with " + o.server + " for " +
                                    std::to_string(static_cast<int>(idle)) + " s, giving up");
      }
      const double wait = jitter.Uniform() * backoff;  // full jitter
      log->info("server unavailable ({}); retrying in {:.1f} s", LogSafe(s.error_message(), 512),
                wait);
      Sleep(wait);
      backoff = std::min(o.max_backoff_seconds, backoff * 2);
      // Seen after a server restart under TLS: an old channel kept failing handshakes that a
      // new channel completed at once. Start afresh after repeated failures.
      if (++failures % 3 == 0) FEDRA_RETURN_IF_ERROR(MakeChannel());
    }
    return OkStatus();
  }
};

Client::Client(Model& model, const Loss& loss, const Dataset& train, const Dataset& test,
               ClientOptions options) {
  auto own = std::make_unique<ModelTrainer>(model, loss, train, test, &state_);
  LocalTrainer& t = *own;
  impl_ = std::make_unique<Impl>(std::move(own), t, &state_, std::move(options));
}

Client::Client(LocalTrainer& trainer, ClientOptions options)
    : impl_(std::make_unique<Impl>(nullptr, trainer, nullptr, std::move(options))) {}

Client::Client(LocalTrainer& trainer, std::shared_ptr<grpc::Channel> channel, ClientOptions options)
    : impl_(std::make_unique<Impl>(nullptr, trainer, nullptr, std::move(options))) {
  impl_->given_channel = std::move(channel);
}
Client::~Client() = default;

Status Client::Run() { return impl_->Run(); }

void Client::Stop() {
  impl_->stop = true;
  impl_->sleep_cv.notify_all();
}

int Client::fits_done() const { return impl_->fits; }
int Client::evaluations_done() const { return impl_->evals; }

}  // namespace fedra
