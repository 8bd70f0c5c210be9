// SecAggServer: the server's side of a secure-aggregation round (Bonawitz et al., CCS 2017,
// semi-honest server; SecAgg+ of Bell et al., CCS 2020, when config.neighbours > 0). It relays
// sealed shares it cannot read, sums masked inputs as they arrive (memory O(n + m), never one
// vector per client), and at the end removes the masks: self-masks PRG(b_u) of survivors and
// the pairwise masks survivors shared with clients that dropped after sharing keys.
//
// Each stage has two halves, so a transport can feed messages as they arrive:
//   Receive*(msg)  validates one client message; a non-OK Status rejects that message only
//                  (unknown or duplicate sender, shares for non-neighbours or unknown clients,
//                  wrong sizes, duplicate shares) and leaves the round untouched.
//   Finish*()      closes the stage and returns the messages for the next one, one per live
//                  client; it aborts the round (FailedPrecondition, every later call fails with
//                  the same message) when fewer clients than config.min_survivors answered, or
//                  when some client's secret can no longer be reconstructed from `threshold`
//                  shares. No partial sum is ever returned.
//
// Against a malicious participant, FinishUnmask decodes every secret from all the shares that
// arrived (ShamirDecoder: wrong shares beyond the threshold's are corrected and reported in
// disputes(), too many abort the round), checks each mask key against its advertised public
// key and each self-mask seed against the tag on its owner's masked input (an input altered in
// transit, replayed from another round or not made with the seed aborts the round, reported in
// bad_inputs()). What stays possible: any input a client chooses, masked honestly.
// The *Stage(span) helpers run one whole stage: they return the first rejected message's Status
// (messages before it stay accepted, the stage stays open), else the Finish*() result.
//
// Thread-safety: not thread-safe. FinishUnmask may use a ThreadPool internally.
#ifndef FEDRA_PRIVACY_SECAGG_SERVER_H_
#define FEDRA_PRIVACY_SECAGG_SERVER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "fedra/core/status.h"
#include "fedra/core/thread_pool.h"
#include "fedra/privacy/secagg/config.h"
#include "fedra/privacy/secagg/messages.h"
#include "fedra/privacy/secagg/neighbour_graph.h"
#include "fedra/privacy/secagg/shamir.h"

namespace fedra::secagg {

class SecAggServer {
 public:
  // `config` is resolved here; `graph` may be shared with simulated clients (null: build one).
  static StatusOr<std::unique_ptr<SecAggServer>> Create(
      const SecAggConfig& config, std::shared_ptr<const NeighbourGraph> graph = nullptr);
  ~SecAggServer();
  SecAggServer(const SecAggServer&) = delete;
  SecAggServer& operator=(const SecAggServer&) = delete;

  const SecAggConfig& config() const { return config_; }

  Status ReceiveKeys(const AdvertiseKeys& msg);
  StatusOr<std::vector<KeyDirectory>> FinishAdvertise();
  Status ReceiveShares(const ShareKeys& msg);
  StatusOr<std::vector<RelayedShares>> FinishShareKeys();
  Status ReceiveMaskedInput(const MaskedInput& msg);
  StatusOr<std::vector<UnmaskRequest>> FinishMaskedInput();
  Status ReceiveUnmask(const UnmaskResponse& msg);
  // The sum over survivors() of their inputs, mod 2^32. `pool` (may be null) parallelises the
  // mask expansion.
  StatusOr<std::vector<uint32_t>> FinishUnmask(ThreadPool* pool = nullptr);

  StatusOr<std::vector<KeyDirectory>> AdvertiseStage(std::span<const AdvertiseKeys> msgs);
  StatusOr<std::vector<RelayedShares>> ShareKeysStage(std::span<const ShareKeys> msgs);
  StatusOr<std::vector<UnmaskRequest>> MaskedInputStage(std::span<const MaskedInput> msgs);
  StatusOr<std::vector<uint32_t>> UnmaskStage(std::span<const UnmaskResponse> msgs,
                                              ThreadPool* pool = nullptr);

  // Clients whose masked input is in the sum (U3), ascending; valid after FinishMaskedInput.
  const std::vector<uint32_t>& survivors() const { return survivors_; }
  // Clients that shared keys but sent no masked input (U2 \ U3).
  const std::vector<uint32_t>& dropped() const { return dropped_; }
  // Empty unless the round aborted.
  const std::string& abort_reason() const { return abort_reason_; }

  // A revealed share that disagreed with the decoded secret (after FinishUnmask): `holder`
  // revealed it wrong, or `owner` dealt it wrong; unverifiable Shamir sharing cannot tell.
  struct ShareDispute {
    uint32_t holder = 0;
    uint32_t owner = 0;
  };
  const std::vector<ShareDispute>& disputes() const { return disputes_; }
  // Survivors whose masked input failed its tag check (the round aborted).
  const std::vector<uint32_t>& bad_inputs() const { return bad_inputs_; }

 private:
  enum class Stage { kAdvertise, kShareKeys, kMaskedInput, kUnmask, kDone, kAborted };
  struct ClientState;

  SecAggServer(const SecAggConfig& config, std::shared_ptr<const NeighbourGraph> graph);
  Status CheckStage(Stage expected, const char* what) const;
  Status CheckSender(uint32_t id, Stage needed_stage, const char* what) const;
  Status Abort(std::string reason);
  std::vector<uint32_t> Alive(Stage reached) const;
  Status CheckHolders(const std::vector<uint32_t>& owners, Stage holder_stage, const char* secret);
  StatusOr<std::vector<std::pair<uint32_t, Key256>>> Reconstruct(bool seeds);
  // Removes the survivors' self-masks and the pairwise masks they share with dropped clients
  // from masked_sum_, expanding masks on `pool` (may be null).
  // Aborts unless every survivor's masked input carries the tag of its reconstructed seed.
  Status CheckInputTags(const std::vector<std::pair<uint32_t, Key256>>& seeds);
  Status RemoveMasks(const std::vector<std::pair<uint32_t, Key256>>& seeds,
                     const std::vector<std::pair<uint32_t, Key256>>& keys, ThreadPool* pool);

  SecAggConfig config_;
  std::shared_ptr<const NeighbourGraph> graph_;
  Stage stage_ = Stage::kAdvertise;
  std::vector<ClientState> clients_;  // indexed by client id
  std::set<PublicKey> advertised_keys_;
  std::vector<uint32_t> masked_sum_;
  std::vector<uint32_t> survivors_, dropped_;
  std::vector<ShareDispute> disputes_;
  std::vector<uint32_t> bad_inputs_;
  std::string abort_reason_;
};

}  // namespace fedra::secagg

#endif  // FEDRA_PRIVACY_SECAGG_SERVER_H_
