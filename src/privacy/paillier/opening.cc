#include "fedra/privacy/paillier/opening.h"

#include <openssl/rand.h>

#include <cstring>
#include <mutex>
#include <utility>

#include "privacy/paillier/key_impl.h"

namespace fedra::paillier {

using internal::Bn;
using internal::BnCtx;
using internal::NewBn;
using internal::NewCtx;
using internal::NewSecretBn;

namespace {

// x^(n^-1 mod (x - 1)) mod x: the n-th root of c modulo the prime x.
void HalfRoot(const BIGNUM* c, const BIGNUM* x, const BIGNUM* d, BN_MONT_CTX* mont_x, BIGNUM* out,
              BN_CTX* ctx) {
  Bn cx = NewSecretBn();
  FEDRA_CHECK(BN_nnmod(cx.get(), c, x, ctx) == 1);
  FEDRA_CHECK(BN_mod_exp_mont_consttime(out, cx.get(), d, x, ctx, mont_x) == 1);
}

Bn InverseOfNModulo(const BIGNUM* n, const BIGNUM* xm1, BN_CTX* ctx) {
  Bn reduced = NewSecretBn();
  FEDRA_CHECK(BN_nnmod(reduced.get(), n, xm1, ctx) == 1);
  Bn d = NewSecretBn();
  // Equal-length primes make gcd(n, phi(n)) = 1, so the inverse exists.
  FEDRA_CHECK_MSG(BN_mod_inverse(d.get(), reduced.get(), xm1, ctx) != nullptr,
                  "n is not invertible modulo p - 1: not a Paillier key");
  return d;
}

}  // namespace

StatusOr<std::vector<Opening>> OpenBatch(const SecretKey& key, std::span<const Ciphertext> cs,
                                         ThreadPool* pool) {
  const internal::SecretKeyImpl& sk = key.impl();
  const internal::PublicKeyImpl& pub = key.public_key().impl();
  Bn dp, dq;
  {
    BnCtx ctx = NewCtx();
    for (const Ciphertext& c : cs) {
      FEDRA_ASSIGN_OR_RETURN(Bn cb, internal::CiphertextToBn(pub, c));
      FEDRA_RETURN_IF_ERROR(internal::CheckDecryptable(pub, cb.get(), ctx.get()));
    }
    dp = InverseOfNModulo(pub.n.get(), sk.pm1.get(), ctx.get());
    dq = InverseOfNModulo(pub.n.get(), sk.qm1.get(), ctx.get());
  }
  std::vector<Opening> out(cs.size());
  internal::ParallelFor(cs.size(), pool, [&](size_t begin, size_t end, BN_CTX* ctx) {
    Bn m = NewSecretBn();
    Bn rp = NewSecretBn();
    Bn rq = NewSecretBn();
    Bn t = NewSecretBn();
    for (size_t i = begin; i < end; ++i) {
      Bn cb = internal::FromBytes(cs[i].bytes);
      internal::DecryptBn(sk, cb.get(), m.get(), ctx);
      // c = (1 + m n) r^n, and 1 + m n = 1 mod n, so r^n = c mod n: r is the n-th root of c
      // modulo p and modulo q, recombined by CRT as in DecryptBn.
      HalfRoot(cb.get(), sk.p.get(), dp.get(), sk.mont_p.get(), rp.get(), ctx);
      HalfRoot(cb.get(), sk.q.get(), dq.get(), sk.mont_q.get(), rq.get(), ctx);
      FEDRA_CHECK(BN_nnmod(t.get(), rq.get(), sk.p.get(), ctx) == 1);
      FEDRA_CHECK(BN_sub(t.get(), sk.p.get(), t.get()) == 1);
      FEDRA_CHECK(BN_mod_add_quick(t.get(), t.get(), rp.get(), sk.p.get()) == 1);
      FEDRA_CHECK(BN_mod_mul(t.get(), t.get(), sk.q_inv_p.get(), sk.p.get(), ctx) == 1);
      FEDRA_CHECK(BN_mul(t.get(), t.get(), sk.q.get(), ctx) == 1);
      FEDRA_CHECK(BN_add(t.get(), t.get(), rq.get()) == 1);
      out[i].m = internal::ToBytes(m.get(), pub.n_bytes);
      out[i].r = internal::ToBytes(t.get(), pub.n_bytes);
    }
  });
  return out;
}

Status VerifyOpenings(const PublicKey& key, std::span<const Ciphertext> cs,
                      std::span<const Opening> openings, ThreadPool* pool) {
  const internal::PublicKeyImpl& pub = key.impl();
  if (openings.size() != cs.size()) {
    return InvalidArgumentError("expected " + std::to_string(cs.size()) + " openings, got " +
                                std::to_string(openings.size()));
  }
  BnCtx ctx = NewCtx();
  std::vector<Bn> c(cs.size()), m(cs.size()), r(cs.size()), e(cs.size());
  for (size_t i = 0; i < cs.size(); ++i) {
    FEDRA_ASSIGN_OR_RETURN(c[i], internal::CiphertextToBn(pub, cs[i]));
    if (openings[i].m.size() != pub.n_bytes || openings[i].r.size() != pub.n_bytes) {
      return InvalidArgumentError("opening " + std::to_string(i) + " is not " +
                                  std::to_string(pub.n_bytes) + " + " +
                                  std::to_string(pub.n_bytes) + " bytes");
    }
    m[i] = internal::FromBytes(openings[i].m);
    r[i] = internal::FromBytes(openings[i].r);
    if (BN_cmp(m[i].get(), pub.n.get()) >= 0) {
      return InvalidArgumentError("opening " + std::to_string(i) + ": plaintext is not below n");
    }
    if (BN_is_zero(r[i].get()) || BN_cmp(r[i].get(), pub.n.get()) >= 0) {
      return InvalidArgumentError("opening " + std::to_string(i) + ": r is not in [1, n)");
    }
    // Drawn after the answer arrived, so the prover cannot aim at them.
    unsigned char bytes[16];
    if (RAND_bytes(bytes, sizeof bytes) != 1) return InternalError("RAND_bytes failed");
    e[i] = internal::FromBytes(bytes);
  }
  internal::Mont mont_n = internal::NewMont(pub.n.get(), ctx.get());
  Bn a = internal::BnFromU64(1);   // prod c_i^e_i mod n^2
  Bn rr = internal::BnFromU64(1);  // prod r_i^e_i mod n
  Bn sum = NewBn();                // sum e_i m_i mod n
  std::mutex mu;
  internal::ParallelFor(cs.size(), pool, [&](size_t begin, size_t end, BN_CTX* cx) {
    Bn pa = internal::BnFromU64(1), pr = internal::BnFromU64(1), ps = NewBn(), t = NewBn();
    for (size_t i = begin; i < end; ++i) {
      FEDRA_CHECK(BN_mod_exp_mont(t.get(), c[i].get(), e[i].get(), pub.n2.get(), cx,
                                  pub.mont_n2.get()) == 1);
      FEDRA_CHECK(BN_mod_mul(pa.get(), pa.get(), t.get(), pub.n2.get(), cx) == 1);
      FEDRA_CHECK(BN_mod_exp_mont(t.get(), r[i].get(), e[i].get(), pub.n.get(), cx, mont_n.get()) ==
                  1);
      FEDRA_CHECK(BN_mod_mul(pr.get(), pr.get(), t.get(), pub.n.get(), cx) == 1);
      FEDRA_CHECK(BN_mod_mul(t.get(), m[i].get(), e[i].get(), pub.n.get(), cx) == 1);
      FEDRA_CHECK(BN_mod_add(ps.get(), ps.get(), t.get(), pub.n.get(), cx) == 1);
    }
    std::lock_guard<std::mutex> lock(mu);
    BnCtx own = NewCtx();
    FEDRA_CHECK(BN_mod_mul(a.get(), a.get(), pa.get(), pub.n2.get(), own.get()) == 1);
    FEDRA_CHECK(BN_mod_mul(rr.get(), rr.get(), pr.get(), pub.n.get(), own.get()) == 1);
    FEDRA_CHECK(BN_mod_add(sum.get(), sum.get(), ps.get(), pub.n.get(), own.get()) == 1);
  });
  // (1 + sum n) rr^n mod n^2; r^n mod n^2 depends only on r mod n.
  Bn rhs = NewBn();
  FEDRA_CHECK(BN_mod_exp_mont(rhs.get(), rr.get(), pub.n.get(), pub.n2.get(), ctx.get(),
                              pub.mont_n2.get()) == 1);
  Bn g = NewBn();
  FEDRA_CHECK(BN_mul(g.get(), sum.get(), pub.n.get(), ctx.get()) == 1);
  FEDRA_CHECK(BN_add_word(g.get(), 1) == 1);
  FEDRA_CHECK(BN_mod_mul(rhs.get(), rhs.get(), g.get(), pub.n2.get(), ctx.get()) == 1);
  if (BN_cmp(rhs.get(), a.get()) != 0) {
    return DataLossError(
        "the decryption does not match the ciphertexts: (1 + m n) r^n != c for at least one of " +
        std::to_string(cs.size()) + " ciphertexts");
  }
  return OkStatus();
}

std::string SerializeOpenings(const PublicKey& key, std::span<const Opening> openings) {
  const size_t w = key.modulus_bytes();
  std::string out(2 * w * openings.size(), '\0');
  for (size_t i = 0; i < openings.size(); ++i) {
    FEDRA_CHECK(openings[i].m.size() == w && openings[i].r.size() == w);
    std::memcpy(out.data() + i * w, openings[i].m.data(), w);
    std::memcpy(out.data() + (openings.size() + i) * w, openings[i].r.data(), w);
  }
  return out;
}

StatusOr<std::vector<Opening>> ParseOpenings(const PublicKey& key, std::string_view bytes,
                                             size_t count) {
  const size_t w = key.modulus_bytes();
  if (count > bytes.size() / (2 * w) || bytes.size() != 2 * w * count) {
    return InvalidArgumentError("a decryption of " + std::to_string(count) +
                                " ciphertexts must have " + std::to_string(2 * w * count) +
                                " bytes, got " + std::to_string(bytes.size()));
  }
  std::vector<Opening> out(count);
  for (size_t i = 0; i < count; ++i) {
    const auto* m = reinterpret_cast<const uint8_t*>(bytes.data()) + i * w;
    const auto* r = reinterpret_cast<const uint8_t*>(bytes.data()) + (count + i) * w;
    out[i].m.assign(m, m + w);
    out[i].r.assign(r, r + w);
  }
  return out;
}

}  // namespace fedra::paillier
