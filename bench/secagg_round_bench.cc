// Whole secure-aggregation rounds in process (RunSecureAggregation): per-client time per round,
// server time per stage (unmasking on a thread pool), bytes sent per client against the plain
// float32 update. Inputs are random in [-1, 1]; secrets come from RAND_priv_bytes.
//
//   build/secagg/bench/secagg_round_bench clients=500 params=100000 drop_stage=2 drop=0.1 threads=2
//   build/secagg/bench/secagg_round_bench clients=10000 params=10000 neighbours=42 drop_stage=2
//   drop=0.1 threads=2
//
// drop_stage: 2 = clients drop after sharing keys, before sending their masked input (the
// server must then reconstruct their mask keys and remove their pairwise masks: the expensive
// recovery); 3 = they drop after sending it (only the unmasking answers shrink).
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "fedra/core/rng.h"
#include "fedra/privacy/secagg/runner.h"

namespace {

std::map<std::string, std::string> ParseArgs(int argc, char** argv) {
  std::map<std::string, std::string> args;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    const auto eq = a.find('=');
    if (eq == std::string::npos) {
      std::fprintf(stderr, "argument '%s' is not key=value\n", argv[i]);
      std::exit(2);
    }
    args[a.substr(0, eq)] = a.substr(eq + 1);
  }
  return args;
}

double Get(const std::map<std::string, std::string>& args, const std::string& key, double dflt) {
  auto it = args.find(key);
  return it == args.end() ? dflt : std::stod(it->second);
}

}  // namespace

int main(int argc, char** argv) {
  const auto args = ParseArgs(argc, argv);
  const auto n = static_cast<size_t>(Get(args, "clients", 500));
  const auto m = static_cast<size_t>(Get(args, "params", 100'000));
  const int drop_stage = static_cast<int>(Get(args, "drop_stage", 2));
  const double drop = Get(args, "drop", 0.1);
  if (drop_stage < 0 || drop_stage >= fedra::secagg::kNumStages) {
    std::fprintf(stderr, "drop_stage must be 0..3\n");
    return 2;
  }

  fedra::Rng rng(static_cast<uint64_t>(Get(args, "seed", 1)));
  std::vector<std::vector<float>> inputs(n, std::vector<float>(m));
  for (auto& x : inputs)
    for (float& v : x) v = static_cast<float>(rng.Uniform() * 2 - 1);

  fedra::secagg::SecureAggregationOptions o;
  o.protocol.neighbours = static_cast<uint32_t>(Get(args, "neighbours", 0));
  o.protocol.graph_seed.fill(7);
  o.dropout.fraction[drop_stage] = drop;
  o.threads = static_cast<size_t>(Get(args, "threads", 2));
  o.serialize = Get(args, "serialize", 1) != 0;
  auto r = fedra::secagg::RunSecureAggregation(inputs, o, rng);
  if (!r.ok()) {
    std::fprintf(stderr, "round failed: %s\n", r.status().ToString().c_str());
    return 1;
  }
  double max_err = 0;
  for (size_t i = 0; i < m; ++i) {
    double truth = 0;
    for (uint32_t u : r->survivors) truth += inputs[u][i];
    max_err = std::max(max_err, std::abs(truth - r->sum[i]));
  }

  std::printf("clients=%zu params=%zu neighbours=%u drop_stage=%d drop=%.2f threads=%zu\n", n, m,
              o.protocol.neighbours, drop_stage, drop, o.threads);
  std::printf("survivors=%zu max_abs_error=%.3g bound=%.3g\n", r->survivors.size(), max_err,
              r->quantization_error_bound);
  static const char* kStage[] = {"advertise", "share_keys", "masked_input", "unmask"};
  double client_total = 0, client_cpu_total = 0;
  uint64_t client_bytes = 0;
  for (int s = 0; s < fedra::secagg::kNumStages; ++s) {
    const size_t answered = r->alive_after[s];
    const double per_client = answered ? r->client_seconds[s] / answered : 0;
    const double cpu_per_client = answered ? r->client_cpu_seconds[s] / answered : 0;
    client_cpu_total += cpu_per_client;
    const double bytes_per_client = answered ? double(r->client_bytes_sent[s]) / answered : 0;
    client_total += per_client;
    client_bytes += answered ? r->client_bytes_sent[s] / answered : 0;
    std::printf(
        "stage %-12s answered=%5zu client_s_per_client=%.4f (cpu %.4f) "
        "client_bytes_per_client=%.0f server_s=%.3f (cpu %.3f) server_bytes_total=%llu\n",
        kStage[s], answered, per_client, cpu_per_client, bytes_per_client, r->server_seconds[s],
        r->server_cpu_seconds[s], static_cast<unsigned long long>(r->server_bytes_sent[s]));
  }
  const double quantize = r->quantize_seconds / std::max<size_t>(1, r->alive_after[2]);
  std::printf("client_s_per_round=%.4f cpu=%.4f (of which quantize=%.4f)\n", client_total,
              client_cpu_total, quantize);
  std::printf("client_bytes_per_round=%llu plain_float_update_bytes=%zu ratio=%.3f\n",
              static_cast<unsigned long long>(client_bytes), 4 * m,
              double(client_bytes) / double(4 * m));
  std::printf(
      "server_unmask_s=%.3f cpu=%.3f server_total_s=%.3f\n", r->server_seconds[3],
      r->server_cpu_seconds[3],
      r->server_seconds[0] + r->server_seconds[1] + r->server_seconds[2] + r->server_seconds[3]);
  return 0;
}
