// SecAggClient: one client's side of a secure-aggregation round (Bonawitz et al., CCS 2017,
// semi-honest server; SecAgg+ neighbourhoods of Bell et al., CCS 2020 when configured). A
// state machine that must be driven through its four stages in order; each stage takes the
// server's previous message and returns the client's next one, so any transport can carry them.
//
//   Advertise()        -> AdvertiseKeys   fresh X25519 pairs (c_u for shares, s_u for masks)
//   Share(directory)   -> ShareKeys       Shamir shares of b_u and s_u^SK, AES-GCM sealed
//   Mask(relayed, x)   -> MaskedInput     x + PRG(b_u) + sum_v +-PRG(s_uv) mod 2^32
//   Unmask(request)    -> UnmaskResponse  b-shares of survivors, s-shares of dropped clients
//
// Refusals (non-OK Status, the client then stays refused for the round): a message addressed
// to someone else, fewer than `threshold` live share holders, duplicate or non-neighbour
// entries, a sealed share that fails authentication, and an unmask request that lists one
// client as both survivor and dropped, omits or invents clients, or comes a second time — so a
// client never reveals both secrets of one peer.
//
// Thread-safety: not thread-safe; distinct clients may run on distinct threads.
#ifndef FEDRA_PRIVACY_SECAGG_CLIENT_H_
#define FEDRA_PRIVACY_SECAGG_CLIENT_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "fedra/core/status.h"
#include "fedra/privacy/secagg/config.h"
#include "fedra/privacy/secagg/crypto.h"
#include "fedra/privacy/secagg/messages.h"
#include "fedra/privacy/secagg/neighbour_graph.h"
#include "fedra/privacy/secagg/prg.h"

namespace fedra::secagg {

class SecAggClient {
 public:
  // `config` is resolved (ResolveConfig) here. `graph` may be shared between simulated clients;
  // null builds the client's own. Secrets come from RAND_priv_bytes unless `test_seed` is
  // given — only for tests and reproducible experiments.
  static StatusOr<std::unique_ptr<SecAggClient>> Create(
      const SecAggConfig& config, uint32_t id,
      std::shared_ptr<const NeighbourGraph> graph = nullptr,
      const std::optional<Key256>& test_seed = std::nullopt);
  ~SecAggClient();
  SecAggClient(const SecAggClient&) = delete;
  SecAggClient& operator=(const SecAggClient&) = delete;

  uint32_t id() const { return id_; }

  StatusOr<AdvertiseKeys> Advertise();
  StatusOr<ShareKeys> Share(const KeyDirectory& directory);
  // REQUIRES input.size() == vector_length (else InvalidArgument).
  StatusOr<MaskedInput> Mask(const RelayedShares& relayed, std::span<const uint32_t> input);
  StatusOr<UnmaskResponse> Unmask(const UnmaskRequest& request);

 private:
  enum class Stage { kAdvertise, kShare, kMask, kUnmask, kDone, kRefused };
  struct Peer {
    AdvertiseKeys keys;
    Key256 share_key{};      // AES-GCM key for shares with this peer, kept from Share()
    bool has_share = false;  // its sealed share reached us (it is in our view of U2)
    ShamirShare mask_key_share;
    ShamirShare seed_share;
  };

  SecAggClient(const SecAggConfig& config, uint32_t id, std::shared_ptr<const NeighbourGraph> graph,
               Prg rng);
  Status CheckStage(Stage expected, const char* what) const;
  Status Refuse(Status status);
  Peer* FindPeer(uint32_t id);
  Status AcceptShare(const SealedShare& sealed);
  void Wipe();

  SecAggConfig config_;
  uint32_t id_;
  std::shared_ptr<const NeighbourGraph> graph_;
  Prg rng_;
  Stage stage_ = Stage::kAdvertise;
  Key256 enc_private_{}, mask_private_{}, seed_{};  // c_u^SK, s_u^SK, b_u
  AdvertiseKeys own_keys_;
  std::vector<Peer> peers_;  // sorted by id; includes this client's own entry
};

}  // namespace fedra::secagg

#endif  // FEDRA_PRIVACY_SECAGG_CLIENT_H_
