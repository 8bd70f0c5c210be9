#include "fedra/privacy/dp/gaussian_noise.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <cmath>
#include <cstring>
#include <numbers>

namespace fedra::dp {

struct GaussianNoise::Cipher {
  EVP_CIPHER_CTX* ctx = nullptr;
  ~Cipher() { EVP_CIPHER_CTX_free(ctx); }
};

GaussianNoise::GaussianNoise(std::unique_ptr<Cipher> cipher) : cipher_(std::move(cipher)) {
  pos_ = buffer_.size();  // refill on first use
}
GaussianNoise::GaussianNoise(GaussianNoise&&) noexcept = default;
GaussianNoise& GaussianNoise::operator=(GaussianNoise&&) noexcept = default;
GaussianNoise::~GaussianNoise() = default;

StatusOr<GaussianNoise> GaussianNoise::FromKey(const std::array<uint8_t, 32>& key) {
  auto cipher = std::make_unique<Cipher>();
  cipher->ctx = EVP_CIPHER_CTX_new();
  // ChaCha20's 16-byte IV: a 32-bit block counter then a 96-bit nonce; all zero is fine
  // because every key is fresh.
  const std::array<uint8_t, 16> iv{};
  if (cipher->ctx == nullptr ||
      EVP_EncryptInit_ex(cipher->ctx, EVP_chacha20(), nullptr, key.data(), iv.data()) != 1) {
    return InternalError("OpenSSL could not set up ChaCha20 for DP noise");
  }
  return GaussianNoise(std::move(cipher));
}

StatusOr<GaussianNoise> GaussianNoise::FromOsEntropy() {
  std::array<uint8_t, 32> key;
  if (RAND_priv_bytes(key.data(), static_cast<int>(key.size())) != 1)
    return InternalError("OpenSSL RAND_priv_bytes failed to key the DP noise generator");
  return FromKey(key);
}

StatusOr<GaussianNoise> GaussianNoise::FromSeed(uint64_t seed, uint64_t stream) {
  static constexpr char kLabel[] = "fedra dp noise v1";
  uint8_t input[sizeof kLabel + 16];
  std::memcpy(input, kLabel, sizeof kLabel);
  for (int i = 0; i < 8; ++i) {
    input[sizeof kLabel + i] = static_cast<uint8_t>(seed >> (8 * i));
    input[sizeof kLabel + 8 + i] = static_cast<uint8_t>(stream >> (8 * i));
  }
  std::array<uint8_t, 32> key;
  SHA256(input, sizeof input, key.data());
  return FromKey(key);
}

void GaussianNoise::Refill() {
  // Encrypting zeros yields the raw keystream.
  std::memset(buffer_.data(), 0, buffer_.size());
  int len = 0;
  const int ok = EVP_EncryptUpdate(cipher_->ctx, buffer_.data(), &len, buffer_.data(),
                                   static_cast<int>(buffer_.size()));
  FEDRA_CHECK_MSG(ok == 1 && len == static_cast<int>(buffer_.size()), "ChaCha20 keystream");
  pos_ = 0;
}

uint64_t GaussianNoise::NextU64() {
  if (pos_ + 8 > buffer_.size()) Refill();
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(buffer_[pos_ + i]) << (8 * i);
  pos_ += 8;
  return v;
}

double GaussianNoise::Normal() {
  if (has_spare_) {
    has_spare_ = false;
    return spare_;
  }
  // u1 in (0, 1] so log(u1) is finite; u2 in [0, 1).
  const double u1 = (static_cast<double>(NextU64() >> 11) + 1.0) * 0x1.0p-53;
  const double u2 = static_cast<double>(NextU64() >> 11) * 0x1.0p-53;
  const double r = std::sqrt(-2.0 * std::log(u1));
  const double theta = 2.0 * std::numbers::pi * u2;
  spare_ = r * std::sin(theta);
  has_spare_ = true;
  return r * std::cos(theta);
}

void GaussianNoise::AddTo(std::span<float> x, double stddev) {
  FEDRA_CHECK(stddev >= 0);
  if (stddev == 0) return;
  for (float& v : x) v = static_cast<float>(static_cast<double>(v) + stddev * Normal());
}

}  // namespace fedra::dp
