#include "net/secure_rounds.h"

#include <openssl/rand.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>
#include <set>

#include "core/file_util.h"
#include "core/log_safe.h"
#include "fedra/core/logging.h"
#include "fedra/privacy/paillier/encrypted_aggregator.h"
#include "fedra/privacy/paillier/encrypted_update.h"
#include "fedra/privacy/paillier/key_json.h"
#include "fedra/privacy/secagg/messages.h"
#include "fedra/privacy/secagg/quantizer.h"
#include "fedra/privacy/secagg/server.h"
#include "fedra/privacy/secagg/server_stages.h"
#include "fl/secure_sum_terms.h"
#include "net/secure_fold.h"
#include "net/wire.h"

namespace fedra::net {
namespace {

// The layout of the round, fixed by the first accepted client; later ones must match it.
class LayoutKeeper {
 public:
  LayoutKeeper() = default;
  explicit LayoutKeeper(internal::TermsLayout announced) : layout_(std::move(announced)) {}
  // A client's report against the layout the server announced in the task.
  Status Check(const v1::FitReport& report) const {
    const std::vector<std::string> sums(report.sum_names().begin(), report.sum_names().end());
    const std::vector<std::string> scalars(report.scalar_names().begin(),
                                           report.scalar_names().end());
    if (sums != layout_->sum_names() || scalars != layout_->scalar_names()) {
      return InvalidArgumentError(
          "the client folded other sums than the round's announced layout (" +
          std::to_string(layout_->sum_names().size()) + " sums, " +
          std::to_string(layout_->scalar_names().size()) + " scalars)");
    }
    return OkStatus();
  }
  const internal::TermsLayout& layout() const { return *layout_; }

 private:
  std::optional<internal::TermsLayout> layout_;
};

// ---- secure aggregation ----------------------------------------------------------------

class SecAggRound final : public SecureRound {
 public:
  SecAggRound(const SecureRoundOptions& o, int round, LayoutKeeper layout)
      : o_(o), round_(round), layout_(std::move(layout)) {}

  Status AcceptFit(size_t index, ClientId client, const v1::FitReport& report,
                   std::string upload) override {
    if (!upload.empty()) {
      return InvalidArgumentError("secure aggregation: a FIT answer must not carry a payload");
    }
    FEDRA_RETURN_IF_ERROR(layout_.Check(report));
    members_.push_back({index, client});
    return OkStatus();
  }

  StatusOr<SecureSum::Total> Finish(StageTransport& transport, size_t max_dropped) override {
    auto total = RunStages(transport, max_dropped);
    if (!total.ok()) return total.status().WithContext("secure aggregation aborted the round");
    return total;
  }

  uint64_t forged_answers() const override { return forged_; }

 private:
  StatusOr<SecureSum::Total> RunStages(StageTransport& transport, size_t max_dropped) {
    if (members_.empty()) return UnavailableError("no client trained");
    const size_t accepted = members_.size();
    secagg::SecAggConfig config;
    config.round = static_cast<uint64_t>(round_);
    config.num_clients = static_cast<uint32_t>(accepted);
    config.threshold = o_.secagg_threshold;
    config.neighbours = o_.secagg_neighbours;
    config.vector_length = layout_.layout().size();
    if (RAND_bytes(config.graph_seed.data(), static_cast<int>(config.graph_seed.size())) != 1) {
      return InternalError("RAND_bytes failed");
    }
    if (config.neighbours >= config.num_clients) config.neighbours = 0;  // complete graph
    auto resolved = secagg::ResolveConfig(config);
    if (!resolved.ok()) {
      return FailedPreconditionError("cannot run with the " + std::to_string(accepted) +
                                     " clients that trained: " + resolved.status().message());
    }
    config = *resolved;
    FEDRA_ASSIGN_OR_RETURN(
        auto quantizer,
        secagg::Quantizer::Create({o_.secagg_clip, config.num_clients, o_.secagg_levels}));
    FEDRA_ASSIGN_OR_RETURN(server_, secagg::SecAggServer::Create(config));

    // Stage 0's task tells each client the round's parameters; it answers with its keys.
    std::vector<StageTask> setup_tasks;
    for (uint32_t i = 0; i < config.num_clients; ++i) {
      v1::SecAggSetup setup;
      setup.set_round(config.round);
      setup.set_num_clients(config.num_clients);
      setup.set_client_index(i);
      setup.set_threshold(config.threshold);
      setup.set_neighbours(config.neighbours);
      setup.set_vector_length(config.vector_length);
      setup.set_graph_seed(config.graph_seed.data(), config.graph_seed.size());
      setup.set_min_survivors(config.min_survivors);
      setup.set_clip(o_.secagg_clip);
      setup.set_levels(quantizer.levels());
      setup_tasks.push_back({members_[i].index, members_[i].client, setup.SerializeAsString()});
    }
    StagePeers peers(*this, transport, std::move(setup_tasks));
    auto outcome =
        secagg::RunServerStages(*server_, quantizer, peers, max_dropped, /*pool=*/nullptr);
    // Only the unmasking finds wrong shares and forged inputs, and the round may have aborted
    // on them: report them whatever the outcome.
    ReportMisbehaviour();
    if (!outcome.ok()) return outcome.status();
    const auto survivors = static_cast<uint32_t>(server_->survivors().size());
    Logger("server")->info(
        "round {}: secure aggregation summed {} of {} clients (quantization error <= {:.3g} per "
        "coordinate)",
        round_, survivors, accepted, quantizer.SumErrorBound(survivors));
    SecureSum::Total total{layout_.layout().Unflatten<float>(std::span<const float>(outcome->sum)),
                           accepted - survivors, bytes_up_};
    return total;
  }

  // The round's clients as RunServerStages sees them: each stage is one RunStage of STAGE
  // tasks, stage 0's carrying the SecAggSetup, later ones the server's message to the client.
  class StagePeers final : public secagg::SecAggPeers {
   public:
    StagePeers(SecAggRound& round, StageTransport& transport, std::vector<StageTask> setup)
        : owner_(round), transport_(transport), setup_(std::move(setup)) {}

    void Advertise(const Deliver<secagg::AdvertiseKeys>& deliver) override {
      owner_.Exchange(transport_, 0, std::move(setup_), secagg::ParseAdvertiseKeys, deliver);
    }
    void Share(std::vector<secagg::KeyDirectory> to,
               const Deliver<secagg::ShareKeys>& deliver) override {
      owner_.Exchange(transport_, 1, owner_.Route(to), secagg::ParseShareKeys, deliver);
    }
    void Mask(std::vector<secagg::RelayedShares> to,
              const Deliver<secagg::MaskedInput>& deliver) override {
      owner_.Exchange(transport_, 2, owner_.Route(to), secagg::ParseMaskedInput, deliver);
    }
    void Unmask(std::vector<secagg::UnmaskRequest> to,
                const Deliver<secagg::UnmaskResponse>& deliver) override {
      owner_.Exchange(transport_, 3, owner_.Route(to), secagg::ParseUnmaskResponse, deliver);
    }

   private:
    SecAggRound& owner_;
    StageTransport& transport_;
    std::vector<StageTask> setup_;
  };

  struct Member {
    size_t index;
    ClientId client;
  };

  // Wrong shares (corrected, or the round aborted) and masked inputs that failed their tag:
  // logged by client id and counted. A wrong share is the holder's lie or the owner's bad
  // dealing; the log names both.
  void ReportMisbehaviour() {
    std::set<uint32_t> suspects;
    for (const auto& d : server_->disputes()) {
      suspects.insert(d.holder);
      Logger("server")->warn(
          "round {}: secure aggregation: client {} revealed a share of client {}'s secret that "
          "disagrees with the other holders' (corrected; one of the two is dishonest)",
          round_, members_.at(d.holder).client, members_.at(d.owner).client);
    }
    for (uint32_t u : server_->bad_inputs()) {
      suspects.insert(u);
      Logger("server")->warn(
          "round {}: secure aggregation: client {}'s masked input does not carry its seed's tag "
          "(altered, replayed or not masked honestly); the round is aborted",
          round_, members_.at(u).client);
    }
    forged_ = suspects.size();
  }

  Status CheckSender(uint32_t sender, uint32_t expected) const {
    if (sender != expected) {
      return InvalidArgumentError("the message names sender " + std::to_string(sender) +
                                  ", but came from client " + std::to_string(expected));
    }
    return OkStatus();
  }

  template <typename Msg>
  std::vector<StageTask> Route(const std::vector<Msg>& messages) const {
    std::vector<StageTask> tasks;
    for (const Msg& m : messages) {
      const Member& member = members_.at(m.recipient);
      tasks.push_back({member.index, member.client, BytesToString(secagg::Serialize(m))});
    }
    return tasks;
  }

  // One stage whose replies are parsed with `parse`, checked to come from the client they name
  // and handed to `receive` (the server state machine).
  template <typename Parse, typename Receive>
  void Exchange(StageTransport& transport, uint32_t stage, std::vector<StageTask> tasks,
                Parse parse, const Receive& receive) {
    Stage(transport, stage, std::move(tasks), [&](uint32_t id, const std::string& msg) -> Status {
      FEDRA_ASSIGN_OR_RETURN(auto m, parse(AsBytes(msg)));
      FEDRA_RETURN_IF_ERROR(CheckSender(m.sender, id));
      return receive(m);
    });
  }

  // Runs one stage; a reply that fails to parse or is refused by the server state machine
  // drops that client (it is not asked the next stage).
  void Stage(StageTransport& transport, uint32_t stage, std::vector<StageTask> tasks,
             const std::function<Status(uint32_t, const std::string&)>& receive) {
    std::map<size_t, uint32_t> id_of;  // FIT task index -> protocol id
    for (uint32_t i = 0; i < members_.size(); ++i) id_of[members_[i].index] = i;
    transport.RunStage(
        "secagg", stage, std::move(tasks), o_.stage_deadline_seconds, [&](StageReply reply) {
          Status s = reply.status;
          if (s.ok()) {
            bytes_up_ += reply.message.size();
            s = receive(id_of.at(reply.index), reply.message);
          }
          if (!s.ok()) {
            Logger("server")->warn("round {}: secure aggregation stage {}: client {} dropped: {}",
                                   round_, stage, members_[id_of.at(reply.index)].client,
                                   LogSafe(s.ToString(), 512));
          }
          return s;
        });
  }

  const SecureRoundOptions& o_;
  int round_;
  LayoutKeeper layout_;
  std::vector<Member> members_;
  std::unique_ptr<secagg::SecAggServer> server_;
  uint64_t bytes_up_ = 0;
  uint64_t forged_ = 0;
};

// ---- Paillier ------------------------------------------------------------------------

class PaillierRound final : public SecureRound {
 public:
  PaillierRound(const SecureRoundOptions& o, const paillier::PublicKey& key,
                const v1::SecureFitInstructions& fit, int round, LayoutKeeper layout,
                std::set<ClientId>& forgers)
      : o_(o), key_(key), fit_(fit), round_(round), layout_(std::move(layout)), forgers_(forgers) {}

  Status AcceptFit(size_t index, ClientId client, const v1::FitReport& report,
                   std::string upload) override {
    const LayoutKeeper& layout = layout_;
    FEDRA_RETURN_IF_ERROR(layout.Check(report));
    FEDRA_ASSIGN_OR_RETURN(auto update, paillier::ParseEncryptedUpdate(key_, upload));
    if (update.num_contributions != 1) {
      return InvalidArgumentError("a client's ciphertexts must hold exactly one contribution");
    }
    if (update.num_values != layout.layout().size()) {
      return InvalidArgumentError("the ciphertexts hold " + std::to_string(update.num_values) +
                                  " values, the folded sums " +
                                  std::to_string(layout.layout().size()));
    }
    if (!aggregator_) {
      FEDRA_ASSIGN_OR_RETURN(auto agg, paillier::EncryptedAggregator::Create(
                                           key_, o_.paillier_packing, layout.layout().size()));
      aggregator_.emplace(std::move(agg));
    }
    FEDRA_RETURN_IF_ERROR(aggregator_->Add(update));
    bytes_up_ += upload.size();
    contributors_.push_back({index, client});
    return OkStatus();
  }

  StatusOr<SecureSum::Total> Finish(StageTransport& transport, size_t) override {
    // A total of one update is that update: never ask for it to be decrypted.
    if (contributors_.size() < 2) {
      return FailedPreconditionError(
          "Paillier: " + std::to_string(contributors_.size()) +
          " encrypted update(s) arrived; at least 2 are needed so that decrypting the total "
          "reveals no single client's update");
    }
    FEDRA_ASSIGN_OR_RETURN(total_, aggregator_->Result());
    v1::PaillierDecryptRequest request;
    *request.mutable_packing() = fit_;
    request.set_total(paillier::SerializeEncryptedUpdate(total_));
    const std::string message = request.SerializeAsString();
    // Ask contributors in a random order until one decrypts (a client may be gone by now, or
    // its answer may not match the ciphertexts).
    std::vector<size_t> order;
    for (size_t i = 0; i < contributors_.size(); ++i) {
      if (!forgers_.contains(contributors_[i].client)) order.push_back(i);
    }
    for (size_t i = order.size(); i > 1; --i) {
      uint32_t r = 0;
      if (RAND_bytes(reinterpret_cast<unsigned char*>(&r), sizeof r) != 1) {
        return InternalError("RAND_bytes failed");
      }
      std::swap(order[i - 1], order[r % i]);
    }
    Status last = UnavailableError("no client decrypted the total");
    for (size_t attempt = 0; attempt < std::min<size_t>(3, order.size()); ++attempt) {
      const Member& who = contributors_[order[attempt]];
      std::optional<StatusOr<std::vector<double>>> plain;
      transport.RunStage("paillier", 0, {{who.index, who.client, message}},
                         o_.stage_deadline_seconds, [&](StageReply reply) {
                           if (!reply.status.ok()) {
                             plain = reply.status;
                           } else {
                             plain = Verified(reply.message);
                           }
                           return plain->status();
                         });
      if (plain && plain->ok()) {
        Logger("server")->info(
            "round {}: client {} decrypted the total of {} encrypted updates (verified)", round_,
            who.client, contributors_.size());
        return SecureSum::Total{
            layout_.layout().Unflatten<double>(std::span<const double>(**plain)), 0, bytes_up_};
      }
      last = plain ? plain->status() : UnavailableError("no answer");
      if (plain && last.code() == StatusCode::kDataLoss) {
        ++forged_answers_;
        forgers_.insert(who.client);
      }
      Logger("server")->warn("round {}: client {} did not decrypt the total: {}", round_,
                             who.client, LogSafe(last.ToString(), 512));
    }
    return UnavailableError("Paillier: no client decrypted the total: " + last.message());
  }

  uint64_t forged_answers() const override { return forged_answers_; }

 private:
  struct Member {
    size_t index;
    ClientId client;
  };

  // The decryptor's answer checked against the total's ciphertexts with the public key
  // (paillier::VerifyAndUnpackAggregate: DataLoss for a forged decryption) before any value
  // of it is used.
  StatusOr<std::vector<double>> Verified(const std::string& bytes) const {
    FEDRA_ASSIGN_OR_RETURN(auto openings,
                           paillier::ParseOpenings(key_, bytes, total_.ciphertexts.size()));
    FEDRA_ASSIGN_OR_RETURN(auto plain, paillier::VerifyAndUnpackAggregate(
                                           key_, total_, PackingFromProto(fit_), openings));
    if (plain.weighted_sum.size() != layout_.layout().size()) {
      return InvalidArgumentError("the decrypted total has " +
                                  std::to_string(plain.weighted_sum.size()) + " values, expected " +
                                  std::to_string(layout_.layout().size()));
    }
    for (double v : plain.weighted_sum) {
      if (!std::isfinite(v)) return InvalidArgumentError("the decrypted total is not finite");
    }
    return std::move(plain.weighted_sum);
  }

  const SecureRoundOptions& o_;
  const paillier::PublicKey& key_;
  const v1::SecureFitInstructions& fit_;
  int round_;
  LayoutKeeper layout_;
  std::optional<paillier::EncryptedAggregator> aggregator_;
  std::vector<Member> contributors_;
  std::set<ClientId>& forgers_;
  paillier::EncryptedUpdate total_;
  uint64_t forged_answers_ = 0;
  uint64_t bytes_up_ = 0;
};

class Factory final : public SecureRoundFactory {
 public:
  Factory(SecureRoundOptions o, std::optional<paillier::PublicKey> key)
      : o_(std::move(o)), key_(std::move(key)) {
    fit_.set_protocol(o_.protocol);
    fit_.set_fold(o_.fold);
    if (o_.fold_spec) ToProto(*o_.fold_spec, fit_.mutable_fold_spec());
    if (key_) {
      const auto& id = key_->key_id();
      fit_.set_paillier_key_id(id.data(), id.size());
      ToProto(o_.paillier_packing, &fit_);
    }
  }
  std::string Name() const override {
    return o_.protocol == "secagg" ? "secure aggregation" : "Paillier encryption";
  }
  const v1::SecureFitInstructions& fit_instructions() const override { return fit_; }
  StatusOr<std::unique_ptr<SecureRound>> NewRound(int round, const Parameters& global) override {
    // The layout is announced in every FIT task of the round (fit_instructions()).
    AnnouncedLayout names{o_.sum_names, o_.scalar_names};
    if (names.sums.empty()) {
      const FoldSpec* spec = o_.fold_spec ? &*o_.fold_spec : nullptr;
      FEDRA_ASSIGN_OR_RETURN(names, LayoutOfFold(o_.fold, spec, global));
    }
    FEDRA_ASSIGN_OR_RETURN(auto layout,
                           internal::TermsLayout::FromNames(names.sums, names.scalars, global));
    fit_.clear_sum_names();
    fit_.clear_scalar_names();
    for (const auto& n : names.sums) fit_.add_sum_names(n);
    for (const auto& n : names.scalars) fit_.add_scalar_names(n);
    if (key_) {
      return std::unique_ptr<SecureRound>(std::make_unique<PaillierRound>(
          o_, *key_, fit_, round, LayoutKeeper(std::move(layout)), forgers_));
    }
    return std::unique_ptr<SecureRound>(
        std::make_unique<SecAggRound>(o_, round, LayoutKeeper(std::move(layout))));
  }

 private:
  SecureRoundOptions o_;
  std::optional<paillier::PublicKey> key_;
  v1::SecureFitInstructions fit_;
  std::set<ClientId> forgers_;  // never asked to decrypt again in this run
};

}  // namespace

StatusOr<std::unique_ptr<SecureRoundFactory>> SecureRoundFactory::Create(
    const SecureRoundOptions& o) {
  if (o.protocol != "secagg" && o.protocol != "paillier") {
    return InvalidArgumentError("secure protocol must be 'secagg' or 'paillier', not '" +
                                o.protocol + "'");
  }
  if (o.fold.empty()) return InvalidArgumentError("secure rounds need the strategy's name (fold)");
  if (!(o.stage_deadline_seconds > 0)) {
    return InvalidArgumentError("the stage deadline must be positive");
  }
  std::optional<paillier::PublicKey> key;
  if (o.protocol == "secagg") {
    if (!(o.secagg_clip > 0) || !std::isfinite(o.secagg_clip)) {
      return InvalidArgumentError("secure aggregation clip must be positive and finite");
    }
    if (o.secagg_neighbours % 2 != 0) {
      return InvalidArgumentError("SecAgg+ neighbours must be even (0: classic SecAgg)");
    }
    if (o.secagg_threshold == 1) {
      return InvalidArgumentError("a secure aggregation threshold of 1 protects nothing");
    }
  } else {
    if (o.paillier_public_key_file.empty()) {
      return InvalidArgumentError("Paillier needs the public key file (fedra-keygen paillier)");
    }
    FEDRA_ASSIGN_OR_RETURN(std::string text, internal::ReadFile(o.paillier_public_key_file));
    if (text.find("\"decrypt\"") != std::string::npos ||
        text.find("\"lambda\"") != std::string::npos) {
      return InvalidArgumentError(
          o.paillier_public_key_file +
          " holds a Paillier SECRET key; the server must only be given the public key "
          "(fedra-keygen's paillier.pub.json); the secret key stays with the clients");
    }
    FEDRA_ASSIGN_OR_RETURN(auto k, paillier::PublicKeyFromJwk(text));
    FEDRA_RETURN_IF_ERROR(paillier::Packer::Create(o.paillier_packing, k.modulus_bits()).status());
    key.emplace(std::move(k));
  }
  return std::unique_ptr<SecureRoundFactory>(new Factory(o, std::move(key)));
}

}  // namespace fedra::net
