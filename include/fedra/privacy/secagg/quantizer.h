// Quantizer: maps float updates into Z_2^32 for secure aggregation and the sum back.
// Each coordinate is clipped to [-clip, clip] and stochastically rounded onto a grid of
// `levels` points with step delta = 2 clip / (levels - 1): q = floor(v) + [u < frac(v)] with
// v = (x + clip) / delta and u uniform from a CSPRNG, so E[q delta - clip] = x. The grid is
// chosen so the sum of `num_clients` values cannot wrap mod 2^32:
// num_clients * (levels - 1) < 2^32, checked by Create.
//
// Error bound (per coordinate, inputs already inside [-clip, clip]): each client's error is
// in (-delta, delta), zero-mean and independent, so the dequantized sum of c clients differs
// from the true sum by less than c * delta always, with standard deviation <= sqrt(c) delta / 2.
// Weighted averaging: clients send w_u x_u / W and w_u / W (W a public cap on the weight) as
// coordinates of the same vector; both sums come out of one aggregation.
//
// Thread-safety: const methods may run concurrently (each call brings its own Prg).
#ifndef FEDRA_PRIVACY_SECAGG_QUANTIZER_H_
#define FEDRA_PRIVACY_SECAGG_QUANTIZER_H_

#include <cstdint>
#include <span>

#include "fedra/core/status.h"
#include "fedra/privacy/secagg/prg.h"

namespace fedra::secagg {

struct QuantizerOptions {
  double clip = 1.0;         // coordinates are clipped to [-clip, clip]
  uint32_t num_clients = 0;  // most clients whose values are summed
  uint64_t levels = 0;       // grid points; 0 = the most that leave no wrap-around
};

class Quantizer {
 public:
  // InvalidArgument unless clip is finite and > 0, num_clients >= 1, levels >= 2 and
  // num_clients * (levels - 1) < 2^32.
  static StatusOr<Quantizer> Create(const QuantizerOptions& options);

  double step() const { return step_; }
  uint64_t levels() const { return levels_; }
  // Worst-case per-coordinate error of a dequantized sum of `count` clients (see above).
  double SumErrorBound(uint32_t count) const { return count * step_; }

  // out[i] = quantized x[i]. InvalidArgument for NaN/Inf or a size mismatch.
  Status Quantize(std::span<const float> x, Prg& rng, std::span<uint32_t> out) const;
  // out[i] = the float sum of `count` clients whose quantized values sum (mod 2^32) to sum[i].
  // InvalidArgument if count exceeds num_clients or the sizes differ; OutOfRange if some
  // sum[i] exceeds count * (levels - 1), which no `count` honest inputs can reach (a
  // participant masked a value outside the grid; the sum is refused, not clamped).
  Status Dequantize(std::span<const uint32_t> sum, uint32_t count, std::span<float> out) const;

 private:
  Quantizer(const QuantizerOptions& o, uint64_t levels);
  double clip_;
  uint32_t num_clients_;
  uint64_t levels_;
  double step_;
};

}  // namespace fedra::secagg

#endif  // FEDRA_PRIVACY_SECAGG_QUANTIZER_H_
