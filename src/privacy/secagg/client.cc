#include "fedra/privacy/secagg/client.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <string>

#include "privacy/secagg/key_schedule.h"

namespace fedra::secagg {

StatusOr<std::unique_ptr<SecAggClient>> SecAggClient::Create(
    const SecAggConfig& config, uint32_t id, std::shared_ptr<const NeighbourGraph> graph,
    const std::optional<Key256>& test_seed) {
  FEDRA_ASSIGN_OR_RETURN(SecAggConfig resolved,
                         ResolveConfig(config, /*allow_low_threshold=*/true));
  if (id >= resolved.num_clients)
    return InvalidArgumentError("secagg client id " + std::to_string(id) +
                                " is not below num_clients " +
                                std::to_string(resolved.num_clients));
  if (graph == nullptr) {
    graph = std::make_shared<const NeighbourGraph>(resolved);
  } else if (graph->num_clients() != resolved.num_clients) {
    return InvalidArgumentError("secagg: neighbour graph built for a different client count");
  }
  std::optional<Prg> rng;
  if (test_seed.has_value()) {
    // Distinct clients get distinct streams from one experiment seed.
    const std::array<uint8_t, 4> info = {static_cast<uint8_t>(id), static_cast<uint8_t>(id >> 8),
                                         static_cast<uint8_t>(id >> 16),
                                         static_cast<uint8_t>(id >> 24)};
    const std::string_view label = "fedra-secagg-test-client";
    FEDRA_ASSIGN_OR_RETURN(
        Key256 key,
        HkdfSha256(*test_seed,
                   std::span(reinterpret_cast<const uint8_t*>(label.data()), label.size()), info));
    rng.emplace(key);
  } else {
    FEDRA_ASSIGN_OR_RETURN(Prg system, Prg::FromSystem());
    rng.emplace(std::move(system));
  }
  return std::unique_ptr<SecAggClient>(
      new SecAggClient(resolved, id, std::move(graph), std::move(*rng)));
}

SecAggClient::SecAggClient(const SecAggConfig& config, uint32_t id,
                           std::shared_ptr<const NeighbourGraph> graph, Prg rng)
    : config_(config), id_(id), graph_(std::move(graph)), rng_(std::move(rng)) {}

SecAggClient::~SecAggClient() { Wipe(); }

void SecAggClient::Wipe() {
  OPENSSL_cleanse(enc_private_.data(), enc_private_.size());
  OPENSSL_cleanse(mask_private_.data(), mask_private_.size());
  OPENSSL_cleanse(seed_.data(), seed_.size());
  for (Peer& p : peers_) {
    OPENSSL_cleanse(p.mask_key_share.y.data(), sizeof(p.mask_key_share.y));
    OPENSSL_cleanse(p.seed_share.y.data(), sizeof(p.seed_share.y));
    OPENSSL_cleanse(p.share_key.data(), p.share_key.size());
  }
}

Status SecAggClient::CheckStage(Stage expected, const char* what) const {
  if (stage_ == expected) return OkStatus();
  if (stage_ == Stage::kRefused)
    return FailedPreconditionError(std::string("secagg client ") + std::to_string(id_) +
                                   " refused an earlier stage; cannot " + what);
  return FailedPreconditionError(std::string("secagg client ") + std::to_string(id_) + " cannot " +
                                 what + " at this stage (stages run once, in order)");
}

Status SecAggClient::Refuse(Status status) {
  stage_ = Stage::kRefused;
  Wipe();
  return status.WithContext("secagg client " + std::to_string(id_));
}

SecAggClient::Peer* SecAggClient::FindPeer(uint32_t id) {
  auto it = std::lower_bound(peers_.begin(), peers_.end(), id,
                             [](const Peer& p, uint32_t v) { return p.keys.sender < v; });
  return it != peers_.end() && it->keys.sender == id ? &*it : nullptr;
}

StatusOr<AdvertiseKeys> SecAggClient::Advertise() {
  FEDRA_RETURN_IF_ERROR(CheckStage(Stage::kAdvertise, "advertise keys"));
  rng_.Fill(enc_private_);
  rng_.Fill(mask_private_);
  FEDRA_ASSIGN_OR_RETURN(X25519KeyPair enc, X25519FromPrivate(enc_private_));
  FEDRA_ASSIGN_OR_RETURN(X25519KeyPair mask, X25519FromPrivate(mask_private_));
  own_keys_ = {id_, enc.public_key, mask.public_key};
  OPENSSL_cleanse(enc.private_key.data(), enc.private_key.size());
  OPENSSL_cleanse(mask.private_key.data(), mask.private_key.size());
  stage_ = Stage::kShare;
  return own_keys_;
}

StatusOr<ShareKeys> SecAggClient::Share(const KeyDirectory& directory) {
  FEDRA_RETURN_IF_ERROR(CheckStage(Stage::kShare, "share keys"));
  if (directory.recipient != id_)
    return Refuse(InvalidArgumentError("key directory is addressed to client " +
                                       std::to_string(directory.recipient)));
  std::vector<Peer> peers;
  peers.reserve(directory.keys.size());
  std::vector<PublicKey> all_keys;
  for (const AdvertiseKeys& k : directory.keys) {
    if (k.sender != id_ && !graph_->Adjacent(id_, k.sender))
      return Refuse(InvalidArgumentError("key directory lists client " + std::to_string(k.sender) +
                                         ", which is not a neighbour"));
    peers.push_back({k, {}, false, {}, {}});
    all_keys.push_back(k.encryption_key);
    all_keys.push_back(k.mask_key);
  }
  std::sort(peers.begin(), peers.end(),
            [](const Peer& a, const Peer& b) { return a.keys.sender < b.keys.sender; });
  for (size_t i = 1; i < peers.size(); ++i)
    if (peers[i].keys.sender == peers[i - 1].keys.sender)
      return Refuse(InvalidArgumentError("key directory lists client " +
                                         std::to_string(peers[i].keys.sender) + " twice"));
  std::sort(all_keys.begin(), all_keys.end());
  if (std::adjacent_find(all_keys.begin(), all_keys.end()) != all_keys.end())
    return Refuse(InvalidArgumentError("key directory repeats a public key"));
  peers_ = std::move(peers);
  Peer* self = FindPeer(id_);
  if (self == nullptr || !(self->keys == own_keys_))
    return Refuse(InvalidArgumentError("key directory lacks this client's own keys"));
  if (peers_.size() < config_.threshold)
    return Refuse(FailedPreconditionError("only " +
                                          std::to_string(static_cast<uint32_t>(peers_.size())) +
                                          " share holders advertised keys, below the threshold " +
                                          std::to_string(config_.threshold)));

  rng_.Fill(seed_);
  std::vector<uint64_t> xs;
  for (const Peer& p : peers_) xs.push_back(uint64_t{p.keys.sender} + 1);
  FEDRA_ASSIGN_OR_RETURN(auto mask_shares, ShamirSplit(mask_private_, config_.threshold, xs, rng_));
  FEDRA_ASSIGN_OR_RETURN(auto seed_shares, ShamirSplit(seed_, config_.threshold, xs, rng_));
  FEDRA_ASSIGN_OR_RETURN(X25519Agreement enc, X25519Agreement::Create(enc_private_));

  ShareKeys out{id_, {}};
  out.shares.reserve(peers_.size() - 1);
  for (size_t i = 0; i < peers_.size(); ++i) {
    const uint32_t v = peers_[i].keys.sender;
    if (v == id_) {
      self->has_share = true;
      self->mask_key_share = mask_shares[i];
      self->seed_share = seed_shares[i];
      continue;
    }
    auto shared = enc.Agree(peers_[i].keys.encryption_key);
    if (!shared.ok())
      return Refuse(shared.status().WithContext("encryption key of " + std::to_string(v)));
    FEDRA_ASSIGN_OR_RETURN(peers_[i].share_key,
                           internal::DeriveKey(*shared, internal::KeyPurpose::kShareEncryption,
                                               config_.round, id_, v));
    const Key256& key = peers_[i].share_key;
    OPENSSL_cleanse(shared->data(), shared->size());
    internal::SharePayload payload{id_, v, mask_shares[i].y, seed_shares[i].y};
    std::vector<uint8_t> plain = internal::EncodeSharePayload(payload);
    std::array<uint8_t, kGcmNonceBytes> nonce;
    rng_.Fill(nonce);
    const auto ad = internal::ShareAssociatedData(config_.round, id_, v);
    FEDRA_ASSIGN_OR_RETURN(std::vector<uint8_t> sealed, AeadSeal(key, nonce, plain, ad));
    OPENSSL_cleanse(plain.data(), plain.size());
    out.shares.push_back({v, std::move(sealed)});
  }
  for (auto* shares : {&mask_shares, &seed_shares})
    for (auto& s : *shares) OPENSSL_cleanse(s.y.data(), sizeof(s.y));
  stage_ = Stage::kMask;
  return out;
}

Status SecAggClient::AcceptShare(const SealedShare& sealed) {
  Peer* peer = FindPeer(sealed.peer);
  if (peer == nullptr || sealed.peer == id_)
    return InvalidArgumentError("sealed share from unknown client " + std::to_string(sealed.peer));
  if (peer->has_share)
    return InvalidArgumentError("duplicate sealed share from client " +
                                std::to_string(sealed.peer));
  // The same key sealed our share to this peer (HKDF info orders the two ids); the associated
  // data differs by direction, so a share cannot be reflected back to its sender.
  const auto ad = internal::ShareAssociatedData(config_.round, sealed.peer, id_);
  auto plain = AeadOpen(peer->share_key, sealed.ciphertext, ad);
  if (!plain.ok())
    return plain.status().WithContext("share from client " + std::to_string(sealed.peer));
  auto payload = internal::DecodeSharePayload(*plain);
  OPENSSL_cleanse(plain->data(), plain->size());
  if (!payload.ok()) return payload.status();
  if (payload->sender != sealed.peer || payload->receiver != id_)
    return DataLossError("share from client " + std::to_string(sealed.peer) + " names sender " +
                         std::to_string(payload->sender) + " and receiver " +
                         std::to_string(payload->receiver));
  peer->has_share = true;
  peer->mask_key_share = {uint64_t{id_} + 1, payload->mask_key_share};
  peer->seed_share = {uint64_t{id_} + 1, payload->seed_share};
  return OkStatus();
}

StatusOr<MaskedInput> SecAggClient::Mask(const RelayedShares& relayed,
                                         std::span<const uint32_t> input) {
  FEDRA_RETURN_IF_ERROR(CheckStage(Stage::kMask, "mask its input"));
  if (input.size() != config_.vector_length)
    return InvalidArgumentError("secagg input has " + std::to_string(input.size()) +
                                " words, the round expects " +
                                std::to_string(config_.vector_length));
  if (relayed.recipient != id_)
    return Refuse(InvalidArgumentError("relayed shares are addressed to client " +
                                       std::to_string(relayed.recipient)));
  for (const SealedShare& s : relayed.shares) {
    Status st = AcceptShare(s);
    if (!st.ok()) return Refuse(st);
  }
  const size_t holders =
      std::count_if(peers_.begin(), peers_.end(), [](const Peer& p) { return p.has_share; });
  if (holders < config_.threshold)
    return Refuse(FailedPreconditionError("only " + std::to_string(holders) +
                                          " share holders remain, below the threshold " +
                                          std::to_string(config_.threshold)));

  MaskedInput out{id_, std::vector<uint32_t>(input.begin(), input.end())};
  AddMask(seed_, +1, out.masked);
  FEDRA_ASSIGN_OR_RETURN(X25519Agreement mask, X25519Agreement::Create(mask_private_));
  for (const Peer& p : peers_) {
    if (!p.has_share || p.keys.sender == id_) continue;
    auto key = internal::PairwiseMaskKey(mask, id_, p.keys.mask_key, p.keys.sender, config_.round);
    if (!key.ok()) return Refuse(key.status());
    AddMask(*key, internal::MaskSign(id_, p.keys.sender), out.masked);
    OPENSSL_cleanse(key->data(), key->size());
  }
  FEDRA_ASSIGN_OR_RETURN(internal::InputDigest digest, internal::DigestInput(out.masked));
  FEDRA_ASSIGN_OR_RETURN(out.tag, internal::InputTag(seed_, config_.round, id_, digest));
  stage_ = Stage::kUnmask;
  return out;
}

StatusOr<UnmaskResponse> SecAggClient::Unmask(const UnmaskRequest& request) {
  FEDRA_RETURN_IF_ERROR(CheckStage(Stage::kUnmask, "answer an unmask request"));
  if (request.recipient != id_)
    return Refuse(InvalidArgumentError("unmask request is addressed to client " +
                                       std::to_string(request.recipient)));
  // Each holder of our shares must be listed exactly once, as survivor or dropped.
  std::vector<int> listed(peers_.size(), 0);
  UnmaskResponse out{id_, {}};
  auto take = [&](uint32_t v, bool survivor) -> Status {
    Peer* p = FindPeer(v);
    if (p == nullptr || !p->has_share)
      return InvalidArgumentError("unmask request names client " + std::to_string(v) +
                                  ", which holds no share with this client");
    if (listed[p - peers_.data()]++ > 0)
      return InvalidArgumentError("unmask request lists client " + std::to_string(v) +
                                  " more than once (revealing both of its secrets is refused)");
    out.shares.push_back({v, survivor ? ShareKind::kSelfMaskSeed : ShareKind::kMaskKey,
                          survivor ? p->seed_share.y : p->mask_key_share.y});
    return OkStatus();
  };
  for (uint32_t v : request.survivors) {
    Status st = take(v, true);
    if (!st.ok()) return Refuse(st);
  }
  for (uint32_t v : request.dropped) {
    if (v == id_)
      return Refuse(InvalidArgumentError("unmask request lists this client as dropped"));
    Status st = take(v, false);
    if (!st.ok()) return Refuse(st);
  }
  for (size_t i = 0; i < peers_.size(); ++i)
    if (peers_[i].has_share && listed[i] == 0)
      return Refuse(InvalidArgumentError("unmask request omits client " +
                                         std::to_string(peers_[i].keys.sender)));
  if (request.survivors.size() < config_.threshold)
    return Refuse(
        FailedPreconditionError("only " + std::to_string(request.survivors.size()) +
                                " survivors among the share holders, below the threshold " +
                                std::to_string(config_.threshold)));
  stage_ = Stage::kDone;
  Wipe();
  return out;
}

}  // namespace fedra::secagg
