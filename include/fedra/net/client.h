// Client: the participant side of fedra over gRPC, for applications that embed it with their
// own Model and Dataset (fedra-client is a thin main around it):
//
//   fedra::Client client(*model, *loss, train, test, options);
//   fedra::Status done = client.Run();   // until the server finishes the run
//
// Run() registers, long-polls for tasks, trains or evaluates with its LocalTrainer (the built-in
// ModelTrainer, or the application's own) per the settings the server sends, uploads the result in
// chunks and repeats. Connection failures and server restarts are retried with exponential backoff
// and full jitter; an unknown session (the server restarted) is answered by registering again. A
// heartbeat thread keeps the session alive while training. The model must have the layout of the
// server's global model; a mismatch fails the task with a message (and Run() continues).
//
// Thread-safety: Run() once; Stop() may be called from any thread (or a signal-safe flag).
#ifndef FEDRA_NET_CLIENT_H_
#define FEDRA_NET_CLIENT_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "fedra/core/status.h"
#include "fedra/fl/local_trainer.h"
#include "fedra/fl/types.h"
#include "fedra/fl/update_accumulator.h"
#include "fedra/ml/dataset.h"
#include "fedra/ml/loss.h"
#include "fedra/ml/model.h"

namespace grpc {
class Channel;
}  // namespace grpc

namespace fedra {

struct ClientOptions {
  std::string server = "127.0.0.1:50051";
  std::string name;  // identity on an insecure server without tokens
  // Security: TLS unless insecure.
  bool insecure = false;
  std::string ca_file;               // PEM CA that signed the server certificate
  std::string cert_file;             // PEM client certificate (mTLS), optional
  std::string key_file;              // its private key
  std::string token;                 // bearer token, optional
  std::string server_name_override;  // TLS name to check instead of the address's host
  // Retries.
  double initial_backoff_seconds = 0.5;
  double max_backoff_seconds = 10;
  double give_up_seconds = 600;  // no contact with the server for this long ends Run()
  uint64_t seed = 0;             // 0: training randomness from the OS; else reproducible
  size_t max_message_bytes = size_t{4} << 20;
  uint64_t max_payload_bytes = uint64_t{4} << 30;  // refuse larger models
  // Secure rounds (the server decides which; see fedra/net/server.h). Paillier: this
  // client's secret key file (mode 0600; it encrypts under the key's public half and decrypts
  // totals). Secure aggregation needs nothing here.
  std::string paillier_secret_key_file;
  // Secure aggregation among fewer clients than this is refused (the others could be the
  // server's own). The threshold the server announces must also be a majority of holders.
  uint32_t secagg_min_clients = 3;
  // How this client folds its result into the strategy's sums in a secure round; unset: the
  // built-in strategy the server names ("fedavg", "fednova", "scaffold", ... or "dp" for
  // DP-FedAvg with clipping on the client). Set it to use a custom strategy's Fold.
  std::function<void(const FitResult&, UpdateAccumulator&)> fold;
  // Called when a protocol stage task arrives, before it is answered (monitoring, fault
  // injection in tests).
  std::function<void(const std::string& protocol, uint32_t stage)> on_stage;
};

class Client {
 public:
  // The built-in trainer (ModelTrainer). The model, loss and datasets must outlive the
  // client. `test` may be empty (the client then answers evaluation tasks with an error).
  Client(Model& model, const Loss& loss, const Dataset& train, const Dataset& test,
         ClientOptions options);
  // Any trainer (fedra/fl/local_trainer.h); it must outlive the client. Clipping, noise and
  // the secure-sum stages run around it as for the built-in one.
  Client(LocalTrainer& trainer, ClientOptions options);
  // The same over a channel the application made (its own credentials, or an in-process
  // channel: Server::InProcessChannel in tests); options.server and the TLS fields are unused.
  Client(LocalTrainer& trainer, std::shared_ptr<grpc::Channel> channel, ClientOptions options);
  ~Client();

  // Runs until the server says the run is finished (OK), Stop() is called (OK), or the server
  // has been unreachable for give_up_seconds / refuses this client (the error).
  Status Run();
  void Stop();

  // Rounds trained and evaluations done so far.
  int fits_done() const;
  int evaluations_done() const;

  struct Impl;

 private:
  ClientState state_;  // the built-in trainer's (SCAFFOLD's control variate)
  std::unique_ptr<Impl> impl_;
};

}  // namespace fedra

#endif  // FEDRA_NET_CLIENT_H_
