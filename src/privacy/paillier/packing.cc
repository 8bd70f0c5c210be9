#include "fedra/privacy/paillier/packing.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <string>

namespace fedra::paillier {
namespace {

constexpr int kMaxSlotBits = 62;

uint64_t Fnv1a(uint64_t h, uint64_t v) {
  for (int i = 0; i < 8; ++i) {
    h ^= (v >> (8 * i)) & 0xff;
    h *= 0x100000001b3ull;
  }
  return h;
}

// Little-endian 64-bit words of a big-endian byte string.
std::vector<uint64_t> ToWords(std::span<const uint8_t> be, size_t words) {
  std::vector<uint64_t> w(words, 0);
  const size_t n = be.size();
  for (size_t k = 0; k < n && k / 8 < words; ++k) {
    w[k / 8] |= static_cast<uint64_t>(be[n - 1 - k]) << (8 * (k % 8));
  }
  return w;
}

BigBytes FromWords(const std::vector<uint64_t>& w, size_t width) {
  BigBytes be(width, 0);
  for (size_t k = 0; k < width && k / 8 < w.size(); ++k) {
    be[width - 1 - k] = static_cast<uint8_t>(w[k / 8] >> (8 * (k % 8)));
  }
  return be;
}

void PutSlot(std::vector<uint64_t>& w, size_t bit, int bits, uint64_t v) {
  const size_t word = bit / 64;
  const unsigned shift = bit % 64;
  w[word] |= v << shift;
  if (shift + static_cast<unsigned>(bits) > 64) w[word + 1] |= v >> (64 - shift);
}

uint64_t GetSlot(const std::vector<uint64_t>& w, size_t bit, int bits) {
  const size_t word = bit / 64;
  const unsigned shift = bit % 64;
  uint64_t v = w[word] >> shift;
  if (shift + static_cast<unsigned>(bits) > 64) v |= w[word + 1] << (64 - shift);
  return v & ((uint64_t{1} << bits) - 1);
}

}  // namespace

StatusOr<Packer> Packer::Create(const PackingConfig& config, int modulus_bits) {
  if (!(config.max_abs_value > 0) || !std::isfinite(config.max_abs_value)) {
    return InvalidArgumentError("packing max_abs_value must be finite and > 0");
  }
  if (config.max_weight < 1 || config.max_clients < 1) {
    return InvalidArgumentError("packing max_weight and max_clients must be >= 1");
  }
  if (config.precision_bits < 0 || config.precision_bits > 52) {
    return InvalidArgumentError("packing precision_bits " + std::to_string(config.precision_bits) +
                                " is out of range (expected 0..52)");
  }
  const double q_real = std::ldexp(static_cast<double>(config.max_weight) * config.max_abs_value,
                                   config.precision_bits);
  if (q_real >= std::ldexp(1.0, 52)) {
    return InvalidArgumentError(
        "packing max_weight * max_abs_value * 2^precision_bits must be below 2^52");
  }
  Packer p;
  p.config_ = config;
  p.modulus_bits_ = modulus_bits;
  p.offset_ = static_cast<uint64_t>(std::ceil(q_real)) + 1;
  // A slot must hold 2 Q K (values) and K max_weight (the weight slot) without reaching 2^bits.
  const uint64_t limit = (uint64_t{1} << kMaxSlotBits) - 1;
  if (2 * p.offset_ > limit / config.max_clients) {
    return InvalidArgumentError(
        "packing slot would need more than " + std::to_string(kMaxSlotBits) +
        " bits; lower precision_bits, max_weight, max_abs_value or max_clients");
  }
  const uint64_t value_max = 2 * p.offset_ * config.max_clients;
  const uint64_t weight_max = static_cast<uint64_t>(config.max_weight) * config.max_clients;
  const int bits = static_cast<int>(std::bit_width(std::max(value_max, weight_max)));
  p.slot_bits_ = bits;
  // Slots fill at most modulus_bits - 1 bits, so every packed sum stays below n.
  p.slots_ = static_cast<size_t>((modulus_bits - 1) / bits);
  if (p.slots_ < 2) {
    return InvalidArgumentError("a " + std::to_string(modulus_bits) + "-bit modulus holds fewer " +
                                "than 2 slots of " + std::to_string(bits) + " bits");
  }
  uint64_t h = 0xcbf29ce484222325ull;
  h = Fnv1a(h, std::bit_cast<uint64_t>(config.max_abs_value));
  h = Fnv1a(h, config.max_weight);
  h = Fnv1a(h, static_cast<uint64_t>(config.precision_bits));
  h = Fnv1a(h, config.max_clients);
  h = Fnv1a(h, static_cast<uint64_t>(bits));
  h = Fnv1a(h, p.slots_);
  p.fingerprint_ = h;
  return p;
}

size_t Packer::NumPlaintexts(size_t num_values) const {
  return (num_values + 1 + slots_ - 1) / slots_;
}

double Packer::SumErrorBound(uint32_t contributions) const {
  const double k = contributions;
  return k *
         (std::ldexp(1.0, -(config_.precision_bits + 1)) +
          static_cast<double>(config_.max_weight) * config_.max_abs_value * std::ldexp(1.0, -52));
}

StatusOr<std::vector<BigBytes>> Packer::Pack(std::span<const float> values, uint32_t weight,
                                             size_t width) const {
  if (weight < 1 || weight > config_.max_weight) {
    // The message travels to the server's log: it names the limit, never the client's value.
    return InvalidArgumentError("this client's weight (its example count) is outside 1.." +
                                std::to_string(config_.max_weight) +
                                ", the configured PackingConfig::max_weight");
  }
  if (width * 8 < static_cast<size_t>(modulus_bits_)) {
    return InvalidArgumentError("plaintext width too small for the packing modulus");
  }
  const double scale = std::ldexp(static_cast<double>(weight), config_.precision_bits);
  const size_t words = (width + 7) / 8 + 1;
  const size_t count = NumPlaintexts(values.size());
  std::vector<BigBytes> out;
  out.reserve(count);
  std::vector<uint64_t> w(words, 0);
  const int64_t q = static_cast<int64_t>(offset_);
  for (size_t g = 0; g < values.size() + 1; ++g) {
    uint64_t slot;
    if (g == 0) {
      slot = weight;
    } else {
      const float v = values[g - 1];
      if (!std::isfinite(v) || std::fabs(v) > config_.max_abs_value) {
        // Neither the value nor its position: the message reaches the server's log.
        return InvalidArgumentError("an update value is not finite or outside [-" +
                                    std::to_string(config_.max_abs_value) + ", " +
                                    std::to_string(config_.max_abs_value) +
                                    "], the configured max_abs_value (clip the update first, "
                                    "or raise fedra-server --paillier-max-abs)");
      }
      const int64_t fixed = std::llround(scale * static_cast<double>(v));
      FEDRA_CHECK(fixed >= -q && fixed <= q);
      slot = static_cast<uint64_t>(fixed + q);
    }
    const size_t pos = g % slots_;
    PutSlot(w, pos * static_cast<size_t>(slot_bits_), slot_bits_, slot);
    if (pos + 1 == slots_ || g == values.size()) {
      out.push_back(FromWords(w, width));
      std::fill(w.begin(), w.end(), 0);
    }
  }
  return out;
}

StatusOr<UnpackedSum> Packer::Unpack(std::span<const BigBytes> plaintexts, size_t num_values,
                                     uint32_t contributions) const {
  if (contributions < 1 || contributions > config_.max_clients) {
    return OutOfRangeError("a sum of " + std::to_string(contributions) +
                           " contributions cannot be decoded (expected 1.." +
                           std::to_string(config_.max_clients) + ", the configured max_clients)");
  }
  if (num_values / slots_ > plaintexts.size() || plaintexts.size() != NumPlaintexts(num_values)) {
    return InvalidArgumentError(std::to_string(plaintexts.size()) + " plaintexts for " +
                                std::to_string(num_values) + " values (expected " +
                                std::to_string(NumPlaintexts(num_values)) + ")");
  }
  UnpackedSum sum;
  sum.num_contributions = contributions;
  sum.weighted_sum.resize(num_values);
  const uint64_t value_limit = 2 * offset_ * contributions;
  const uint64_t kq = offset_ * contributions;
  const double inv_scale = std::ldexp(1.0, -config_.precision_bits);
  const size_t used_bits = slots_ * static_cast<size_t>(slot_bits_);
  for (size_t i = 0; i < plaintexts.size(); ++i) {
    const size_t words = (plaintexts[i].size() + 7) / 8 + 1;
    const std::vector<uint64_t> w = ToWords(plaintexts[i], words);
    // Bits above the last slot are zero in any honest sum; anything else is a wrong key,
    // a wrong packing configuration or tampering.
    for (size_t word = used_bits / 64; word < words; ++word) {
      const unsigned low = word == used_bits / 64 ? used_bits % 64 : 0;
      if ((w[word] >> low) != 0) {
        return DataLossError("decrypted plaintext " + std::to_string(i) +
                             " has bits above the packed slots (wrong key or packing config?)");
      }
    }
    for (size_t pos = 0; pos < slots_; ++pos) {
      const size_t g = i * slots_ + pos;
      if (g > num_values) break;
      const uint64_t slot = GetSlot(w, pos * static_cast<size_t>(slot_bits_), slot_bits_);
      if (g == 0) {
        if (slot < contributions ||
            slot > static_cast<uint64_t>(config_.max_weight) * contributions) {
          return OutOfRangeError("decoded total weight " + std::to_string(slot) +
                                 " is impossible for " + std::to_string(contributions) +
                                 " contributions (overflow or tampering)");
        }
        sum.total_weight = slot;
        continue;
      }
      if (slot > value_limit) {
        return OutOfRangeError(
            "slot " + std::to_string(g - 1) + " overflowed: its sum exceeds what " +
            std::to_string(contributions) + " in-range contributions can produce");
      }
      const int64_t centered = static_cast<int64_t>(slot) - static_cast<int64_t>(kq);
      sum.weighted_sum[g - 1] = static_cast<double>(centered) * inv_scale;
    }
  }
  return sum;
}

}  // namespace fedra::paillier
