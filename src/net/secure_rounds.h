// Private to the net layer: the server's side of a secure round over gRPC, independent of the
// task board that carries it. After the FIT tasks (each client trained, folded its own result
// and uploaded what the protocol allows), a SecureRound takes the clients' uploads one at a
// time and then drives the protocol's STAGE tasks through a StageTransport:
//   secagg:   four stages (setup + advertise keys, share keys, masked input, unmasking), the
//             clients that answered one stage being the only ones asked the next; the server's
//             sequence is secagg::RunServerStages, the same one the in-process simulation
//             (RunSecureAggregation) runs, with STAGE tasks as its way to the clients;
//   paillier: ciphertexts are added as they arrive; one stage asks a contributing client to
//             decrypt the total (retrying with another if it fails).
// Finish() returns only the total, or the protocol's abort; nothing of one client.
#ifndef FEDRA_SRC_NET_SECURE_ROUNDS_H_
#define FEDRA_SRC_NET_SECURE_ROUNDS_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "fedra/core/status.h"
#include "fedra/fl/secure_sum.h"
#include "fedra/fl/types.h"
#include "fedra/ml/parameters.h"
#include "fedra/net/server.h"
#include "fedra/v1/federation.pb.h"

namespace fedra::net {

struct StageTask {
  size_t index = 0;  // position among the round's FIT tasks
  ClientId client = 0;
  std::string message;
};

struct StageReply {
  size_t index = 0;
  Status status;  // the client failed, timed out or vanished
  std::string message;
};

class StageTransport {
 public:
  virtual ~StageTransport() = default;
  // Sends every task as a STAGE task and calls on_reply exactly once per task (an error for
  // a client that does not answer within `deadline_seconds`), on the calling thread. What
  // on_reply returns is the protocol's verdict on the answer, told to the client that sent it.
  virtual void RunStage(const std::string& protocol, uint32_t stage, std::vector<StageTask> tasks,
                        double deadline_seconds,
                        const std::function<Status(StageReply)>& on_reply) = 0;
};

class SecureRound {
 public:
  virtual ~SecureRound() = default;
  // One client's FIT answer: the names of its folded sums and its upload. An error excludes
  // this client from the round (it counts as failed); the round goes on.
  virtual Status AcceptFit(size_t index, ClientId client, const v1::FitReport& report,
                           std::string upload) = 0;
  // Runs the remaining stages. Total::dropped counts accepted clients the protocol lost; when
  // more than `max_dropped` are lost, it stops before revealing the total.
  virtual StatusOr<SecureSum::Total> Finish(StageTransport& transport, size_t max_dropped) = 0;
  // Stage answers that failed their cryptographic check (a forged Paillier decryption); the
  // round went on without them.
  virtual uint64_t forged_answers() const { return 0; }
};

// Checks `options` and loads what the protocol needs once per run (the Paillier public key —
// refusing a secret key file). Then NewRound() makes each round's state.
class SecureRoundFactory {
 public:
  static StatusOr<std::unique_ptr<SecureRoundFactory>> Create(const SecureRoundOptions& options);
  virtual ~SecureRoundFactory() = default;
  virtual std::string Name() const = 0;
  virtual const v1::SecureFitInstructions& fit_instructions() const = 0;
  // The round's state, with the layout every client must fold (SecureRoundOptions::sum_names/
  // scalar_names, or the probe fold of `fold`), announced in fit_instructions() from now on.
  virtual StatusOr<std::unique_ptr<SecureRound>> NewRound(int round, const Parameters& global) = 0;
};

}  // namespace fedra::net

#endif  // FEDRA_SRC_NET_SECURE_ROUNDS_H_
