// RunServerStages: the server's side of one secure-aggregation round as a single sequence —
// advertise keys, share keys, masked input, unmasking, then dequantization — so the in-process
// simulation (RunSecureAggregation) and the gRPC server (net/secure_rounds.cc) cannot drift
// apart. What differs between them, how messages reach the clients and come back, lives
// behind SecAggPeers.
//
// Thread-safety: RunServerStages drives one server from the calling thread; a SecAggPeers
// implementation may run clients on any threads but must hand answers to `deliver` one at a
// time.
#ifndef FEDRA_PRIVACY_SECAGG_SERVER_STAGES_H_
#define FEDRA_PRIVACY_SECAGG_SERVER_STAGES_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "fedra/core/status.h"
#include "fedra/core/thread_pool.h"
#include "fedra/privacy/secagg/messages.h"
#include "fedra/privacy/secagg/quantizer.h"
#include "fedra/privacy/secagg/server.h"

namespace fedra::secagg {

// How the server's messages reach the clients and their answers come back: in process
// (RunSecureAggregation) or as gRPC STAGE tasks (net/secure_rounds.cc).
class SecAggPeers {
 public:
  virtual ~SecAggPeers() = default;

  // Hands one client's answer to the server; a non-OK Status refuses it.
  template <typename M>
  using Deliver = std::function<Status(const M&)>;

  // Each asks the clients still in the round (stage 0: all of them; later: the recipients of
  // `to`) for their message and hands every answer to `deliver`, one at a time. A client that
  // fails, does not answer, or whose answer `deliver` refuses is out of the round.
  virtual void Advertise(const Deliver<AdvertiseKeys>& deliver) = 0;
  virtual void Share(std::vector<KeyDirectory> to, const Deliver<ShareKeys>& deliver) = 0;
  virtual void Mask(std::vector<RelayedShares> to, const Deliver<MaskedInput>& deliver) = 0;
  virtual void Unmask(std::vector<UnmaskRequest> to, const Deliver<UnmaskResponse>& deliver) = 0;

  // Runs the server's own work closing stage `stage` (its Finish* step) exactly once; an
  // override may measure it, and must call `step`.
  virtual void ServerStep(int /*stage*/, const std::function<void()>& step) { step(); }
};

struct SecAggOutcome {
  std::vector<uint32_t> raw_sum;  // the survivors' sum in Z_2^32
  std::vector<float> sum;         // the same dequantized
};

// Drives `server` (fresh from SecAggServer::Create) through the four stages with `peers`.
// Returns the round's abort Status when the server aborts a stage, and Unavailable — before
// anything is unmasked — when more than `max_dropped` of the config's clients are missing
// from the masked inputs. `pool` (may be null) parallelises the unmasking. The clients whose
// inputs are in the sum are server.survivors() afterwards.
StatusOr<SecAggOutcome> RunServerStages(SecAggServer& server, const Quantizer& quantizer,
                                        SecAggPeers& peers, size_t max_dropped, ThreadPool* pool);

}  // namespace fedra::secagg

#endif  // FEDRA_PRIVACY_SECAGG_SERVER_STAGES_H_
