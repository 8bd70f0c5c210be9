#include "fedra/privacy/paillier/public_key.h"

#include <openssl/evp.h>

#include <algorithm>
#include <string_view>
#include <utility>

#include "privacy/paillier/key_impl.h"

namespace fedra::paillier {
namespace internal {
namespace {

constexpr std::string_view kKeyIdDomain = "fedra-paillier-key-id-v1";

KeyId ComputeKeyId(const BIGNUM* n) {
  const std::vector<uint8_t> n_bytes = ToBytes(n, static_cast<size_t>(BN_num_bytes(n)));
  std::vector<uint8_t> msg(kKeyIdDomain.begin(), kKeyIdDomain.end());
  msg.insert(msg.end(), n_bytes.begin(), n_bytes.end());
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  FEDRA_CHECK(EVP_Digest(msg.data(), msg.size(), digest, &len, EVP_sha256(), nullptr) == 1);
  KeyId id;
  std::copy_n(digest, id.size(), id.begin());
  return id;
}

// m mod n for a signed m.
Bn SignedModN(const PublicKeyImpl& key, int64_t m, BN_CTX* ctx) {
  const uint64_t mag = m < 0 ? 0 - static_cast<uint64_t>(m) : static_cast<uint64_t>(m);
  Bn v = BnFromU64(mag);
  BN_set_negative(v.get(), m < 0 ? 1 : 0);
  Bn r = NewBn();
  FEDRA_CHECK(BN_nnmod(r.get(), v.get(), key.n.get(), ctx) == 1);
  return r;
}

// Montgomery multiplication a * b * R^-1 mod n^2; with a in Montgomery form the result is the
// plain product.
void MontMul(const PublicKeyImpl& key, BIGNUM* out, const BIGNUM* a, const BIGNUM* b, BN_CTX* ctx) {
  FEDRA_CHECK(BN_mod_mul_montgomery(out, a, b, key.mont_n2.get(), ctx) == 1);
}

// c = c * (1 + m n) mod n^2.
void MulOnePlusMn(const PublicKeyImpl& key, BIGNUM* c, const BIGNUM* m, BN_CTX* ctx) {
  Bn x = NewBn();
  FEDRA_CHECK(BN_mul(x.get(), m, key.n.get(), ctx) == 1);
  FEDRA_CHECK(BN_add_word(x.get(), 1) == 1);
  FEDRA_CHECK(BN_mod_mul(c, c, x.get(), key.n2.get(), ctx) == 1);
}

}  // namespace

Status CheckModulusIsComposite(const BIGNUM* n, BN_CTX* ctx) {
  if (!BN_is_odd(n)) return InvalidArgumentError("Paillier modulus n is even");
  // Trial division by the odd numbers below 2^14 (a superset of the primes): a factor there
  // means n is not a product of two large primes. Cheap next to building the DJN table.
  for (BN_ULONG d = 3; d < (1u << 14); d += 2) {
    const BN_ULONG r = BN_mod_word(n, d);
    FEDRA_CHECK(r != static_cast<BN_ULONG>(-1));
    if (r == 0) {
      return InvalidArgumentError("Paillier modulus n has the small factor " + std::to_string(d) +
                                  " (expected a product of two large primes)");
    }
  }
  if (BN_check_prime(n, ctx, nullptr) == 1) {
    return InvalidArgumentError("Paillier modulus n is prime (expected a product of two primes)");
  }
  return OkStatus();
}

StatusOr<Bn> PlaintextToBn(const PublicKeyImpl& key, std::span<const uint8_t> m) {
  Bn b = FromBytes(m);
  if (BN_cmp(b.get(), key.n.get()) >= 0) {
    return InvalidArgumentError("Paillier plaintext of " + std::to_string(BN_num_bits(b.get())) +
                                " bits is not below the " + std::to_string(key.bits) +
                                "-bit modulus n");
  }
  return b;
}

void RandomAlpha(const PublicKeyImpl& key, BIGNUM* alpha, BN_CTX* ctx) {
  FEDRA_CHECK_MSG(BN_priv_rand_ex(alpha, key.options.alpha_bits, BN_RAND_TOP_ANY,
                                  BN_RAND_BOTTOM_ANY, 0, ctx) == 1,
                  "RAND_priv failed");
}

void EncryptBn(const PublicKeyImpl& key, const BIGNUM* m, BIGNUM* c, BN_CTX* ctx) {
  // (1 + m n) needs no exponentiation; it is < n^2 because m < n.
  Bn x = NewBn();
  FEDRA_CHECK(BN_mul(x.get(), m, key.n.get(), ctx) == 1);
  FEDRA_CHECK(BN_add_word(x.get(), 1) == 1);
  Bn alpha = NewSecretBn();
  RandomAlpha(key, alpha.get(), ctx);
  Bn t = NewSecretBn();
  key.table->PowMont(alpha.get(), t.get(), ctx);
  MontMul(key, c, t.get(), x.get(), ctx);
}

void ObfuscateBn(const PublicKeyImpl& key, BIGNUM* c, BN_CTX* ctx) {
  Bn alpha = NewSecretBn();
  RandomAlpha(key, alpha.get(), ctx);
  Bn t = NewSecretBn();
  key.table->PowMont(alpha.get(), t.get(), ctx);
  MontMul(key, c, t.get(), c, ctx);
}

StatusOr<Bn> CiphertextToBn(const PublicKeyImpl& key, const Ciphertext& c) {
  if (c.bytes.size() != key.n2_bytes) {
    return DataLossError("Paillier ciphertext has " + std::to_string(c.bytes.size()) +
                         " bytes (expected " + std::to_string(key.n2_bytes) + " for a " +
                         std::to_string(key.bits) + "-bit key)");
  }
  Bn b = FromBytes(c.bytes);
  if (BN_is_zero(b.get()) || BN_cmp(b.get(), key.n2.get()) >= 0) {
    return DataLossError("Paillier ciphertext is not in (0, n^2) for key " + KeyIdHex(key.id));
  }
  return b;
}

Ciphertext BnToCiphertext(const PublicKeyImpl& key, const BIGNUM* c) {
  return Ciphertext{ToBytes(c, key.n2_bytes)};
}

void ParallelFor(size_t count, ThreadPool* pool,
                 const std::function<void(size_t, size_t, BN_CTX*)>& fn) {
  if (pool == nullptr || pool->size() == 1 || count < 2) {
    BnCtx ctx = NewCtx();
    fn(0, count, ctx.get());
    return;
  }
  const size_t workers = pool->size();
  pool->Run([&](size_t w) {
    const size_t begin = count * w / workers;
    const size_t end = count * (w + 1) / workers;
    if (begin == end) return;
    BnCtx ctx = NewCtx();
    fn(begin, end, ctx.get());
  });
}

}  // namespace internal

using internal::Bn;
using internal::BnCtx;
using internal::NewBn;
using internal::NewCtx;

std::string KeyIdHex(const KeyId& id) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  for (uint8_t b : id) {
    s.push_back(kHex[b >> 4]);
    s.push_back(kHex[b & 15]);
  }
  return s;
}

PublicKey::PublicKey(std::shared_ptr<const internal::PublicKeyImpl> impl)
    : impl_(std::move(impl)) {}

StatusOr<PublicKey> PublicKey::FromModulus(std::span<const uint8_t> n,
                                           const PublicKeyOptions& options) {
  if (options.alpha_bits < 128 || options.alpha_bits > 4096) {
    return InvalidArgumentError("alpha_bits " + std::to_string(options.alpha_bits) +
                                " is out of range (expected 128..4096)");
  }
  if (options.window_bits < 1 || options.window_bits > 8) {
    return InvalidArgumentError("window_bits " + std::to_string(options.window_bits) +
                                " is out of range (expected 1..8)");
  }
  auto impl = std::make_shared<internal::PublicKeyImpl>();
  impl->n = internal::FromBytes(n);
  const int bits = BN_num_bits(impl->n.get());
  const bool standard = bits == 2048 || bits == 3072;
  const bool small_ok = options.allow_small_for_testing && bits >= 64 && bits <= 1536;
  if (!standard && !small_ok) {
    return InvalidArgumentError("Paillier modulus n of " + std::to_string(bits) +
                                " bits is not supported (expected 2048 or 3072 bits)");
  }
  BnCtx ctx = NewCtx();
  FEDRA_RETURN_IF_ERROR(internal::CheckModulusIsComposite(impl->n.get(), ctx.get()));
  impl->bits = bits;
  impl->n_bytes = static_cast<size_t>(BN_num_bytes(impl->n.get()));
  impl->n2 = NewBn();
  FEDRA_CHECK(BN_sqr(impl->n2.get(), impl->n.get(), ctx.get()) == 1);
  impl->n2_bytes = static_cast<size_t>(BN_num_bytes(impl->n2.get()));
  impl->mont_n2 = internal::NewMont(impl->n2.get(), ctx.get());
  impl->id = internal::ComputeKeyId(impl->n.get());
  impl->options = options;

  // h = -x^2 mod n for random x; h_s = h^n mod n^2. Anyone may compute h_s, so each holder of
  // the public key draws its own instead of trusting one from a file.
  Bn x = NewBn();
  internal::RandomNonZeroBelow(impl->n.get(), x.get(), ctx.get());
  Bn h = NewBn();
  FEDRA_CHECK(BN_mod_sqr(h.get(), x.get(), impl->n.get(), ctx.get()) == 1);
  FEDRA_CHECK(BN_sub(h.get(), impl->n.get(), h.get()) == 1);
  impl->hs = NewBn();
  FEDRA_CHECK(BN_mod_exp_mont(impl->hs.get(), h.get(), impl->n.get(), impl->n2.get(), ctx.get(),
                              impl->mont_n2.get()) == 1);
  impl->table = std::make_unique<internal::FixedBaseTable>(impl->hs.get(), impl->n2.get(),
                                                           impl->mont_n2.get(), options.alpha_bits,
                                                           options.window_bits, ctx.get());
  return PublicKey(std::move(impl));
}

int PublicKey::modulus_bits() const { return impl_->bits; }
size_t PublicKey::modulus_bytes() const { return impl_->n_bytes; }
size_t PublicKey::ciphertext_bytes() const { return impl_->n2_bytes; }
BigBytes PublicKey::modulus() const { return internal::ToBytes(impl_->n.get(), impl_->n_bytes); }
const KeyId& PublicKey::key_id() const { return impl_->id; }
const PublicKeyOptions& PublicKey::options() const { return impl_->options; }

StatusOr<Ciphertext> PublicKey::Encrypt(std::span<const uint8_t> m) const {
  FEDRA_ASSIGN_OR_RETURN(Bn mb, internal::PlaintextToBn(*impl_, m));
  BnCtx ctx = NewCtx();
  Bn c = NewBn();
  internal::EncryptBn(*impl_, mb.get(), c.get(), ctx.get());
  return internal::BnToCiphertext(*impl_, c.get());
}

StatusOr<Ciphertext> PublicKey::EncryptTextbook(std::span<const uint8_t> m) const {
  FEDRA_ASSIGN_OR_RETURN(Bn mb, internal::PlaintextToBn(*impl_, m));
  BnCtx ctx = NewCtx();
  Bn r = internal::NewSecretBn();
  internal::RandomNonZeroBelow(impl_->n.get(), r.get(), ctx.get());
  Bn c = internal::NewSecretBn();
  FEDRA_CHECK(BN_mod_exp_mont_consttime(c.get(), r.get(), impl_->n.get(), impl_->n2.get(),
                                        ctx.get(), impl_->mont_n2.get()) == 1);
  internal::MulOnePlusMn(*impl_, c.get(), mb.get(), ctx.get());
  return internal::BnToCiphertext(*impl_, c.get());
}

Ciphertext PublicKey::EncryptInt(int64_t m) const {
  BnCtx ctx = NewCtx();
  Bn mb = internal::SignedModN(*impl_, m, ctx.get());
  Bn c = NewBn();
  internal::EncryptBn(*impl_, mb.get(), c.get(), ctx.get());
  return internal::BnToCiphertext(*impl_, c.get());
}

StatusOr<std::vector<Ciphertext>> PublicKey::EncryptBatch(std::span<const BigBytes> plaintexts,
                                                          ThreadPool* pool) const {
  std::vector<Bn> ms;
  ms.reserve(plaintexts.size());
  for (const BigBytes& p : plaintexts) {
    FEDRA_ASSIGN_OR_RETURN(Bn b, internal::PlaintextToBn(*impl_, p));
    ms.push_back(std::move(b));
  }
  std::vector<Ciphertext> out(plaintexts.size());
  internal::ParallelFor(ms.size(), pool, [&](size_t begin, size_t end, BN_CTX* ctx) {
    Bn c = NewBn();
    for (size_t i = begin; i < end; ++i) {
      internal::EncryptBn(*impl_, ms[i].get(), c.get(), ctx);
      out[i] = internal::BnToCiphertext(*impl_, c.get());
    }
  });
  return out;
}

StatusOr<Ciphertext> PublicKey::Add(const Ciphertext& a, const Ciphertext& b) const {
  FEDRA_ASSIGN_OR_RETURN(Bn ab, internal::CiphertextToBn(*impl_, a));
  FEDRA_ASSIGN_OR_RETURN(Bn bb, internal::CiphertextToBn(*impl_, b));
  BnCtx ctx = NewCtx();
  FEDRA_CHECK(BN_to_montgomery(ab.get(), ab.get(), impl_->mont_n2.get(), ctx.get()) == 1);
  internal::MontMul(*impl_, ab.get(), ab.get(), bb.get(), ctx.get());
  return internal::BnToCiphertext(*impl_, ab.get());
}

StatusOr<Ciphertext> PublicKey::AddPlain(const Ciphertext& a, std::span<const uint8_t> m) const {
  FEDRA_ASSIGN_OR_RETURN(Bn ab, internal::CiphertextToBn(*impl_, a));
  FEDRA_ASSIGN_OR_RETURN(Bn mb, internal::PlaintextToBn(*impl_, m));
  BnCtx ctx = NewCtx();
  internal::MulOnePlusMn(*impl_, ab.get(), mb.get(), ctx.get());
  return internal::BnToCiphertext(*impl_, ab.get());
}

StatusOr<Ciphertext> PublicKey::AddPlainInt(const Ciphertext& a, int64_t m) const {
  BnCtx ctx = NewCtx();
  Bn mb = internal::SignedModN(*impl_, m, ctx.get());
  return AddPlain(a, internal::ToBytes(mb.get(), impl_->n_bytes));
}

StatusOr<Ciphertext> PublicKey::MulScalar(const Ciphertext& a, std::span<const uint8_t> k) const {
  FEDRA_ASSIGN_OR_RETURN(Bn ab, internal::CiphertextToBn(*impl_, a));
  FEDRA_ASSIGN_OR_RETURN(Bn kb, internal::PlaintextToBn(*impl_, k));
  BnCtx ctx = NewCtx();
  Bn out = NewBn();
  FEDRA_CHECK(BN_mod_exp_mont(out.get(), ab.get(), kb.get(), impl_->n2.get(), ctx.get(),
                              impl_->mont_n2.get()) == 1);
  if (BN_is_zero(kb.get())) {
    // E(0) = 1 would be a recognisable ciphertext; randomize it like a fresh encryption.
    internal::ObfuscateBn(*impl_, out.get(), ctx.get());
  }
  return internal::BnToCiphertext(*impl_, out.get());
}

StatusOr<Ciphertext> PublicKey::MulScalarInt(const Ciphertext& a, int64_t k) const {
  BnCtx ctx = NewCtx();
  Bn kb = internal::SignedModN(*impl_, k, ctx.get());
  return MulScalar(a, internal::ToBytes(kb.get(), impl_->n_bytes));
}

StatusOr<Ciphertext> PublicKey::Rerandomize(const Ciphertext& a) const {
  FEDRA_ASSIGN_OR_RETURN(Bn ab, internal::CiphertextToBn(*impl_, a));
  BnCtx ctx = NewCtx();
  internal::ObfuscateBn(*impl_, ab.get(), ctx.get());
  return internal::BnToCiphertext(*impl_, ab.get());
}

StatusOr<std::vector<Ciphertext>> PublicKey::AddBatch(std::span<const Ciphertext> a,
                                                      std::span<const Ciphertext> b,
                                                      ThreadPool* pool) const {
  if (a.size() != b.size()) {
    return InvalidArgumentError("AddBatch of " + std::to_string(a.size()) + " and " +
                                std::to_string(b.size()) + " ciphertexts (expected equal counts)");
  }
  for (size_t i = 0; i < a.size(); ++i) {
    FEDRA_RETURN_IF_ERROR(Validate(a[i]));
    FEDRA_RETURN_IF_ERROR(Validate(b[i]));
  }
  std::vector<Ciphertext> out(a.size());
  internal::ParallelFor(a.size(), pool, [&](size_t begin, size_t end, BN_CTX* ctx) {
    for (size_t i = begin; i < end; ++i) {
      Bn x = internal::FromBytes(a[i].bytes);
      Bn y = internal::FromBytes(b[i].bytes);
      FEDRA_CHECK(BN_to_montgomery(x.get(), x.get(), impl_->mont_n2.get(), ctx) == 1);
      internal::MontMul(*impl_, x.get(), x.get(), y.get(), ctx);
      out[i] = internal::BnToCiphertext(*impl_, x.get());
    }
  });
  return out;
}

Status PublicKey::Validate(const Ciphertext& c) const {
  return internal::CiphertextToBn(*impl_, c).status();
}

}  // namespace fedra::paillier
