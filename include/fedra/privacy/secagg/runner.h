// RunSecureAggregation: one whole secure-aggregation round in process — quantize every
// client's float vector, drive SecAggClient/SecAggServer through the four stages with a
// dropout schedule, dequantize the unmasked sum. What fedra-sim runs, and what tests and
// benchmarks measure. The server's stage sequence is RunServerStages (server_stages.h), the
// same one the gRPC server runs; this file only brings the clients to it in process. Every
// message is round-tripped through its byte encoding (as a transport would) unless
// options.serialize is false.
//
// Dropout: before each stage s, round(fraction[s] * alive) of the clients still in the round
// are chosen with `rng` (public simulation randomness) and never send their stage-s message or
// anything after. A client that refuses a stage counts as dropped there too.
//
// Thread-safety: reentrant; client stages run on options.threads threads, the server's
// unmasking on the same pool.
#ifndef FEDRA_PRIVACY_SECAGG_RUNNER_H_
#define FEDRA_PRIVACY_SECAGG_RUNNER_H_

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "fedra/core/rng.h"
#include "fedra/core/status.h"
#include "fedra/privacy/secagg/config.h"
#include "fedra/privacy/secagg/messages.h"

namespace fedra::secagg {

inline constexpr int kNumStages = 4;  // advertise, share keys, masked input, unmasking

struct DropoutSchedule {
  // fraction[s]: share of the clients alive before stage s that drop before answering it.
  std::array<double, kNumStages> fraction{};
};

struct SecureAggregationOptions {
  // num_clients and vector_length may be left 0: they are taken from the inputs.
  SecAggConfig protocol;
  double clip = 1.0;    // quantizer range [-clip, clip]
  uint64_t levels = 0;  // quantizer grid; 0 = the most that cannot wrap
  DropoutSchedule dropout;
  size_t threads = 1;
  bool serialize = true;
  bool record_unmask_responses = false;  // keep stage-3 messages in the result (tests)
  // Only for tests and reproducible experiments: derive every client secret from this seed.
  std::optional<Key256> test_seed;
};

struct SecureAggregationResult {
  std::vector<float> sum;                        // dequantized sum of the survivors' inputs
  std::vector<uint32_t> raw_sum;                 // the same in Z_2^32, before dequantization
  std::vector<uint32_t> survivors;               // clients whose inputs are in the sum
  double quantization_error_bound = 0;           // per coordinate, for |survivors| clients
  std::array<size_t, kNumStages> alive_after{};  // clients that answered each stage
  std::array<uint64_t, kNumStages> client_bytes_sent{};  // total over clients, per stage
  std::array<uint64_t, kNumStages> server_bytes_sent{};  // total to clients, per stage
  // Wall-clock and CPU time. Client figures are summed over clients; server CPU time counts
  // every thread of the unmasking pool.
  std::array<double, kNumStages> client_seconds{};
  std::array<double, kNumStages> client_cpu_seconds{};
  std::array<double, kNumStages> server_seconds{};
  std::array<double, kNumStages> server_cpu_seconds{};
  double quantize_seconds = 0;                   // summed over clients
  std::string first_client_error;                // a refusal, if any client refused
  std::vector<UnmaskResponse> unmask_responses;  // if record_unmask_responses
};

// REQUIRES nothing of `inputs` beyond equal, non-zero lengths (else InvalidArgument). Returns
// the round's abort Status when fewer clients than the threshold survive a stage.
StatusOr<SecureAggregationResult> RunSecureAggregation(std::span<const std::vector<float>> inputs,
                                                       const SecureAggregationOptions& options,
                                                       Rng& rng);

}  // namespace fedra::secagg

#endif  // FEDRA_PRIVACY_SECAGG_RUNNER_H_
