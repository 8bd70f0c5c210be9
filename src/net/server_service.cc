// fedra::Server's unary handlers (Register, Heartbeat) and what every handler shares:
// authentication, peer-keyed warnings, refusals. GetTask is in server_polls.cc, SubmitResult in
// server_uploads.cc.
#include <algorithm>
#include <cmath>

#include <grpc/grpc_security_constants.h>

#include "net/server_impl.h"
#include "net/wire.h"

namespace fedra {

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

grpc::ServerUnaryReactor* Server::Impl::Register(grpc::CallbackServerContext* ctx,
                                                 const v1::RegisterRequest* req,
                                                 v1::RegisterResponse* resp) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  reactor->Finish(RegisterNow(ctx, req, resp));
  return reactor;
}

grpc::ServerUnaryReactor* Server::Impl::Heartbeat(grpc::CallbackServerContext* ctx,
                                                  const v1::HeartbeatRequest* req,
                                                  v1::HeartbeatResponse* resp) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  reactor->Finish(HeartbeatNow(ctx, req, resp));
  return reactor;
}

grpc::Status Server::Impl::RegisterNow(grpc::CallbackServerContext* ctx,
                                       const v1::RegisterRequest* req, v1::RegisterResponse* resp) {
  if (req->protocol_version() != 1) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        "protocol version " + std::to_string(req->protocol_version()) +
                            " is not supported; this server speaks 1");
  }
  if (req->features_size() > 16) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "more than 16 client features");
  }
  for (const std::string& feature : req->features()) {
    if (feature.size() > 64)
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "a client feature over 64 bytes");
  }
  for (const std::string& needed : o.required_client_features) {
    const auto& listed = req->features();
    if (std::find(listed.begin(), listed.end(), needed) == listed.end()) {
      // Refused before the identity is checked or anything is allocated for the client.
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                          "this run needs client feature '" + needed +
                              "' (FitInstructions.local_steps: --local-steps), which this client "
                              "does not list: update fedra-client");
    }
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
  WakePolls(Wake::kClient, id);  // its task, if it had one in flight, goes out again
  return grpc::Status::OK;
}

grpc::Status Server::Impl::HeartbeatNow(grpc::CallbackServerContext* ctx,
                                        const v1::HeartbeatRequest* req,
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

}  // namespace fedra
