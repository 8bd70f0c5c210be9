#include "fedra/privacy/secagg/prg.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>

#include "privacy/secagg/word_ops.h"

namespace fedra::secagg {
namespace {

static_assert(std::endian::native == std::endian::little,
              "mask words are read as little-endian uint32");

// Keystream is produced in blocks this size: small enough for L1, large enough that the
// per-call overhead of EVP_EncryptUpdate vanishes.
constexpr size_t kBlockWords = 4096;

const EVP_CIPHER* CtrCipher() {
  static EVP_CIPHER* cipher = EVP_CIPHER_fetch(nullptr, "AES-256-CTR", nullptr);
  return cipher;
}

}  // namespace

struct Prg::Ctx {
  EVP_CIPHER_CTX* cipher = nullptr;
  // Unused keystream bytes of the last 64-byte refill, for Fill()/NextU64() on small sizes.
  uint8_t pool[64];
  size_t pool_used = sizeof(pool);
  ~Ctx() { EVP_CIPHER_CTX_free(cipher); }

  // The next n bytes of keystream: CTR encryption of zeros, read from a constant block so
  // no memset pass is needed.
  void Keystream(uint8_t* out, size_t n) {
    static const std::array<uint8_t, kBlockWords * sizeof(uint32_t)> kZeros{};
    for (size_t done = 0; done < n;) {
      const size_t len = std::min(n - done, kZeros.size());
      int written = 0;
      FEDRA_CHECK(EVP_EncryptUpdate(cipher, out + done, &written, kZeros.data(),
                                    static_cast<int>(len)) == 1);
      done += len;
    }
  }
};

Prg::Prg(const Key256& key) : ctx_(std::make_unique<Ctx>()) {
  const uint8_t iv[16] = {};
  ctx_->cipher = EVP_CIPHER_CTX_new();
  FEDRA_CHECK(ctx_->cipher != nullptr && CtrCipher() != nullptr);
  FEDRA_CHECK(EVP_EncryptInit_ex2(ctx_->cipher, CtrCipher(), key.data(), iv, nullptr) == 1);
}

StatusOr<Prg> Prg::FromSystem() {
  Key256 key;
  FEDRA_RETURN_IF_ERROR(SystemRandomBytes(key));
  Prg prg(key);
  OPENSSL_cleanse(key.data(), key.size());
  return prg;
}

Prg::~Prg() = default;
Prg::Prg(Prg&& other) noexcept = default;
Prg& Prg::operator=(Prg&& other) noexcept = default;

void Prg::Fill(std::span<uint8_t> out) {
  size_t done = 0;
  while (done < out.size()) {
    if (ctx_->pool_used == sizeof(ctx_->pool)) {
      // Large requests bypass the pool.
      const size_t direct = (out.size() - done) / sizeof(ctx_->pool) * sizeof(ctx_->pool);
      if (direct > 0) {
        ctx_->Keystream(out.data() + done, direct);
        done += direct;
        continue;
      }
      ctx_->Keystream(ctx_->pool, sizeof(ctx_->pool));
      ctx_->pool_used = 0;
    }
    const size_t take = std::min(out.size() - done, sizeof(ctx_->pool) - ctx_->pool_used);
    std::memcpy(out.data() + done, ctx_->pool + ctx_->pool_used, take);
    ctx_->pool_used += take;
    done += take;
  }
}

uint64_t Prg::NextU64() {
  uint64_t v;
  Fill(std::span<uint8_t>(reinterpret_cast<uint8_t*>(&v), sizeof(v)));
  return v;
}

uint64_t Prg::UniformBelow(uint64_t bound) {
  FEDRA_CHECK(bound > 0);
  // Largest multiple of bound that fits in 2^64, minus one: accept below it.
  const uint64_t limit = ~uint64_t{0} - (~uint64_t{0} % bound + 1) % bound;
  for (;;) {
    const uint64_t v = NextU64();
    if (v <= limit) return v % bound;
  }
}

template <bool kAdd>
void Prg::Accumulate(std::span<uint32_t> acc) {
  // Masks are used from the start of the stream; the byte pool is for Fill()/NextU64() only
  // and must not be mixed in, or client and server would expand different words.
  FEDRA_CHECK(ctx_->pool_used == sizeof(ctx_->pool));
  alignas(64) uint32_t block[kBlockWords];
  for (size_t start = 0; start < acc.size(); start += kBlockWords) {
    const size_t n = std::min(kBlockWords, acc.size() - start);
    ctx_->Keystream(reinterpret_cast<uint8_t*>(block), n * sizeof(uint32_t));
    internal::AccumulateWords<kAdd>(acc.data() + start, block, n);
  }
}

void Prg::AddTo(std::span<uint32_t> acc) { Accumulate<true>(acc); }
void Prg::SubtractFrom(std::span<uint32_t> acc) { Accumulate<false>(acc); }

void AddMask(const Key256& key, int sign, std::span<uint32_t> acc) {
  Prg prg(key);
  if (sign >= 0) {
    prg.AddTo(acc);
  } else {
    prg.SubtractFrom(acc);
  }
}

}  // namespace fedra::secagg
