// What fine-tuning a transformer needs besides the optimizer (the BERT recipe): a learning
// rate that warms up linearly and then decays (linearly or on a cosine) to a floor, clipping
// of the gradient by its global L2 norm, and the weight-decay mask that exempts biases and
// normalisation weights (every tensor of rank < 2) from AdamW's decay.
//
// Trainer's Fit applies the schedule and the clipping when TrainOptions asks for them.
//
// Thread-safety: free functions on values.
#ifndef FEDRA_ML_FINE_TUNING_H_
#define FEDRA_ML_FINE_TUNING_H_

#include <cstdint>
#include <span>
#include <vector>

#include "fedra/core/status.h"
#include "fedra/ml/parameters.h"

namespace fedra {

struct LrSchedule {
  enum class Decay { kConstant, kLinear, kCosine };
  double peak = 1e-3;        // the learning rate at the end of the warm-up
  int64_t warmup_steps = 0;  // 0..peak linearly over these steps
  int64_t total_steps = 1;   // decay ends here; later steps stay at the floor
  Decay decay = Decay::kLinear;
  double floor_fraction = 0;  // the floor, as a fraction of peak, in [0, 1]
};

// InvalidArgument unless peak is finite and >= 0, 0 <= warmup_steps <= total_steps,
// total_steps >= 1 and floor_fraction in [0, 1].
Status ValidateLrSchedule(const LrSchedule& s);

// The learning rate of update number `step` (0-based): peak * (step + 1) / warmup_steps during
// the warm-up, then decaying from peak at step warmup_steps to peak * floor_fraction at
// total_steps. REQUIRES a valid schedule.
double LearningRateAt(const LrSchedule& s, int64_t step);

// Scales `grads` by max_norm / norm when their L2 norm exceeds max_norm (> 0) and returns the
// norm before clipping (accumulated in double), as torch.nn.utils.clip_grad_norm_.
double ClipByGlobalNorm(std::span<float> grads, double max_norm);

// One float per parameter of `params`' layout: 1 for tensors of rank >= 2 (weights of dense,
// convolution, embedding and attention projections), 0 for the rest (biases, LayerNorm
// weights), for AdamOptions::decay_mask.
std::vector<float> WeightDecayMask(const Parameters& params);

}  // namespace fedra

#endif  // FEDRA_ML_FINE_TUNING_H_
