#include "net/client_secure.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>
#include <thread>

#include "core/log_safe.h"
#include "fedra/core/logging.h"
#include "fedra/core/thread_pool.h"
#include "fedra/fl/secure_sum.h"
#include "fedra/fl/strategy_config.h"
#include "fedra/privacy/paillier/encrypted_update.h"
#include "fedra/privacy/paillier/key_json.h"
#include "fedra/privacy/paillier/secret_key.h"
#include "fedra/privacy/secagg/client.h"
#include "fedra/privacy/secagg/messages.h"
#include "fedra/privacy/secagg/quantizer.h"
#include "fl/secure_sum_terms.h"
#include "net/secure_fold.h"
#include "net/wire.h"

namespace fedra::net {
namespace {

// DP-FedAvg's client-side fold (fixed clip, clipping done by RunLocalFit): the unweighted sum.
std::string Join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

}  // namespace

struct SecureParticipant::SecAggState {
  std::unique_ptr<secagg::SecAggClient> client;
  std::optional<secagg::Quantizer> quantizer;
  uint32_t next_stage = 0;
};

struct SecureParticipant::KeyHolder {
  explicit KeyHolder(paillier::SecretKey k) : key(std::move(k)) {}
  paillier::SecretKey key;
  ThreadPool pool{std::max(1u, std::thread::hardware_concurrency())};
};

SecureParticipant::SecureParticipant(const ClientOptions& options) : o_(options) {}
SecureParticipant::~SecureParticipant() = default;

Status SecureParticipant::LoadSecretKey() {
  if (key_) return OkStatus();
  if (o_.paillier_secret_key_file.empty()) {
    return FailedPreconditionError(
        "the server runs Paillier rounds, but this client has no secret key file "
        "(--paillier-secret-key)");
  }
  FEDRA_ASSIGN_OR_RETURN(auto key, paillier::ReadSecretKeyFile(o_.paillier_secret_key_file));
  key_ = std::make_unique<KeyHolder>(std::move(key));
  return OkStatus();
}

StatusOr<SecureParticipant::FitUpload> SecureParticipant::PrepareFit(
    const v1::SecureFitInstructions& in, const FitResult& result, const FitConfig& config,
    uint32_t round) {
  secagg_.reset();
  flat_.clear();
  round_ = round;
  UpdateAccumulator terms;
  std::optional<FoldSpec> spec;
  if (in.has_fold_spec()) {
    FEDRA_ASSIGN_OR_RETURN(spec, FromProto(in.fold_spec()));
  }
  FEDRA_RETURN_IF_ERROR(
      FoldForSecureSum(in.fold(), spec ? &*spec : nullptr, config, o_.fold, result, terms));
  const auto layout = internal::TermsLayout::Of(terms);
  FitUpload up;
  up.sum_names = layout.sum_names();
  up.scalar_names = layout.scalar_names();
  // The server announces the round's layout; a client whose fold differs says so instead of
  // uploading terms the round cannot add.
  if (in.sum_names_size() > 0 || in.scalar_names_size() > 0) {
    const std::vector<std::string> sums(in.sum_names().begin(), in.sum_names().end());
    const std::vector<std::string> scalars(in.scalar_names().begin(), in.scalar_names().end());
    if (sums != up.sum_names || scalars != up.scalar_names) {
      return FailedPreconditionError(
          "this client folds other sums than the server announced for the round (announced " +
          LogSafe(Join(sums) + " | " + Join(scalars), 256) + "; folded " +
          LogSafe(Join(up.sum_names) + " | " + Join(up.scalar_names), 256) + ")");
    }
  }
  flat_ = layout.Flatten(terms);
  num_scalars_ = layout.scalar_names().size();
  if (in.protocol() == "paillier") {
    FEDRA_RETURN_IF_ERROR(LoadSecretKey());
    const paillier::PublicKey& pub = key_->key.public_key();
    if (in.paillier_key_id().size() != pub.key_id().size() ||
        std::memcmp(in.paillier_key_id().data(), pub.key_id().data(), pub.key_id().size()) != 0) {
      return FailedPreconditionError("the server aggregates under another Paillier key than " +
                                     o_.paillier_secret_key_file + "'s (id " +
                                     paillier::KeyIdHex(pub.key_id()) + ")");
    }
    FEDRA_ASSIGN_OR_RETURN(
        auto encrypted,
        paillier::EncryptUpdate(key_->key, flat_, 1, PackingFromProto(in), &key_->pool));
    up.payload = paillier::SerializeEncryptedUpdate(encrypted);
    flat_.clear();  // nothing more to do with it
  } else if (in.protocol() == "secagg") {
    secagg_ = std::make_unique<SecAggState>();
  } else {
    return InvalidArgumentError("unknown secure protocol '" + in.protocol() + "'");
  }
  return up;
}

StatusOr<std::string> SecureParticipant::Stage(const v1::StageInstructions& in, uint32_t round,
                                               const std::string& message) {
  if (in.protocol() == "paillier" && in.stage() == 0) return Decrypt(message);
  if (in.protocol() != "secagg") {
    return InvalidArgumentError("unknown protocol stage " + in.protocol() + "/" +
                                std::to_string(in.stage()));
  }
  auto result = SecAggStage(in.stage(), round, message);
  if (!result.ok()) secagg_.reset();  // refused: out of this round for good
  return result;
}

StatusOr<std::string> SecureParticipant::SecAggStage(uint32_t stage, uint32_t round,
                                                     const std::string& message) {
  if (!secagg_ || round != round_) {
    return FailedPreconditionError("secure aggregation stage " + std::to_string(stage) +
                                   " of round " + std::to_string(round) +
                                   ", but this client holds no update of that round (restarted?)");
  }
  SecAggState& st = *secagg_;
  if (stage != st.next_stage) {
    return FailedPreconditionError("secure aggregation stage " + std::to_string(stage) +
                                   " out of order (expected " + std::to_string(st.next_stage) +
                                   ")");
  }
  ++st.next_stage;
  switch (stage) {
    case 0: {
      v1::SecAggSetup setup;
      if (!setup.ParseFromString(message)) return InvalidArgumentError("malformed SecAggSetup");
      if (setup.round() != round) return InvalidArgumentError("SecAggSetup for another round");
      if (setup.vector_length() != flat_.size()) {
        return InvalidArgumentError("SecAggSetup expects " + std::to_string(setup.vector_length()) +
                                    " values, this client folded " + std::to_string(flat_.size()));
      }
      secagg::SecAggConfig config;
      config.round = setup.round();
      config.num_clients = setup.num_clients();
      config.threshold = setup.threshold();
      config.neighbours = setup.neighbours();
      config.vector_length = setup.vector_length();
      config.min_survivors = setup.min_survivors();
      if (setup.graph_seed().size() != config.graph_seed.size()) {
        return InvalidArgumentError("SecAggSetup graph seed must be 32 bytes");
      }
      std::memcpy(config.graph_seed.data(), setup.graph_seed().data(), config.graph_seed.size());
      if (setup.client_index() >= setup.num_clients()) {
        return InvalidArgumentError("SecAggSetup client index out of range");
      }
      // ResolveConfig (in Create) refuses thresholds a semi-honest majority would not give.
      // The server's parameters are checked as strictly as the server checks its own: a
      // threshold at most half the holders, or a handful of clients, would let a server that
      // also plays some clients learn one update.
      if (setup.num_clients() < o_.secagg_min_clients) {
        return FailedPreconditionError("secure aggregation among " +
                                       std::to_string(setup.num_clients()) +
                                       " clients refused: this client requires at least " +
                                       std::to_string(o_.secagg_min_clients));
      }
      FEDRA_RETURN_IF_ERROR(secagg::ResolveConfig(config).status());
      FEDRA_ASSIGN_OR_RETURN(st.client, secagg::SecAggClient::Create(config, setup.client_index()));
      FEDRA_ASSIGN_OR_RETURN(
          auto q, secagg::Quantizer::Create({setup.clip(), setup.num_clients(), setup.levels()}));
      st.quantizer.emplace(std::move(q));
      // Update coordinates are clipped to the range by design; a scalar (the example count)
      // clipped would silently skew every mean, so refuse instead.
      for (size_t i = flat_.size() - num_scalars_; i < flat_.size(); ++i) {
        if (!(std::abs(flat_[i]) <= setup.clip())) {
          // The fact and the flag, never the value: the message reaches the server's log.
          return InvalidArgumentError(
              "a folded scalar of this client (e.g. its example count) lies outside the secure "
              "aggregation range +-" +
              std::to_string(setup.clip()) + "; raise the server's --secagg-clip");
        }
      }
      FEDRA_ASSIGN_OR_RETURN(auto keys, st.client->Advertise());
      return BytesToString(secagg::Serialize(keys));
    }
    case 1: {
      FEDRA_ASSIGN_OR_RETURN(auto directory, secagg::ParseKeyDirectory(AsBytes(message)));
      FEDRA_ASSIGN_OR_RETURN(auto shares, st.client->Share(directory));
      return BytesToString(secagg::Serialize(shares));
    }
    case 2: {
      FEDRA_ASSIGN_OR_RETURN(auto relayed, secagg::ParseRelayedShares(AsBytes(message)));
      FEDRA_ASSIGN_OR_RETURN(secagg::Prg prg, secagg::Prg::FromSystem());
      std::vector<uint32_t> q(flat_.size());
      FEDRA_RETURN_IF_ERROR(st.quantizer->Quantize(flat_, prg, q));
      FEDRA_ASSIGN_OR_RETURN(auto masked, st.client->Mask(relayed, q));
      std::fill(flat_.begin(), flat_.end(), 0.0f);
      return BytesToString(secagg::Serialize(masked));
    }
    case 3: {
      FEDRA_ASSIGN_OR_RETURN(auto request, secagg::ParseUnmaskRequest(AsBytes(message)));
      FEDRA_ASSIGN_OR_RETURN(auto response, st.client->Unmask(request));
      secagg_.reset();
      return BytesToString(secagg::Serialize(response));
    }
    default:
      return InvalidArgumentError("secure aggregation has no stage " + std::to_string(stage));
  }
}

StatusOr<std::string> SecureParticipant::Decrypt(const std::string& message) {
  FEDRA_RETURN_IF_ERROR(LoadSecretKey());
  v1::PaillierDecryptRequest request;
  if (!request.ParseFromString(message)) {
    return InvalidArgumentError("malformed Paillier decryption request");
  }
  FEDRA_ASSIGN_OR_RETURN(auto total,
                         paillier::ParseEncryptedUpdate(key_->key.public_key(), request.total()));
  // The total of one update is that update: a server asking for it is refused.
  if (total.num_contributions < 2) {
    return FailedPreconditionError("refusing to decrypt a total of " +
                                   std::to_string(total.num_contributions) +
                                   " update(s): that would reveal one client's update");
  }
  // Not the plaintext alone but its opening (plaintext and randomness of every ciphertext), so
  // that the server can check the answer with the public key instead of trusting it.
  FEDRA_ASSIGN_OR_RETURN(
      auto openings,
      paillier::OpenAggregate(key_->key, total, PackingFromProto(request.packing()), &key_->pool));
  std::string out = paillier::SerializeOpenings(key_->key.public_key(), openings);
  Logger("client")->info("decrypted the total of {} encrypted updates", total.num_contributions);
  return out;
}

}  // namespace fedra::net
