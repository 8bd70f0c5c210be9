// InfluenceBound: keeps one participant of a plain (not secure) round from owning the model.
// A client reports its example count and local steps itself and chooses every value of its
// update, so FedAvg alone lets one result claiming 2^63 examples, or holding values of 1e30,
// replace the global model. Before a result is folded, the round driver:
//  - caps num_examples (the FedAvg weight) and local_steps (FedNova's tau) at
//    `weight_factor` x the median of the reference round's reported values;
//  - scales the update, and each extra vector (e.g. SCAFFOLD's control delta), down to at
//    most `norm_factor` x the median L2 norm of that vector in the reference round.
// The reference is the previous round that had results (its values as reported, before
// bounding), kept in checkpoints. A run's first round has none: the driver holds
// the first `calibration_results` accepted results, takes the reference from them, and bounds
// every result of the round with it. Held results beyond `calibration_memory_bytes` wait in
// an unlinked temporary file in $TMPDIR (else /tmp), so a large model's calibration costs
// disk, not server memory.
//
// A median moves only if at least half the values do, so while fewer than half the clients
// of the reference lie, one result weighs at most weight_factor typical clients and moves the
// model at most norm_factor typical update norms: with n results its share of a FedAvg step
// is at most weight_factor * norm_factor / (weight_factor + n - 1) typical norms.
// Honest clients far above the median (e.g. a client with 5x the median data) are bounded
// too: the price of the defence, documented in docs/threat-model.md.
//
// Secure rounds (SecAgg, Paillier over gRPC) cannot use it: the server sees only the sum.
//
// Thread-safety: not thread-safe (the round driver uses it from one thread).
#ifndef FEDRA_FL_INFLUENCE_BOUND_H_
#define FEDRA_FL_INFLUENCE_BOUND_H_

#include <cstddef>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "fedra/core/status.h"
#include "fedra/fl/types.h"

namespace fedra {

struct InfluenceBoundOptions {
  bool enabled = true;
  double weight_factor = 2.0;      // > 0
  double norm_factor = 1.0;        // > 0
  size_t calibration_results = 8;  // >= 1
  size_t calibration_memory_bytes = size_t{64} << 20;
};

Status ValidateInfluenceBoundOptions(const InfluenceBoundOptions& options);

// What bounding did to one result.
struct BoundReport {
  bool weight_capped = false;  // num_examples or local_steps lowered
  bool norm_clipped = false;   // the update or an extra scaled down
};

class InfluenceBound {
 public:
  explicit InfluenceBound(InfluenceBoundOptions options) : options_(options) {}

  bool enabled() const { return options_.enabled; }
  size_t calibration_results() const { return options_.calibration_results; }
  const InfluenceBoundOptions& options() const { return options_; }
  bool has_reference() const { return has_reference_; }

  // What one result reported, measured once (one pass over each vector): its counts and the
  // L2 norm of its update and of each extra, before bounding.
  struct Reported {
    size_t num_examples = 0;
    int64_t local_steps = 0;
    std::vector<std::pair<std::string, double>> norms;  // "update", then each extra
  };
  static Reported Measure(const FitResult& result);

  // Records `reported` for the next round's reference. A result with a non-finite norm is not
  // recorded (the fold refuses it).
  void Observe(const Reported& reported);
  // Sets the reference from these results' reported values (the calibration round).
  void SetReference(std::span<const Reported> reported);
  void SetReference(std::span<const FitResult> results);
  // Lowers `result`'s counts and scales its vectors to the bounds. REQUIRES: has_reference(),
  // `reported` is Measure(result).
  BoundReport Apply(FitResult& result, const Reported& reported) const;
  BoundReport Apply(FitResult& result) const { return Apply(result, Measure(result)); }
  // The values observed this round become the reference for the next one (kept as it was
  // if nothing was observed).
  void EndRound();

  // The reference as named numbers ("examples", "steps", "norm/<vector>"; empty without one),
  // so a checkpoint carries it across a restart; Import refuses a map that Export could not
  // have written (unknown names, values negative or not finite), naming the entry.
  std::map<std::string, double> ExportReference() const;
  Status ImportReference(const std::map<std::string, double>& reference);

  // The current bounds, for logs and tests (0 if unknown).
  double max_examples() const { return options_.weight_factor * ref_examples_; }
  double max_norm(const std::string& vector) const;

 private:
  struct Sample {
    std::vector<double> examples, steps;
    std::map<std::string, std::vector<double>> norms;  // "update" and each extra
  };
  static void Record(const Reported& reported, Sample& sample);
  void TakeReference(Sample& sample);

  InfluenceBoundOptions options_;
  bool has_reference_ = false;
  double ref_examples_ = 0, ref_steps_ = 0;
  std::map<std::string, double> ref_norms_;
  Sample round_;
};

}  // namespace fedra

#endif  // FEDRA_FL_INFLUENCE_BOUND_H_
