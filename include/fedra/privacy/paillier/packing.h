// Fixed-point encoding of a weighted model update and packing of many values into one Paillier
// plaintext, in the manner of BatchCrypt (Zhang et al., USENIX ATC 2020): the plaintext is cut
// into slots of slot_bits() bits; adding ciphertexts adds every slot at once, and each slot has
// headroom for the sum of max_clients contributions, so no carry ever crosses into a neighbour.
//
// A client with update v and weight w (its number of examples) encodes each value as
//   q_j = round(w v_j 2^precision_bits) + Q,   Q = ceil(max_weight max_abs_value 2^precision_bits)
//   + 1
// so every slot is non-negative (q_j in [0, 2Q]), and the weight w itself rides in slot 0 of the
// first plaintext. A sum of k <= max_clients such vectors is decoded as
//   sum_j = (slot_j - k Q) / 2^precision_bits      (the weighted sum, sum_i w_i v_ij)
//   total weight = slot_0.
// Overflow is never silent: a value outside [-max_abs_value, max_abs_value], a weight outside
// [1, max_weight], a sum of more than max_clients contributions, or a decoded slot outside the
// range k contributions can produce is an error.
//
// Error bound (SumErrorBound): for each coordinate of the decoded weighted sum of k
// contributions, |decoded - exact| <= k (2^-(precision_bits+1) + max_weight max_abs_value 2^-52):
// half a unit of the last place from rounding each client's w v_j, plus double rounding of the
// product and of the final conversion. Divide by the total weight for the weighted mean.
//
// Thread-safety: Packer is immutable; its const methods may be called concurrently.
#ifndef FEDRA_PRIVACY_PAILLIER_PACKING_H_
#define FEDRA_PRIVACY_PAILLIER_PACKING_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "fedra/core/status.h"
#include "fedra/privacy/paillier/public_key.h"

namespace fedra::paillier {

struct PackingConfig {
  double max_abs_value = 1.0;     // |v_j| bound (clip the update to it first)
  uint32_t max_weight = 1 << 16;  // bound on a client's weight (number of examples)
  int precision_bits = 16;        // fractional bits kept of w v_j
  uint32_t max_clients = 16;      // contributions one sum may hold
};

struct UnpackedSum {
  std::vector<double> weighted_sum;  // sum_i w_i v_ij
  uint64_t total_weight = 0;         // sum_i w_i
  uint32_t num_contributions = 0;
};

class Packer {
 public:
  // InvalidArgument if the configuration is out of range or a slot would need more than 62 bits.
  static StatusOr<Packer> Create(const PackingConfig& config, int modulus_bits);

  const PackingConfig& config() const { return config_; }
  int slot_bits() const { return slot_bits_; }
  size_t slots_per_plaintext() const { return slots_; }
  uint64_t offset() const { return offset_; }  // Q
  // Identifies the slot layout, so updates packed differently are not added together.
  uint64_t fingerprint() const { return fingerprint_; }
  // Plaintexts needed for `num_values` values plus the weight slot.
  size_t NumPlaintexts(size_t num_values) const;
  // Bound on |decoded - exact| per coordinate of the weighted sum of k contributions.
  double SumErrorBound(uint32_t contributions) const;

  // One client's plaintexts (big-endian, `width` bytes each). InvalidArgument names the first
  // value out of range, or the weight.
  StatusOr<std::vector<BigBytes>> Pack(std::span<const float> values, uint32_t weight,
                                       size_t width) const;
  // Decodes the slot-wise sum of `contributions` packed vectors. OutOfRange if
  // contributions > max_clients or a slot holds what that many contributions cannot produce.
  StatusOr<UnpackedSum> Unpack(std::span<const BigBytes> plaintexts, size_t num_values,
                               uint32_t contributions) const;

 private:
  Packer() = default;

  PackingConfig config_;
  int modulus_bits_ = 0;
  int slot_bits_ = 0;
  size_t slots_ = 0;
  uint64_t offset_ = 0;
  uint64_t fingerprint_ = 0;
};

}  // namespace fedra::paillier

#endif  // FEDRA_PRIVACY_PAILLIER_PACKING_H_
