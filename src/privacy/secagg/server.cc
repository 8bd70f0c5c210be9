#include "fedra/privacy/secagg/server.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <set>

#include "fedra/privacy/secagg/prg.h"
#include "fedra/privacy/secagg/shamir_decoder.h"
#include "privacy/secagg/key_schedule.h"
#include "privacy/secagg/word_ops.h"

namespace fedra::secagg {
namespace {

// Number of stages a client has answered: it is in U_k (Bonawitz et al.) iff answered >= k.
constexpr int kAdvertised = 1, kShared = 2, kMasked = 3, kUnmasked = 4;

}  // namespace

struct SecAggServer::ClientState {
  int answered = 0;
  AdvertiseKeys keys;
  std::vector<SealedShare> inbox;     // sealed shares addressed to this client
  std::vector<ShamirShare> revealed;  // shares of this client's b_u or s_u^SK, at unmasking
  internal::InputDigest digest{};     // of its masked input, checked against `tag` at the end
  std::array<uint8_t, kInputTagBytes> tag{};
};

StatusOr<std::unique_ptr<SecAggServer>> SecAggServer::Create(
    const SecAggConfig& config, std::shared_ptr<const NeighbourGraph> graph) {
  FEDRA_ASSIGN_OR_RETURN(SecAggConfig resolved,
                         ResolveConfig(config, /*allow_low_threshold=*/true));
  if (graph == nullptr) {
    graph = std::make_shared<const NeighbourGraph>(resolved);
  } else if (graph->num_clients() != resolved.num_clients) {
    return InvalidArgumentError("secagg: neighbour graph built for a different client count");
  }
  return std::unique_ptr<SecAggServer>(new SecAggServer(resolved, std::move(graph)));
}

SecAggServer::SecAggServer(const SecAggConfig& config, std::shared_ptr<const NeighbourGraph> graph)
    : config_(config), graph_(std::move(graph)), clients_(config.num_clients) {}

SecAggServer::~SecAggServer() = default;

Status SecAggServer::CheckStage(Stage expected, const char* what) const {
  if (stage_ == expected) return OkStatus();
  if (stage_ == Stage::kAborted)
    return FailedPreconditionError("secagg round aborted: " + abort_reason_);
  return FailedPreconditionError(std::string("secagg server cannot ") + what +
                                 " at this stage (stages run once, in order)");
}

Status SecAggServer::CheckSender(uint32_t id, Stage needed, const char* what) const {
  if (id >= config_.num_clients)
    return InvalidArgumentError(std::string(what) + " from unknown client " + std::to_string(id) +
                                " (round has " + std::to_string(config_.num_clients) + " clients)");
  const int answered = clients_[id].answered;
  const int expected = static_cast<int>(needed);
  if (answered > expected)
    return InvalidArgumentError(std::string("duplicate ") + what + " from client " +
                                std::to_string(id));
  if (answered < expected)
    return InvalidArgumentError(std::string(what) + " from client " + std::to_string(id) +
                                ", which dropped out of an earlier stage");
  return OkStatus();
}

Status SecAggServer::Abort(std::string reason) {
  stage_ = Stage::kAborted;
  abort_reason_ = std::move(reason);
  return FailedPreconditionError("secagg round aborted: " + abort_reason_);
}

std::vector<uint32_t> SecAggServer::Alive(Stage reached) const {
  std::vector<uint32_t> out;
  for (uint32_t i = 0; i < config_.num_clients; ++i)
    if (clients_[i].answered >= static_cast<int>(reached)) out.push_back(i);
  return out;
}

// Every owner's secret is shared with the owner itself and its neighbours; each needs at least
// `threshold` of those holders to have answered `holder_stage`.
Status SecAggServer::CheckHolders(const std::vector<uint32_t>& owners, Stage holder_stage,
                                  const char* secret) {
  const int need = static_cast<int>(holder_stage);
  const size_t all_alive = IsComplete(config_) ? Alive(holder_stage).size() : 0;
  for (uint32_t u : owners) {
    size_t holders = all_alive;
    if (!IsComplete(config_)) {
      holders = clients_[u].answered >= need ? 1 : 0;
      for (uint32_t v : graph_->Neighbours(u)) holders += clients_[v].answered >= need ? 1 : 0;
    }
    if (holders < config_.threshold)
      return Abort("the " + std::string(secret) + " of client " + std::to_string(u) +
                   " is held by only " + std::to_string(holders) +
                   " live clients, below the threshold " + std::to_string(config_.threshold));
  }
  return OkStatus();
}

Status SecAggServer::ReceiveKeys(const AdvertiseKeys& msg) {
  FEDRA_RETURN_IF_ERROR(CheckStage(Stage::kAdvertise, "accept keys"));
  FEDRA_RETURN_IF_ERROR(CheckSender(msg.sender, Stage::kAdvertise, "AdvertiseKeys"));
  if (msg.encryption_key == msg.mask_key)
    return InvalidArgumentError("client " + std::to_string(msg.sender) +
                                " advertised two equal keys");
  if (advertised_keys_.contains(msg.encryption_key) || advertised_keys_.contains(msg.mask_key))
    return InvalidArgumentError("client " + std::to_string(msg.sender) +
                                " advertised a public key another client already uses");
  advertised_keys_.insert(msg.encryption_key);
  advertised_keys_.insert(msg.mask_key);
  clients_[msg.sender].keys = msg;
  clients_[msg.sender].answered = kAdvertised;
  return OkStatus();
}

StatusOr<std::vector<KeyDirectory>> SecAggServer::FinishAdvertise() {
  FEDRA_RETURN_IF_ERROR(CheckStage(Stage::kAdvertise, "finish the advertise stage"));
  const std::vector<uint32_t> u1 = Alive(Stage::kShareKeys);
  if (u1.size() < config_.min_survivors)
    return Abort("only " + std::to_string(u1.size()) + " clients advertised keys, " +
                 std::to_string(config_.min_survivors) + " needed");
  std::vector<KeyDirectory> out;
  out.reserve(u1.size());
  for (uint32_t u : u1) {
    KeyDirectory d{u, {clients_[u].keys}};
    for (uint32_t v : graph_->Neighbours(u))
      if (clients_[v].answered >= kAdvertised) d.keys.push_back(clients_[v].keys);
    out.push_back(std::move(d));
  }
  stage_ = Stage::kShareKeys;
  return out;
}

Status SecAggServer::ReceiveShares(const ShareKeys& msg) {
  FEDRA_RETURN_IF_ERROR(CheckStage(Stage::kShareKeys, "accept shares"));
  FEDRA_RETURN_IF_ERROR(CheckSender(msg.sender, Stage::kShareKeys, "ShareKeys"));
  std::set<uint32_t> seen;
  for (const SealedShare& s : msg.shares) {
    if (s.peer >= config_.num_clients || clients_[s.peer].answered < kAdvertised ||
        !graph_->Adjacent(msg.sender, s.peer))
      return InvalidArgumentError("client " + std::to_string(msg.sender) +
                                  " sent a share for client " + std::to_string(s.peer) +
                                  ", which is not a neighbour that advertised keys");
    if (!seen.insert(s.peer).second)
      return InvalidArgumentError("client " + std::to_string(msg.sender) +
                                  " sent two shares for client " + std::to_string(s.peer));
    if (s.ciphertext.size() != internal::kSealedShareBytes)
      return InvalidArgumentError("share from client " + std::to_string(msg.sender) + " to " +
                                  std::to_string(s.peer) + " has " +
                                  std::to_string(s.ciphertext.size()) + " bytes, expected " +
                                  std::to_string(internal::kSealedShareBytes));
  }
  size_t expected = 0;
  for (uint32_t v : graph_->Neighbours(msg.sender))
    expected += clients_[v].answered >= kAdvertised ? 1 : 0;
  if (seen.size() != expected)
    return InvalidArgumentError(
        "client " + std::to_string(msg.sender) + " sent " + std::to_string(seen.size()) +
        " shares, expected one for each of its " + std::to_string(expected) + " live neighbours");
  for (const SealedShare& s : msg.shares)
    clients_[s.peer].inbox.push_back({msg.sender, s.ciphertext});
  clients_[msg.sender].answered = kShared;
  return OkStatus();
}

StatusOr<std::vector<RelayedShares>> SecAggServer::FinishShareKeys() {
  FEDRA_RETURN_IF_ERROR(CheckStage(Stage::kShareKeys, "finish the share-keys stage"));
  const std::vector<uint32_t> u2 = Alive(Stage::kMaskedInput);
  if (u2.size() < config_.min_survivors)
    return Abort("only " + std::to_string(u2.size()) + " clients shared keys, " +
                 std::to_string(config_.min_survivors) + " needed");
  FEDRA_RETURN_IF_ERROR(CheckHolders(u2, Stage::kMaskedInput, "secrets"));
  std::vector<RelayedShares> out;
  out.reserve(u2.size());
  for (uint32_t u : u2) {
    RelayedShares r{u, {}};
    for (SealedShare& s : clients_[u].inbox)
      if (clients_[s.peer].answered >= kShared) r.shares.push_back(std::move(s));
    clients_[u].inbox = {};
    out.push_back(std::move(r));
  }
  for (ClientState& c : clients_) c.inbox = {};
  masked_sum_.assign(config_.vector_length, 0);
  stage_ = Stage::kMaskedInput;
  return out;
}

Status SecAggServer::ReceiveMaskedInput(const MaskedInput& msg) {
  FEDRA_RETURN_IF_ERROR(CheckStage(Stage::kMaskedInput, "accept masked inputs"));
  FEDRA_RETURN_IF_ERROR(CheckSender(msg.sender, Stage::kMaskedInput, "MaskedInput"));
  if (msg.masked.size() != config_.vector_length)
    return InvalidArgumentError("masked input from client " + std::to_string(msg.sender) + " has " +
                                std::to_string(msg.masked.size()) + " words, expected " +
                                std::to_string(config_.vector_length));
  FEDRA_ASSIGN_OR_RETURN(clients_[msg.sender].digest, internal::DigestInput(msg.masked));
  clients_[msg.sender].tag = msg.tag;
  internal::AccumulateWords<true>(masked_sum_.data(), msg.masked.data(), masked_sum_.size());
  clients_[msg.sender].answered = kMasked;
  return OkStatus();
}

StatusOr<std::vector<UnmaskRequest>> SecAggServer::FinishMaskedInput() {
  FEDRA_RETURN_IF_ERROR(CheckStage(Stage::kMaskedInput, "finish the masked-input stage"));
  survivors_ = Alive(Stage::kUnmask);
  dropped_.clear();
  for (uint32_t i = 0; i < config_.num_clients; ++i)
    if (clients_[i].answered == kShared) dropped_.push_back(i);
  if (survivors_.size() < config_.min_survivors)
    return Abort("only " + std::to_string(survivors_.size()) + " clients sent masked inputs, " +
                 std::to_string(config_.min_survivors) + " needed");
  FEDRA_RETURN_IF_ERROR(CheckHolders(survivors_, Stage::kUnmask, "self-mask seed"));
  FEDRA_RETURN_IF_ERROR(CheckHolders(dropped_, Stage::kUnmask, "mask key"));
  std::vector<UnmaskRequest> out;
  out.reserve(survivors_.size());
  for (uint32_t u : survivors_) {
    UnmaskRequest r{u, {}, {}};
    std::vector<uint32_t> nbhd = graph_->Neighbours(u);
    nbhd.insert(std::upper_bound(nbhd.begin(), nbhd.end(), u), u);
    for (uint32_t v : nbhd) {
      if (clients_[v].answered >= kMasked)
        r.survivors.push_back(v);
      else if (clients_[v].answered == kShared)
        r.dropped.push_back(v);
    }
    out.push_back(std::move(r));
  }
  stage_ = Stage::kUnmask;
  return out;
}

Status SecAggServer::ReceiveUnmask(const UnmaskResponse& msg) {
  FEDRA_RETURN_IF_ERROR(CheckStage(Stage::kUnmask, "accept unmask responses"));
  FEDRA_RETURN_IF_ERROR(CheckSender(msg.sender, Stage::kUnmask, "UnmaskResponse"));
  std::set<uint32_t> seen;
  for (const RevealedShare& s : msg.shares) {
    const bool known = s.owner < config_.num_clients && clients_[s.owner].answered >= kShared &&
                       (s.owner == msg.sender || graph_->Adjacent(msg.sender, s.owner));
    if (!known)
      return InvalidArgumentError("client " + std::to_string(msg.sender) +
                                  " revealed a share for client " + std::to_string(s.owner) +
                                  ", which it was not asked about");
    if (!seen.insert(s.owner).second)
      return InvalidArgumentError("client " + std::to_string(msg.sender) +
                                  " revealed two shares for client " + std::to_string(s.owner));
    const ShareKind want =
        clients_[s.owner].answered >= kMasked ? ShareKind::kSelfMaskSeed : ShareKind::kMaskKey;
    if (s.kind != want)
      return InvalidArgumentError("client " + std::to_string(msg.sender) +
                                  " revealed the wrong kind of share for client " +
                                  std::to_string(s.owner));
    for (uint64_t y : s.y)
      if (y >= kShamirPrime)
        return InvalidArgumentError("client " + std::to_string(msg.sender) +
                                    " revealed a share value outside the field");
  }
  size_t expected = clients_[msg.sender].answered >= kShared ? 1 : 0;
  for (uint32_t v : graph_->Neighbours(msg.sender))
    expected += clients_[v].answered >= kShared ? 1 : 0;
  if (seen.size() != expected)
    return InvalidArgumentError("client " + std::to_string(msg.sender) + " revealed " +
                                std::to_string(seen.size()) + " shares, expected " +
                                std::to_string(expected));
  const uint64_t x = uint64_t{msg.sender} + 1;
  for (const RevealedShare& s : msg.shares) clients_[s.owner].revealed.push_back({x, s.y});
  clients_[msg.sender].answered = kUnmasked;
  return OkStatus();
}

StatusOr<std::vector<std::pair<uint32_t, Key256>>> SecAggServer::Reconstruct(bool seeds) {
  const std::vector<uint32_t>& owners = seeds ? survivors_ : dropped_;
  const char* what = seeds ? "self-mask seed" : "mask key";
  // One decoder per distinct set of share holders: with classic SecAgg every owner's shares
  // come from the same responders, so it is built once.
  std::map<std::vector<uint64_t>, ShamirDecoder> decoders;
  // Holders caught with a wrong share: left out of later owners' decoding while enough others
  // remain, so that one liar costs one slow decode, not one per owner.
  std::set<uint64_t> caught;
  for (const ShareDispute& d : disputes_) caught.insert(uint64_t{d.holder} + 1);
  std::vector<std::pair<uint32_t, Key256>> out;
  out.reserve(owners.size());
  for (uint32_t u : owners) {
    std::vector<ShamirShare>& shares = clients_[u].revealed;
    if (shares.size() < config_.threshold)
      return Abort("only " + std::to_string(shares.size()) + " shares of the " + what +
                   " of client " + std::to_string(u) + " arrived, " +
                   std::to_string(config_.threshold) + " needed");
    std::sort(shares.begin(), shares.end(),
              [](const ShamirShare& a, const ShamirShare& b) { return a.x < b.x; });
    const size_t trusted = static_cast<size_t>(std::count_if(
        shares.begin(), shares.end(), [&](const ShamirShare& s) { return !caught.contains(s.x); }));
    if (trusted >= config_.threshold && trusted < shares.size())
      std::erase_if(shares, [&](const ShamirShare& s) { return caught.contains(s.x); });
    std::vector<uint64_t> xs;
    for (const ShamirShare& s : shares) xs.push_back(s.x);
    auto it = decoders.find(xs);
    if (it == decoders.end()) {
      FEDRA_ASSIGN_OR_RETURN(ShamirDecoder d, ShamirDecoder::Create(xs, config_.threshold));
      it = decoders.emplace(xs, std::move(d)).first;
    }
    auto decoded = it->second.Decode(shares);
    if (!decoded.ok()) {
      return Abort("the " + std::string(what) + " of client " + std::to_string(u) +
                   " cannot be recovered: " + decoded.status().message() + " (" +
                   std::to_string(shares.size()) + " shares, threshold " +
                   std::to_string(config_.threshold) + ", " +
                   std::to_string(it->second.correctable()) + " wrong ones correctable)");
    }
    for (uint64_t x : decoded->wrong) {
      disputes_.push_back({static_cast<uint32_t>(x - 1), u});
      caught.insert(x);
    }
    if (!seeds) {
      FEDRA_ASSIGN_OR_RETURN(X25519KeyPair pair, X25519FromPrivate(decoded->secret));
      const bool match = pair.public_key == clients_[u].keys.mask_key;
      OPENSSL_cleanse(pair.private_key.data(), pair.private_key.size());
      if (!match)
        return Abort("the mask key reconstructed for dropped client " + std::to_string(u) +
                     " does not match its advertised public key (corrupt shares)");
    }
    out.emplace_back(u, decoded->secret);
    OPENSSL_cleanse(decoded->secret.data(), decoded->secret.size());
  }
  return out;
}

Status SecAggServer::CheckInputTags(const std::vector<std::pair<uint32_t, Key256>>& seeds) {
  for (const auto& [u, seed] : seeds) {
    FEDRA_ASSIGN_OR_RETURN(auto want,
                           internal::InputTag(seed, config_.round, u, clients_[u].digest));
    if (CRYPTO_memcmp(want.data(), clients_[u].tag.data(), want.size()) != 0)
      bad_inputs_.push_back(u);
  }
  if (bad_inputs_.empty()) return OkStatus();
  std::string ids;
  for (uint32_t u : bad_inputs_) ids += (ids.empty() ? "" : ", ") + std::to_string(u);
  return Abort("the masked input of client(s) " + ids +
               " does not carry the tag of its self-mask seed for round " +
               std::to_string(config_.round) +
               ": altered in transit, replayed from another round, or not masked with the seed "
               "its shares hold; the sum is not unmasked");
}

StatusOr<std::vector<uint32_t>> SecAggServer::FinishUnmask(ThreadPool* pool) {
  FEDRA_RETURN_IF_ERROR(CheckStage(Stage::kUnmask, "finish the unmasking stage"));
  const size_t responders = Alive(Stage::kDone).size();
  if (responders < config_.min_survivors)
    return Abort("only " + std::to_string(responders) + " clients answered the unmask request, " +
                 std::to_string(config_.min_survivors) + " needed");
  FEDRA_ASSIGN_OR_RETURN(auto seeds, Reconstruct(/*seeds=*/true));
  Status tags = CheckInputTags(seeds);
  if (!tags.ok()) {
    for (auto& [id, secret] : seeds) OPENSSL_cleanse(secret.data(), secret.size());
    return tags;
  }
  FEDRA_ASSIGN_OR_RETURN(auto keys, Reconstruct(/*seeds=*/false));
  Status removed = RemoveMasks(seeds, keys, pool);
  for (auto* secrets : {&seeds, &keys})
    for (auto& [id, secret] : *secrets) OPENSSL_cleanse(secret.data(), secret.size());
  if (!removed.ok()) return Abort(removed.message());
  stage_ = Stage::kDone;
  return std::move(masked_sum_);
}

Status SecAggServer::RemoveMasks(const std::vector<std::pair<uint32_t, Key256>>& seeds,
                                 const std::vector<std::pair<uint32_t, Key256>>& keys,
                                 ThreadPool* pool) {
  std::vector<X25519Agreement> agreements;  // one per dropped client
  for (const auto& [v, sk] : keys) {
    FEDRA_ASSIGN_OR_RETURN(X25519Agreement a, X25519Agreement::Create(sk));
    agreements.push_back(std::move(a));
  }
  // Tasks: one self-mask per survivor, one pairwise mask per (dropped, surviving neighbour).
  struct Task {
    uint32_t index;  // into seeds, or into keys for a pairwise task
    uint32_t peer;   // surviving neighbour (pairwise tasks only)
    bool pairwise;
  };
  std::vector<Task> tasks;
  for (uint32_t i = 0; i < seeds.size(); ++i) tasks.push_back({i, 0, false});
  for (uint32_t i = 0; i < keys.size(); ++i)
    for (uint32_t w : graph_->Neighbours(keys[i].first))
      if (clients_[w].answered >= kMasked) tasks.push_back({i, w, true});

  // Each worker pulls tasks and sums into its own vector; the vectors are added at the end.
  std::vector<std::vector<uint32_t>> acc(pool != nullptr ? pool->size() : 1);
  std::atomic<size_t> next{0};
  std::mutex error_mu;
  Status error;
  auto work = [&](size_t worker) {
    acc[worker].assign(config_.vector_length, 0);
    for (size_t t; (t = next.fetch_add(1)) < tasks.size();) {
      const Task& task = tasks[t];
      if (!task.pairwise) {
        AddMask(seeds[task.index].second, -1, acc[worker]);
        continue;
      }
      const uint32_t v = keys[task.index].first, w = task.peer;
      auto key = internal::PairwiseMaskKey(agreements[task.index], v, clients_[w].keys.mask_key, w,
                                           config_.round);
      if (!key.ok()) {
        std::lock_guard<std::mutex> lock(error_mu);
        if (error.ok()) error = key.status();
        continue;
      }
      // Survivor w applied MaskSign(w, v) * PRG(s_wv); remove exactly that.
      AddMask(*key, -internal::MaskSign(w, v), acc[worker]);
      OPENSSL_cleanse(key->data(), key->size());
    }
  };
  if (pool != nullptr) {
    pool->Run(work);
  } else {
    work(0);
  }
  FEDRA_RETURN_IF_ERROR(error);
  for (const auto& a : acc)
    internal::AccumulateWords<true>(masked_sum_.data(), a.data(), masked_sum_.size());
  return OkStatus();
}

StatusOr<std::vector<KeyDirectory>> SecAggServer::AdvertiseStage(
    std::span<const AdvertiseKeys> msgs) {
  for (const auto& m : msgs) FEDRA_RETURN_IF_ERROR(ReceiveKeys(m));
  return FinishAdvertise();
}
StatusOr<std::vector<RelayedShares>> SecAggServer::ShareKeysStage(std::span<const ShareKeys> msgs) {
  for (const auto& m : msgs) FEDRA_RETURN_IF_ERROR(ReceiveShares(m));
  return FinishShareKeys();
}
StatusOr<std::vector<UnmaskRequest>> SecAggServer::MaskedInputStage(
    std::span<const MaskedInput> msgs) {
  for (const auto& m : msgs) FEDRA_RETURN_IF_ERROR(ReceiveMaskedInput(m));
  return FinishMaskedInput();
}
StatusOr<std::vector<uint32_t>> SecAggServer::UnmaskStage(std::span<const UnmaskResponse> msgs,
                                                          ThreadPool* pool) {
  for (const auto& m : msgs) FEDRA_RETURN_IF_ERROR(ReceiveUnmask(m));
  return FinishUnmask(pool);
}

}  // namespace fedra::secagg
