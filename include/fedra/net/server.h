// Server: the network side of fedra. It listens for fedra.v1 clients (fedra-client or an
// application embedding fedra::Client), keeps a registry of authenticated, live clients and
// exposes them as a ClientPool, so the same RoundDriver that runs the simulation runs rounds
// over gRPC:
//
//   auto server = fedra::Server::Start(options);          // binds, serves in the background
//   (*server)->WaitForClients(3, std::chrono::minutes(5));
//   fedra::RoundDriver driver(strategy, (*server)->pool(), driver_options);
//   driver.RunRound(1, global);  ...
//   (*server)->Finish();                                   // clients see FINISHED and exit
//
// Each task carries the run id, round and a random task id; a result for an unknown task,
// another client's task, an older round, a closed round (after its deadline) or a task
// already answered is refused with a status that says which. A client not heard from within
// `liveness_seconds` loses its task, so a vanished client never stalls a round beyond that.
// At most `max_inflight_results` uploaded results (fewer when they would need more than
// `max_inflight_result_bytes`) are held in memory at once (further uploads wait), so server
// memory stays a small multiple of the model size whatever the number of clients.
//
// Security: TLS with a server certificate, and client authentication by certificate (mTLS,
// identity = certificate common name) and/or bearer token (identity = the token's name in the
// tokens file). Plaintext only with `insecure`; without tokens an insecure server believes
// the name a client gives.
//
// Thread-safety: Start/Finish/Shutdown/WaitForClients and the pool may be called from any
// one thread; gRPC handlers run on gRPC's threads.
#ifndef FEDRA_NET_SERVER_H_
#define FEDRA_NET_SERVER_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "fedra/core/status.h"
#include "fedra/fl/client_pool.h"
#include "fedra/fl/fold_spec.h"
#include "fedra/net/features.h"
#include "fedra/privacy/paillier/packing.h"

namespace grpc {
class Channel;
}  // namespace grpc

namespace fedra {

// Secure rounds (docs/privacy.md): the server forms each round's sums without seeing any
// single client's update. Clients fold their own results with the strategy named by `fold`
// (its Fold(); every client must know that strategy) and then:
//  - "secagg": run secure aggregation (Bonawitz et al. 2017; SecAgg+ with neighbours > 0) as
//    four STAGE tasks after training, each with `stage_deadline_seconds`; clients that miss a
//    stage drop out of the sum, and the round aborts (model unchanged) below the threshold.
//  - "paillier": upload their sums encrypted under the public key; the server adds the
//    ciphertexts and asks one of the round's clients (a key holder) to decrypt only the total.
//    The server is given the public key only and refuses a secret key file.
struct SecureRoundOptions {
  std::string protocol;  // "" (off), "secagg" or "paillier"
  // The strategy's fold as data (CheckedFoldSpec(strategy)), announced in every FIT task:
  // clients fold by it, whatever the strategy. Unset: clients fold by the name `fold` (a
  // built-in strategy, or "dp"), as servers before FoldSpec did.
  std::optional<FoldSpec> fold_spec;
  std::string fold = "fedavg";
  // The sums and scalars every client must fold, announced in each FIT task (a client's
  // answer can never fix them). Empty: the fold of a probe result with `fold` (built-in
  // strategies, "dp"); a custom strategy sets both (with its clients' ClientOptions::fold).
  // The scalars include fedra's two secure-round scalars (kSecureLossScalar,
  // kSecureExamplesScalar).
  std::vector<std::string> sum_names, scalar_names;
  double stage_deadline_seconds = 60;
  uint32_t secagg_threshold = 0;   // 0: the protocol's default (see secagg/config.h)
  uint32_t secagg_neighbours = 0;  // 0: classic SecAgg; k > 0: SecAgg+ with k neighbours
  double secagg_clip = 1e5;        // quantizer range of every folded term (weights included)
  uint64_t secagg_levels = 0;      // quantizer grid; 0: the finest that cannot wrap
  std::string paillier_public_key_file;
  paillier::PackingConfig paillier_packing{
      .max_abs_value = 1e5, .max_weight = 1, .precision_bits = 16, .max_clients = 1024};
};

struct ServerOptions {
  std::string address = "127.0.0.1:50051";  // port 0 picks a free port (see Server::port())
  std::string run_id;                       // empty: a random id
  std::string model_name;                   // told to clients so they build the same model
  // Security.
  bool insecure = false;       // plaintext; required when no certificate is given
  std::string cert_file;       // PEM server certificate chain
  std::string key_file;        // PEM server private key
  std::string client_ca_file;  // PEM CA: require client certificates it signed (mTLS)
  std::string tokens_file;     // lines "<client name> <token>": require a bearer token
  // Rounds.
  double round_deadline_seconds = 300;  // a task not answered by then fails
  double liveness_seconds = 20;         // a client silent this long is gone
  double poll_seconds = 5;              // how long a GetTask call waits for a task
  double heartbeat_seconds = 2;         // how often a training client says it is alive
  size_t chunk_bytes = size_t{1} << 20;
  // Model downloads in flight share about this much chunk memory (each holds its chunk and
  // gRPC's copy): with many at once, each sends chunks smaller than chunk_bytes, down to
  // 16 KiB, so 1,000 concurrent downloads do not hold 1,000 model-sized buffers.
  size_t download_buffer_bytes = size_t{64} << 20;
  size_t max_message_bytes = size_t{4} << 20;  // larger gRPC messages are refused
  size_t max_inflight_results = 2;
  // ... and fewer when their declared bytes would add up to more than this (one upload at a
  // time always goes): the server's memory for uploads. With the default, results of a model
  // over 64 MB come in one at a time (docs/benchmarks.md: memory against round time).
  size_t max_inflight_result_bytes = size_t{128} << 20;
  // A result may carry the update and at most this many model-sized groups in all (SCAFFOLD's
  // control delta is one extra); a header declaring more is refused before anything is
  // allocated, so one result costs at most this many models of memory.
  size_t max_result_groups = 3;
  // An upload that holds a slot and receives no chunk for this long is cancelled and its task
  // failed (counted in ServerStats::uploads_stalled); 0 turns it off.
  double upload_stall_seconds = 15;
  // Registrations: at most this many live clients in all and from one address (IP, without
  // the port), and at most this many registrations of one identity per minute; beyond,
  // Register answers RESOURCE_EXHAUSTED. Clients silent past liveness_seconds are forgotten.
  size_t max_clients = 10000;
  size_t max_clients_per_peer = 64;
  size_t max_registrations_per_minute = 30;
  // Long polls: each waiting GetTask costs memory (a reactor, no thread), at most this many per
  // client and in all; beyond, GetTask answers RESOURCE_EXHAUSTED (clients back off).
  size_t max_polls_per_client = 2;
  size_t max_waiting_polls = 10000;
  // Open SubmitResult calls (each costs memory from its first byte, before its header names a
  // task): at most this many per authenticated client (tokens or mTLS; not in plain --insecure
  // mode, where clients on one host are told apart only by their headers) and in all; beyond,
  // SubmitResult answers RESOURCE_EXHAUSTED (counted in uploads_refused).
  size_t max_uploads_per_client = 4;
  size_t max_open_uploads = 10000;
  // Identities (token names or certificate common names) allowed to answer FIT tasks with
  // folded sums: edge fedra-servers (fedra/net/edge.h), each standing for its own clients.
  // Needs authentication (tokens or mTLS); refused with secure rounds.
  std::vector<std::string> aggregators;
  SecureRoundOptions secure;
  // Client features (RegisterRequest.features) the run needs, e.g. kClientFeatureLocalSteps
  // when its FIT tasks set FitConfig::local_steps: a client that does not list one is refused
  // at registration (FAILED_PRECONDITION), where an older client would otherwise train whole
  // epochs every round and have each result refused.
  std::vector<std::string> required_client_features;
};

// Counters for monitoring and tests.
struct ServerStats {
  uint64_t registrations = 0;
  uint64_t results_accepted = 0;
  uint64_t results_rejected = 0;  // malformed, unknown, duplicate, wrong round, ...
  uint64_t results_late = 0;      // arrived after their round closed
  uint64_t tasks_timed_out = 0;   // deadline passed or client vanished
  uint64_t auth_failures = 0;
  uint64_t uploads_stalled = 0;        // cancelled: a slot held without progress
  uint64_t registrations_refused = 0;  // over a registration limit
  uint64_t polls_refused = 0;          // over a long-poll limit
  uint64_t uploads_refused = 0;        // over an open-upload limit
  uint64_t forged_answers = 0;  // stage answers that failed verification: a forged decryption,
                                // a wrong SecAgg share, a masked input failing its tag
};

class Server {
 public:
  // Binds and starts serving. Errors: InvalidArgument for inconsistent options (e.g. neither
  // TLS nor insecure, TLS without any client authentication), NotFound/DataLoss for
  // unreadable certificate, key or tokens files, Unavailable if the address cannot be bound.
  static StatusOr<std::unique_ptr<Server>> Start(const ServerOptions& options);
  ~Server();  // Shutdown() without grace

  int port() const;
  const std::string& run_id() const;
  ClientPool& pool();
  ServerStats stats() const;

  // A channel to this server inside the process, without a socket (tests, and embedding a
  // client in the server's own process). It carries no TLS identity: on a server that
  // authenticates clients use tokens or an insecure test server.
  std::shared_ptr<grpc::Channel> InProcessChannel();

  // Blocks until at least `n` clients are live or `timeout` passes; returns how many are.
  size_t WaitForClients(size_t n, std::chrono::milliseconds timeout);
  // From now on clients polling for work are told the run is over.
  void Finish();
  // Stops serving. With a positive `grace`, first Finish()es and gives polling clients that
  // long to hear it; without, clients just lose the connection (and keep retrying, as after
  // a crash).
  void Shutdown(std::chrono::milliseconds grace = std::chrono::milliseconds(0));

  struct Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace fedra

#endif  // FEDRA_NET_SERVER_H_
