// ShamirDecoder: reconstructs a Shamir-shared secret from k >= t shares of which some may be
// wrong (a lying holder, a corrupted message). The shares of one secret are the codeword of a
// Reed-Solomon code of dimension t, so up to floor((k - t) / 2) wrong shares per chunk are
// corrected and any number up to k - t is detected.
//
//   Decode() first checks every share beyond the first t against the polynomial through the
//   first t (one precomputed linear map, O(t (k - t)) per chunk); only when that fails does it
//   run Berlekamp-Welch (Gaussian elimination, O(k^3) per chunk). It returns the secret and the
//   x-coordinates of the shares that disagree with it, or DataLoss when the shares disagree
//   and no polynomial of degree < t agrees with all but floor((k - t) / 2) of them.
//
// With k == t nothing can be checked: Decode() is ShamirCombine(). A wrong share that the
// caller must not trust to the decoder alone is caught by checking the secret itself (the
// SecAgg server compares a mask key with its advertised public key and a self-mask seed with
// the tag on the client's masked input).
//
// A share that disagrees does not prove its holder lied: the secret's owner may have dealt it
// wrong (Shamir sharing is not verifiable). Callers report both parties.
//
// Thread-safety: immutable after Create(); Decode() is const.
#ifndef FEDRA_PRIVACY_SECAGG_SHAMIR_DECODER_H_
#define FEDRA_PRIVACY_SECAGG_SHAMIR_DECODER_H_

#include <cstdint>
#include <span>
#include <vector>

#include "fedra/core/status.h"
#include "fedra/privacy/secagg/shamir.h"

namespace fedra::secagg {

class ShamirDecoder {
 public:
  // For shares at `xs` (distinct, in [1, p)) of secrets shared with threshold t <= xs.size().
  static StatusOr<ShamirDecoder> Create(std::span<const uint64_t> xs, size_t threshold);

  struct Result {
    Key256 secret{};
    std::vector<uint64_t> wrong;  // x-coordinates of the shares that disagree, ascending
  };
  // `shares` in the order of the xs given to Create (their x fields must match).
  StatusOr<Result> Decode(std::span<const ShamirShare> shares) const;

  size_t threshold() const { return threshold_; }
  size_t size() const { return xs_.size(); }
  // Wrong shares per chunk that Decode() corrects: floor((k - t) / 2).
  size_t correctable() const { return (xs_.size() - threshold_) / 2; }

 private:
  ShamirDecoder() = default;
  // The chunk's polynomial (t coefficients) by Berlekamp-Welch, or DataLoss.
  StatusOr<std::vector<uint64_t>> BerlekampWelch(std::span<const uint64_t> ys) const;

  std::vector<uint64_t> xs_;
  size_t threshold_ = 0;
  std::vector<uint64_t> at_zero_;  // Lagrange coefficients of the first t points at 0
  // check_[j * t + i]: the weight of y_i (i < t) in the value at x_{t + j} of the polynomial
  // through the first t shares.
  std::vector<uint64_t> check_;
};

}  // namespace fedra::secagg

#endif  // FEDRA_PRIVACY_SECAGG_SHAMIR_DECODER_H_
