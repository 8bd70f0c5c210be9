#include "fedra/net/server.h"

// fedra::Server: start-up (options, credentials, listening) and the public API. The service
// handlers are in server_service.cc, the ClientPool side in server_rounds.cc.
#include <algorithm>
#include <thread>

#include <grpc/grpc_security_constants.h>

#include "core/file_util.h"
#include "net/server_impl.h"

namespace fedra {
namespace {

net::RegistryLimits LimitsOf(const ServerOptions& o) {
  return {.liveness_seconds = o.liveness_seconds,
          .max_clients = o.max_clients,
          .max_clients_per_peer = o.max_clients_per_peer,
          .max_registrations_per_minute = o.max_registrations_per_minute,
          .max_polls_per_client = o.max_polls_per_client,
          .max_waiting_polls = o.max_waiting_polls};
}

}  // namespace

Server::Impl::Impl(const ServerOptions& options) : o(options), registry(LimitsOf(options)) {}

Server::Impl::~Impl() {
  if (poll_timer.joinable()) StopPollTimer();
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Server::~Server() { Shutdown(); }

StatusOr<std::unique_ptr<Server>> Server::Start(const ServerOptions& options) {
  auto impl = std::make_unique<Impl>(options);
  ServerOptions& o = impl->o;
  if (o.run_id.empty()) o.run_id = net::RandomHex(8);
  if (o.round_deadline_seconds <= 0 || o.liveness_seconds <= 0 || o.poll_seconds <= 0 ||
      o.heartbeat_seconds <= 0 || o.chunk_bytes == 0 || o.max_inflight_results == 0) {
    return InvalidArgumentError(
        "deadline, liveness, poll and heartbeat seconds, chunk bytes and in-flight results must be "
        "positive");
  }
  if (o.max_clients == 0 || o.max_clients_per_peer == 0 || o.max_registrations_per_minute == 0 ||
      o.max_polls_per_client == 0 || o.max_waiting_polls == 0 || o.max_uploads_per_client == 0 ||
      o.max_open_uploads == 0) {
    return InvalidArgumentError(
        "max clients (in all and per peer), registrations per minute, polls and open uploads (per "
        "client and in all) must be at least 1");
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
  for (const std::string& feature : o.required_client_features) {
    // A name no client lists would refuse every client.
    if (std::find(kClientFeatures.begin(), kClientFeatures.end(), feature) == kClientFeatures.end())
      return InvalidArgumentError("unknown required client feature '" + LogSafe(feature, 64) +
                                  "' (known: " + kClientFeatureLocalSteps + ")");
  }
  std::vector<std::pair<std::string, std::string>> tokens;  // name, token
  bool mtls = false;
  if (!o.tokens_file.empty()) {
    FEDRA_ASSIGN_OR_RETURN(tokens, net::LoadTokens(o.tokens_file));
  }
  if (!o.secure.protocol.empty()) {
    FEDRA_ASSIGN_OR_RETURN(impl->secure, net::SecureRoundFactory::Create(o.secure));
  }
  if (!o.aggregators.empty()) {
    // An aggregator's answer stands for many clients: its identity must be proven, and its
    // sums cannot join a protocol that hides individual answers (docs/federated.md).
    if (tokens.empty() && o.client_ca_file.empty()) {
      return InvalidArgumentError(
          "aggregators need authenticated identities: give a tokens file and/or a client CA");
    }
    if (!o.secure.protocol.empty()) {
      return InvalidArgumentError("aggregators cannot take part in " + o.secure.protocol +
                                  " rounds: run secure aggregation at the edges instead");
    }
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
  impl->StartPollTimer();
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
    const size_t live = impl_->registry.Live(Clock::now()).size();
    if (live >= n || Clock::now() >= end) return live;
    impl_->cv.wait_for(lock, std::chrono::milliseconds(200));
  }
}

void Server::Finish() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->finished = true;
    impl_->cv.notify_all();
  }
  impl_->WakePolls(Impl::Wake::kAll);  // waiting polls hear FINISHED now
}

void Server::Shutdown(std::chrono::milliseconds grace) {
  if (!impl_ || !impl_->grpc_server) return;
  if (grace.count() > 0) {
    Finish();
    std::this_thread::sleep_for(grace);
  }
  impl_->StopPollTimer();
  impl_->grpc_server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  impl_->grpc_server->Wait();
  impl_->grpc_server.reset();
}

}  // namespace fedra
