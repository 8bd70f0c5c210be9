#include "fedra/privacy/paillier/encrypted_aggregator.h"

#include <utility>
#include <vector>

#include "privacy/paillier/key_impl.h"

namespace fedra::paillier {

using internal::Bn;

struct EncryptedAggregator::State {
  State(PublicKey k, Packer p) : key(std::move(k)), packer(std::move(p)) {}
  PublicKey key;
  Packer packer;
  size_t num_values = 0;
  uint32_t contributions = 0;
  // After f folds, sums[i] = prod_j c_ij * R^-(f-1) mod n^2 (one Montgomery factor per fold).
  uint64_t folds = 0;
  std::vector<Bn> sums;
};

EncryptedAggregator::EncryptedAggregator(std::unique_ptr<State> state) : state_(std::move(state)) {}
EncryptedAggregator::~EncryptedAggregator() = default;
EncryptedAggregator::EncryptedAggregator(EncryptedAggregator&&) noexcept = default;
EncryptedAggregator& EncryptedAggregator::operator=(EncryptedAggregator&&) noexcept = default;

StatusOr<EncryptedAggregator> EncryptedAggregator::Create(const PublicKey& key,
                                                          const PackingConfig& config,
                                                          size_t num_values) {
  FEDRA_ASSIGN_OR_RETURN(Packer packer, Packer::Create(config, key.modulus_bits()));
  auto state = std::make_unique<State>(key, std::move(packer));
  state->num_values = num_values;
  return EncryptedAggregator(std::move(state));
}

uint32_t EncryptedAggregator::num_contributions() const { return state_->contributions; }

Status EncryptedAggregator::Add(const EncryptedUpdate& update, ThreadPool* pool) {
  State& s = *state_;
  const internal::PublicKeyImpl& key = s.key.impl();
  if (update.key_id != s.key.key_id()) {
    return FailedPreconditionError("update is under Paillier key " + KeyIdHex(update.key_id) +
                                   ", the aggregate under " + KeyIdHex(s.key.key_id()));
  }
  if (update.packing_fingerprint != s.packer.fingerprint()) {
    return FailedPreconditionError("update was packed with another packing configuration");
  }
  const size_t expected = s.packer.NumPlaintexts(s.num_values);
  if (update.num_values != s.num_values || update.ciphertexts.size() != expected) {
    return InvalidArgumentError("update of " + std::to_string(update.num_values) + " values in " +
                                std::to_string(update.ciphertexts.size()) +
                                " ciphertexts (expected " + std::to_string(s.num_values) +
                                " values in " + std::to_string(expected) + ")");
  }
  const uint64_t total = uint64_t{s.contributions} + update.num_contributions;
  if (update.num_contributions == 0 || total > s.packer.config().max_clients) {
    return OutOfRangeError(
        "refusing to add: the sum would hold " + std::to_string(total) +
        " contributions, more than max_clients = " + std::to_string(s.packer.config().max_clients) +
        " for which the slots have headroom");
  }
  for (size_t i = 0; i < update.ciphertexts.size(); ++i) {
    Status st = s.key.Validate(update.ciphertexts[i]);
    if (!st.ok()) return st.WithContext("ciphertext " + std::to_string(i));
  }
  if (s.sums.empty()) {
    s.sums.resize(expected);
    for (size_t i = 0; i < expected; ++i)
      s.sums[i] = internal::FromBytes(update.ciphertexts[i].bytes);
  } else {
    internal::ParallelFor(expected, pool, [&](size_t begin, size_t end, BN_CTX* ctx) {
      for (size_t i = begin; i < end; ++i) {
        Bn c = internal::FromBytes(update.ciphertexts[i].bytes);
        FEDRA_CHECK(BN_mod_mul_montgomery(s.sums[i].get(), s.sums[i].get(), c.get(),
                                          key.mont_n2.get(), ctx) == 1);
      }
    });
  }
  ++s.folds;
  s.contributions = static_cast<uint32_t>(total);
  return OkStatus();
}

StatusOr<EncryptedUpdate> EncryptedAggregator::Result(ThreadPool* pool) const {
  const State& s = *state_;
  if (s.sums.empty()) return FailedPreconditionError("no update was added to the aggregate");
  const internal::PublicKeyImpl& key = s.key.impl();
  // fix = R^(folds-1) mod n^2 in Montgomery form (R^folds); one Montgomery multiplication by it
  // removes the factors R^-1 that the folds left behind.
  internal::BnCtx ctx = internal::NewCtx();
  Bn r = internal::NewBn();
  FEDRA_CHECK(BN_to_montgomery(r.get(), BN_value_one(), key.mont_n2.get(), ctx.get()) == 1);
  Bn e = internal::BnFromU64(s.folds);
  Bn fix = internal::NewBn();
  FEDRA_CHECK(BN_mod_exp(fix.get(), r.get(), e.get(), key.n2.get(), ctx.get()) == 1);
  EncryptedUpdate out;
  out.key_id = s.key.key_id();
  out.packing_fingerprint = s.packer.fingerprint();
  out.num_contributions = s.contributions;
  out.num_values = s.num_values;
  out.ciphertexts.resize(s.sums.size());
  internal::ParallelFor(s.sums.size(), pool, [&](size_t begin, size_t end, BN_CTX* c) {
    Bn t = internal::NewBn();
    for (size_t i = begin; i < end; ++i) {
      FEDRA_CHECK(
          BN_mod_mul_montgomery(t.get(), s.sums[i].get(), fix.get(), key.mont_n2.get(), c) == 1);
      out.ciphertexts[i] = internal::BnToCiphertext(key, t.get());
    }
  });
  return out;
}

}  // namespace fedra::paillier
