#include "fedra/privacy/paillier/secret_key.h"

#include <chrono>
#include <memory>
#include <string>
#include <utility>

#include "fedra/core/logging.h"
#include "privacy/paillier/key_impl.h"

namespace fedra::paillier {
namespace internal {
namespace {

using Clock = std::chrono::steady_clock;

// h = L(g^(x-1) mod x^2)^-1 mod x with g = n + 1 and L(u) = (u - 1) / x.
Bn HFunction(const BIGNUM* n, const BIGNUM* x, const BIGNUM* xm1, const BIGNUM* x2,
             const BN_MONT_CTX* mont_x2, BN_CTX* ctx) {
  Bn g = CopyBn(n);
  FEDRA_CHECK(BN_add_word(g.get(), 1) == 1);
  Bn u = NewSecretBn();
  FEDRA_CHECK(BN_nnmod(g.get(), g.get(), x2, ctx) == 1);
  FEDRA_CHECK(BN_mod_exp_mont_consttime(u.get(), g.get(), xm1, x2, ctx,
                                        const_cast<BN_MONT_CTX*>(mont_x2)) == 1);
  FEDRA_CHECK(BN_sub_word(u.get(), 1) == 1);
  Bn l = NewSecretBn();
  FEDRA_CHECK(BN_div(l.get(), nullptr, u.get(), x, ctx) == 1);
  Bn h = NewSecretBn();
  FEDRA_CHECK_MSG(BN_mod_inverse(h.get(), l.get(), x, ctx) != nullptr,
                  "L(g^(p-1)) is not invertible: p, q do not form a Paillier key");
  return h;
}

// m_x = L_x(c^(x-1) mod x^2) h_x mod x.
void HalfDecrypt(const BIGNUM* c, const BIGNUM* x, const BIGNUM* xm1, const BIGNUM* x2,
                 const BIGNUM* hx, BN_MONT_CTX* mont_x2, BIGNUM* out, BN_CTX* ctx) {
  Bn cx = NewSecretBn();
  FEDRA_CHECK(BN_nnmod(cx.get(), c, x2, ctx) == 1);
  Bn u = NewSecretBn();
  FEDRA_CHECK(BN_mod_exp_mont_consttime(u.get(), cx.get(), xm1, x2, ctx, mont_x2) == 1);
  // u = 1 + k x: callers refuse ciphertexts that share a factor with n (where u = 0).
  FEDRA_CHECK(BN_sub_word(u.get(), 1) == 1);
  Bn l = NewSecretBn();
  FEDRA_CHECK(BN_div(l.get(), nullptr, u.get(), x, ctx) == 1);
  FEDRA_CHECK(BN_mod_mul(out, l.get(), hx, x, ctx) == 1);
}

// r^n mod x^2 for secret r, with the exponent reduced modulo the group order x (x - 1).
void HalfPowN(const BIGNUM* r, const BIGNUM* x2, const BIGNUM* e, BN_MONT_CTX* mont_x2, BIGNUM* out,
              BN_CTX* ctx) {
  Bn rx = NewSecretBn();
  FEDRA_CHECK(BN_nnmod(rx.get(), r, x2, ctx) == 1);
  FEDRA_CHECK(BN_mod_exp_mont_consttime(out, rx.get(), e, x2, ctx, mont_x2) == 1);
}

struct KeygenProgress {
  Clock::time_point start = Clock::now();
  Clock::time_point last_log = start;
  int bits = 0;
  int prime = 1;
  long candidates = 0;
};

int KeygenCallback(int event, int /*n*/, BN_GENCB* cb) {
  auto* progress = static_cast<KeygenProgress*>(BN_GENCB_get_arg(cb));
  if (event == 0) ++progress->candidates;
  const auto now = Clock::now();
  if (now - progress->start > std::chrono::seconds(1) &&
      now - progress->last_log > std::chrono::seconds(1)) {
    progress->last_log = now;
    Logger("paillier")
        ->info("generating {}-bit Paillier key: prime {}/2, {} candidates, {:.1f} s",
               progress->bits, progress->prime, progress->candidates,
               std::chrono::duration<double>(now - progress->start).count());
  }
  return 1;
}

Bn GeneratePrime(int bits, BN_GENCB* cb, BN_CTX* ctx) {
  Bn p = NewSecretBn();
  FEDRA_CHECK_MSG(BN_generate_prime_ex2(p.get(), bits, 0, nullptr, nullptr, cb, ctx) == 1,
                  "BN_generate_prime_ex2 failed");
  return p;
}

// out = h_s^alpha y mod x^2 (plain) from the table of h_s mod x^2.
void HalfDjn(const FixedBaseTable& table, const BIGNUM* alpha, const BIGNUM* y, const BIGNUM* x2,
             BN_MONT_CTX* mont_x2, BIGNUM* out, BN_CTX* ctx) {
  Bn t = NewSecretBn();
  table.PowMont(alpha, t.get(), ctx);
  Bn yx = NewSecretBn();
  FEDRA_CHECK(BN_nnmod(yx.get(), y, x2, ctx) == 1);
  // t is in Montgomery form, so the product comes out plain.
  FEDRA_CHECK(BN_mod_mul_montgomery(out, t.get(), yx.get(), mont_x2, ctx) == 1);
}

}  // namespace

void EncryptCrtBn(const SecretKeyImpl& key, const BIGNUM* m, BIGNUM* c, BN_CTX* ctx) {
  Bn alpha = NewSecretBn();
  RandomAlpha(key.pub->impl(), alpha.get(), ctx);
  DjnCrtBn(key, m, alpha.get(), c, ctx);
}

void DjnCrtBn(const SecretKeyImpl& key, const BIGNUM* m, const BIGNUM* alpha, BIGNUM* c,
              BN_CTX* ctx) {
  const PublicKeyImpl& pub = key.pub->impl();
  // y = 1 + m n < n^2. It is multiplied into each half, so no product modulo n^2 is formed.
  Bn y = NewSecretBn();
  FEDRA_CHECK(BN_mul(y.get(), m, pub.n.get(), ctx) == 1);
  FEDRA_CHECK(BN_add_word(y.get(), 1) == 1);
  Bn cp = NewSecretBn();
  Bn cq = NewSecretBn();
  HalfDjn(*key.table_p2, alpha, y.get(), key.p2.get(), key.mont_p2.get(), cp.get(), ctx);
  HalfDjn(*key.table_q2, alpha, y.get(), key.q2.get(), key.mont_q2.get(), cq.get(), ctx);
  // Garner: c = c_q + q^2 ((c_p - c_q) (q^2)^-1 mod p^2). The difference is taken as
  // c_p + (p^2 - (c_q mod p^2)) with BN_mod_add_quick, which selects without branching on
  // which of c_p, c_q mod p^2 is larger.
  Bn t = NewSecretBn();
  FEDRA_CHECK(BN_nnmod(t.get(), cq.get(), key.p2.get(), ctx) == 1);
  FEDRA_CHECK(BN_sub(t.get(), key.p2.get(), t.get()) == 1);
  FEDRA_CHECK(BN_mod_add_quick(t.get(), t.get(), cp.get(), key.p2.get()) == 1);
  FEDRA_CHECK(BN_mod_mul_montgomery(t.get(), t.get(), key.q2_inv_p2_mont.get(), key.mont_p2.get(),
                                    ctx) == 1);
  FEDRA_CHECK(BN_mul(c, t.get(), key.q2.get(), ctx) == 1);
  FEDRA_CHECK(BN_add(c, c, cq.get()) == 1);
}

void DecryptBn(const SecretKeyImpl& key, const BIGNUM* c, BIGNUM* m, BN_CTX* ctx) {
  const PublicKeyImpl& pub = key.pub->impl();
  // Blinding: decrypt c (1 + rho n) = E(m + rho) for a fresh secret rho, then subtract rho.
  // The exponentiations are constant-time; the CRT recombination after them (whose OpenSSL
  // primitives shortcut on zero and short operands) then only sees (m + rho) mod p and mod q,
  // independent of a ciphertext an attacker chose (e.g. m < p makes m_p - m_q zero).
  Bn rho = NewSecretBn();
  FEDRA_CHECK_MSG(BN_priv_rand_range_ex(rho.get(), pub.n.get(), 0, ctx) == 1, "RAND_priv failed");
  Bn blinded = NewSecretBn();
  FEDRA_CHECK(BN_mul(blinded.get(), rho.get(), pub.n.get(), ctx) == 1);
  FEDRA_CHECK(BN_add_word(blinded.get(), 1) == 1);
  FEDRA_CHECK(BN_mod_mul(blinded.get(), blinded.get(), c, pub.n2.get(), ctx) == 1);
  Bn mp = NewSecretBn();
  Bn mq = NewSecretBn();
  HalfDecrypt(blinded.get(), key.p.get(), key.pm1.get(), key.p2.get(), key.hp.get(),
              key.mont_p2.get(), mp.get(), ctx);
  HalfDecrypt(blinded.get(), key.q.get(), key.qm1.get(), key.q2.get(), key.hq.get(),
              key.mont_q2.get(), mq.get(), ctx);
  // m + rho = m_q + q ((m_p - m_q) q^-1 mod p); the difference as m_p + (p - (m_q mod p)) with
  // BN_mod_add_quick, which does not branch on which one is larger.
  Bn t = NewSecretBn();
  FEDRA_CHECK(BN_nnmod(t.get(), mq.get(), key.p.get(), ctx) == 1);
  FEDRA_CHECK(BN_sub(t.get(), key.p.get(), t.get()) == 1);
  FEDRA_CHECK(BN_mod_add_quick(t.get(), t.get(), mp.get(), key.p.get()) == 1);
  FEDRA_CHECK(BN_mod_mul(t.get(), t.get(), key.q_inv_p.get(), key.p.get(), ctx) == 1);
  FEDRA_CHECK(BN_mul(t.get(), t.get(), key.q.get(), ctx) == 1);
  FEDRA_CHECK(BN_add(t.get(), t.get(), mq.get()) == 1);
  FEDRA_CHECK(BN_mod_sub(m, t.get(), rho.get(), pub.n.get(), ctx) == 1);
}

Status CheckDecryptable(const PublicKeyImpl& pub, const BIGNUM* c, BN_CTX* ctx) {
  Bn g = NewBn();
  FEDRA_CHECK(BN_gcd(g.get(), c, pub.n.get(), ctx) == 1);
  if (!BN_is_one(g.get())) {
    return DataLossError("Paillier ciphertext shares a factor with n (not a ciphertext of key " +
                         KeyIdHex(pub.id) + ")");
  }
  return OkStatus();
}

}  // namespace internal

using internal::Bn;
using internal::BnCtx;
using internal::NewCtx;
using internal::NewSecretBn;

SecretKey::SecretKey(std::shared_ptr<const internal::SecretKeyImpl> impl)
    : impl_(std::move(impl)) {}

StatusOr<SecretKey> SecretKey::FromPrimes(std::span<const uint8_t> p_bytes,
                                          std::span<const uint8_t> q_bytes,
                                          const PublicKeyOptions& options) {
  BnCtx ctx = NewCtx();
  auto impl = std::make_shared<internal::SecretKeyImpl>();
  impl->p = NewSecretBn();
  impl->q = NewSecretBn();
  FEDRA_CHECK(BN_bin2bn(p_bytes.data(), static_cast<int>(p_bytes.size()), impl->p.get()));
  FEDRA_CHECK(BN_bin2bn(q_bytes.data(), static_cast<int>(q_bytes.size()), impl->q.get()));
  if (BN_cmp(impl->p.get(), impl->q.get()) > 0) std::swap(impl->p, impl->q);
  const int pbits = BN_num_bits(impl->p.get());
  const int qbits = BN_num_bits(impl->q.get());
  if (pbits != qbits) {
    return InvalidArgumentError("Paillier primes have " + std::to_string(pbits) + " and " +
                                std::to_string(qbits) + " bits (expected equal lengths)");
  }
  if (BN_cmp(impl->p.get(), impl->q.get()) == 0) {
    return InvalidArgumentError("Paillier primes p and q are equal (expected distinct primes)");
  }
  if (pbits < 32) {
    return InvalidArgumentError("Paillier primes of " + std::to_string(pbits) +
                                " bits are too small (expected 1024 or 1536)");
  }
  for (const BIGNUM* x : {impl->p.get(), impl->q.get()}) {
    if (BN_check_prime(x, ctx.get(), nullptr) != 1) {
      return InvalidArgumentError("Paillier secret key: p or q is not prime");
    }
  }
  Bn n = internal::NewBn();
  FEDRA_CHECK(BN_mul(n.get(), impl->p.get(), impl->q.get(), ctx.get()) == 1);
  impl->pm1 = internal::CopyBn(impl->p.get());
  impl->qm1 = internal::CopyBn(impl->q.get());
  FEDRA_CHECK(BN_sub_word(impl->pm1.get(), 1) == 1);
  FEDRA_CHECK(BN_sub_word(impl->qm1.get(), 1) == 1);
  {
    // Paillier needs gcd(n, (p-1)(q-1)) = 1; automatic for equal-length primes, checked anyway.
    Bn phi = NewSecretBn();
    Bn g = NewSecretBn();
    FEDRA_CHECK(BN_mul(phi.get(), impl->pm1.get(), impl->qm1.get(), ctx.get()) == 1);
    FEDRA_CHECK(BN_gcd(g.get(), phi.get(), n.get(), ctx.get()) == 1);
    if (!BN_is_one(g.get())) {
      return InvalidArgumentError("Paillier primes give gcd(n, phi(n)) != 1");
    }
  }
  FEDRA_ASSIGN_OR_RETURN(
      PublicKey pub,
      PublicKey::FromModulus(internal::ToBytes(n.get(), static_cast<size_t>(BN_num_bytes(n.get()))),
                             options));
  for (Bn* b : {&impl->p, &impl->q, &impl->pm1, &impl->qm1}) {
    BN_set_flags(b->get(), BN_FLG_CONSTTIME);
  }
  impl->p2 = NewSecretBn();
  impl->q2 = NewSecretBn();
  FEDRA_CHECK(BN_sqr(impl->p2.get(), impl->p.get(), ctx.get()) == 1);
  FEDRA_CHECK(BN_sqr(impl->q2.get(), impl->q.get(), ctx.get()) == 1);
  impl->mont_p2 = internal::NewMont(impl->p2.get(), ctx.get());
  impl->mont_q2 = internal::NewMont(impl->q2.get(), ctx.get());
  impl->mont_p = internal::NewMont(impl->p.get(), ctx.get());
  impl->mont_q = internal::NewMont(impl->q.get(), ctx.get());
  impl->hp = internal::HFunction(n.get(), impl->p.get(), impl->pm1.get(), impl->p2.get(),
                                 impl->mont_p2.get(), ctx.get());
  impl->hq = internal::HFunction(n.get(), impl->q.get(), impl->qm1.get(), impl->q2.get(),
                                 impl->mont_q2.get(), ctx.get());
  impl->q_inv_p = NewSecretBn();
  FEDRA_CHECK(BN_mod_inverse(impl->q_inv_p.get(), impl->q.get(), impl->p.get(), ctx.get()));
  impl->q2_inv_p2 = NewSecretBn();
  FEDRA_CHECK(BN_mod_inverse(impl->q2_inv_p2.get(), impl->q2.get(), impl->p2.get(), ctx.get()));
  impl->q2_inv_p2_mont = NewSecretBn();
  FEDRA_CHECK(BN_to_montgomery(impl->q2_inv_p2_mont.get(), impl->q2_inv_p2.get(),
                               impl->mont_p2.get(), ctx.get()) == 1);
  {
    // Tables of the public key's own h_s, so CRT and public encryptions are the same function
    // of alpha.
    const internal::PublicKeyImpl& pk = pub.impl();
    Bn hx = NewSecretBn();
    for (bool is_p : {true, false}) {
      const BIGNUM* x2 = is_p ? impl->p2.get() : impl->q2.get();
      BN_MONT_CTX* mont = is_p ? impl->mont_p2.get() : impl->mont_q2.get();
      FEDRA_CHECK(BN_nnmod(hx.get(), pk.hs.get(), x2, ctx.get()) == 1);
      auto table = std::make_unique<internal::FixedBaseTable>(
          hx.get(), x2, mont, options.alpha_bits, options.window_bits, ctx.get());
      (is_p ? impl->table_p2 : impl->table_q2) = std::move(table);
    }
  }
  impl->n_mod_phi_p2 = NewSecretBn();
  impl->n_mod_phi_q2 = NewSecretBn();
  {
    Bn order = NewSecretBn();
    FEDRA_CHECK(BN_mul(order.get(), impl->p.get(), impl->pm1.get(), ctx.get()) == 1);
    FEDRA_CHECK(BN_nnmod(impl->n_mod_phi_p2.get(), n.get(), order.get(), ctx.get()) == 1);
    FEDRA_CHECK(BN_mul(order.get(), impl->q.get(), impl->qm1.get(), ctx.get()) == 1);
    FEDRA_CHECK(BN_nnmod(impl->n_mod_phi_q2.get(), n.get(), order.get(), ctx.get()) == 1);
  }
  impl->pub.emplace(std::move(pub));
  return SecretKey(std::move(impl));
}

const PublicKey& SecretKey::public_key() const { return *impl_->pub; }

StatusOr<BigBytes> SecretKey::Decrypt(const Ciphertext& c) const {
  const internal::PublicKeyImpl& pub = public_key().impl();
  FEDRA_ASSIGN_OR_RETURN(Bn cb, internal::CiphertextToBn(pub, c));
  BnCtx ctx = NewCtx();
  FEDRA_RETURN_IF_ERROR(internal::CheckDecryptable(pub, cb.get(), ctx.get()));
  Bn m = NewSecretBn();
  internal::DecryptBn(*impl_, cb.get(), m.get(), ctx.get());
  return internal::ToBytes(m.get(), pub.n_bytes);
}

StatusOr<std::vector<BigBytes>> SecretKey::DecryptBatch(std::span<const Ciphertext> cs,
                                                        ThreadPool* pool) const {
  const internal::PublicKeyImpl& pub = public_key().impl();
  {
    BnCtx ctx = NewCtx();
    for (const Ciphertext& c : cs) {
      FEDRA_ASSIGN_OR_RETURN(Bn cb, internal::CiphertextToBn(pub, c));
      FEDRA_RETURN_IF_ERROR(internal::CheckDecryptable(pub, cb.get(), ctx.get()));
    }
  }
  std::vector<BigBytes> out(cs.size());
  internal::ParallelFor(cs.size(), pool, [&](size_t begin, size_t end, BN_CTX* ctx) {
    Bn m = NewSecretBn();
    for (size_t i = begin; i < end; ++i) {
      Bn cb = internal::FromBytes(cs[i].bytes);
      internal::DecryptBn(*impl_, cb.get(), m.get(), ctx);
      out[i] = internal::ToBytes(m.get(), pub.n_bytes);
    }
  });
  return out;
}

StatusOr<Ciphertext> SecretKey::Encrypt(std::span<const uint8_t> m) const {
  const internal::PublicKeyImpl& pub = public_key().impl();
  FEDRA_ASSIGN_OR_RETURN(Bn mb, internal::PlaintextToBn(pub, m));
  BnCtx ctx = NewCtx();
  Bn c = internal::NewBn();
  internal::EncryptCrtBn(*impl_, mb.get(), c.get(), ctx.get());
  return internal::BnToCiphertext(pub, c.get());
}

StatusOr<std::vector<Ciphertext>> SecretKey::EncryptBatch(std::span<const BigBytes> plaintexts,
                                                          ThreadPool* pool) const {
  const internal::PublicKeyImpl& pub = public_key().impl();
  std::vector<Bn> ms;
  ms.reserve(plaintexts.size());
  for (const BigBytes& p : plaintexts) {
    FEDRA_ASSIGN_OR_RETURN(Bn b, internal::PlaintextToBn(pub, p));
    ms.push_back(std::move(b));
  }
  std::vector<Ciphertext> out(plaintexts.size());
  internal::ParallelFor(ms.size(), pool, [&](size_t begin, size_t end, BN_CTX* ctx) {
    Bn c = internal::NewBn();
    for (size_t i = begin; i < end; ++i) {
      internal::EncryptCrtBn(*impl_, ms[i].get(), c.get(), ctx);
      out[i] = internal::BnToCiphertext(pub, c.get());
    }
  });
  return out;
}

StatusOr<Ciphertext> SecretKey::EncryptCrt(std::span<const uint8_t> m) const {
  const internal::PublicKeyImpl& pub = public_key().impl();
  Bn mb = internal::FromBytes(m);
  if (BN_cmp(mb.get(), pub.n.get()) >= 0) {
    return InvalidArgumentError("Paillier plaintext is not below the modulus n");
  }
  BnCtx ctx = NewCtx();
  Bn r = NewSecretBn();
  internal::RandomNonZeroBelow(pub.n.get(), r.get(), ctx.get());
  Bn xp = NewSecretBn();
  Bn xq = NewSecretBn();
  internal::HalfPowN(r.get(), impl_->p2.get(), impl_->n_mod_phi_p2.get(), impl_->mont_p2.get(),
                     xp.get(), ctx.get());
  internal::HalfPowN(r.get(), impl_->q2.get(), impl_->n_mod_phi_q2.get(), impl_->mont_q2.get(),
                     xq.get(), ctx.get());
  // x = x_q + q^2 ((x_p - x_q) (q^2)^-1 mod p^2) = r^n mod n^2
  Bn x = NewSecretBn();
  FEDRA_CHECK(BN_mod_sub(x.get(), xp.get(), xq.get(), impl_->p2.get(), ctx.get()) == 1);
  FEDRA_CHECK(BN_mod_mul(x.get(), x.get(), impl_->q2_inv_p2.get(), impl_->p2.get(), ctx.get()));
  FEDRA_CHECK(BN_mul(x.get(), x.get(), impl_->q2.get(), ctx.get()) == 1);
  FEDRA_CHECK(BN_add(x.get(), x.get(), xq.get()) == 1);
  Bn t = internal::NewBn();
  FEDRA_CHECK(BN_mul(t.get(), mb.get(), pub.n.get(), ctx.get()) == 1);
  FEDRA_CHECK(BN_add_word(t.get(), 1) == 1);
  FEDRA_CHECK(BN_mod_mul(x.get(), x.get(), t.get(), pub.n2.get(), ctx.get()) == 1);
  return internal::BnToCiphertext(pub, x.get());
}

BigBytes SecretKey::p() const {
  return internal::ToBytes(impl_->p.get(), static_cast<size_t>(BN_num_bytes(impl_->p.get())));
}
BigBytes SecretKey::q() const {
  return internal::ToBytes(impl_->q.get(), static_cast<size_t>(BN_num_bytes(impl_->q.get())));
}

StatusOr<SecretKey> GenerateKeyPair(const KeyGenOptions& options) {
  const int bits = options.modulus_bits;
  PublicKeyOptions public_options = options.public_options;
  public_options.allow_small_for_testing |= options.allow_small_for_testing;
  const bool standard = bits == 2048 || bits == 3072;
  const bool small_ok =
      public_options.allow_small_for_testing && bits >= 256 && bits <= 1536 && bits % 64 == 0;
  if (!standard && !small_ok) {
    return InvalidArgumentError("Paillier modulus of " + std::to_string(bits) +
                                " bits is not supported (expected 2048 or 3072)");
  }
  BnCtx ctx = NewCtx();
  internal::KeygenProgress progress;
  progress.bits = bits;
  BN_GENCB* cb = BN_GENCB_new();
  FEDRA_CHECK(cb != nullptr);
  BN_GENCB_set(cb, internal::KeygenCallback, &progress);
  for (;;) {
    progress.prime = 1;
    Bn p = internal::GeneratePrime(bits / 2, cb, ctx.get());
    progress.prime = 2;
    Bn q = internal::GeneratePrime(bits / 2, cb, ctx.get());
    Bn n = internal::NewBn();
    FEDRA_CHECK(BN_mul(n.get(), p.get(), q.get(), ctx.get()) == 1);
    if (BN_cmp(p.get(), q.get()) == 0 || BN_num_bits(n.get()) != bits) continue;
    BN_GENCB_free(cb);
    const auto elapsed = std::chrono::duration<double>(internal::Clock::now() - progress.start);
    if (elapsed > std::chrono::seconds(1)) {
      Logger("paillier")->info("generated {}-bit Paillier key in {:.1f} s", bits, elapsed.count());
    }
    const size_t half = static_cast<size_t>(BN_num_bytes(p.get()));
    return SecretKey::FromPrimes(internal::ToBytes(p.get(), half), internal::ToBytes(q.get(), half),
                                 public_options);
  }
}

}  // namespace fedra::paillier
