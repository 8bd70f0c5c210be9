#include "fedra/privacy/secagg/runner.h"

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>

#include "fedra/core/thread_pool.h"
#include "fedra/privacy/secagg/client.h"
#include "fedra/privacy/secagg/quantizer.h"
#include "fedra/privacy/secagg/server.h"
#include "fedra/privacy/secagg/server_stages.h"

namespace fedra::secagg {
namespace {

using Clock = std::chrono::steady_clock;
double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}
double CpuSeconds(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// Passes a message through its byte encoding, as a transport would; counts its bytes.
template <typename Msg, typename ParseFn>
Msg Carry(const Msg& m, bool serialize, ParseFn parse, uint64_t& bytes) {
  std::vector<uint8_t> wire = Serialize(m);
  bytes += wire.size();
  if (!serialize) return m;
  auto parsed = parse(wire);
  FEDRA_CHECK_MSG(parsed.ok(), parsed.status().ToString());
  return std::move(parsed).value();
}

// The clients of one simulated round, reached in process. Before each stage the dropout
// schedule takes its share of the live clients; the others' steps run on the pool, and every
// message is carried through its encoding and measured on its way.
struct Sim final : SecAggPeers {
  const SecureAggregationOptions& options;
  SecAggConfig config;
  std::span<const std::vector<float>> inputs;
  const Quantizer& quantizer;
  Rng& rng;  // the dropout draws
  std::vector<std::unique_ptr<SecAggClient>> clients;
  std::vector<uint8_t> alive;
  ThreadPool pool;
  SecureAggregationResult result;
  std::mutex mu;  // guards the server (via deliver), result.first_client_error and the totals

  Sim(const SecureAggregationOptions& o, const SecAggConfig& c,
      std::span<const std::vector<float>> x, const Quantizer& q, Rng& r)
      : options(o),
        config(c),
        inputs(x),
        quantizer(q),
        rng(r),
        alive(c.num_clients, 1),
        pool(std::max<size_t>(1, o.threads)) {}

  void Advertise(const Deliver<AdvertiseKeys>& deliver) override {
    Drop(0);
    Stage<int>(
        0, nullptr, [&](uint32_t i, const int*) { return clients[i]->Advertise(); },
        ParseAdvertiseKeys, deliver);
  }

  void Share(std::vector<KeyDirectory> to, const Deliver<ShareKeys>& deliver) override {
    const auto inbox = Route(std::move(to), 0, ParseKeyDirectory);
    Drop(1);
    Stage(
        1, &inbox, [&](uint32_t i, const KeyDirectory* d) { return clients[i]->Share(*d); },
        ParseShareKeys, deliver);
  }

  void Mask(std::vector<RelayedShares> to, const Deliver<MaskedInput>& deliver) override {
    const auto inbox = Route(std::move(to), 1, ParseRelayedShares);
    Drop(2);
    Stage(
        2, &inbox, [&](uint32_t i, const RelayedShares* r) { return QuantizeAndMask(i, *r); },
        ParseMaskedInput, deliver);
  }

  void Unmask(std::vector<UnmaskRequest> to, const Deliver<UnmaskResponse>& deliver) override {
    const auto inbox = Route(std::move(to), 2, ParseUnmaskRequest);
    Drop(3);
    Stage(
        3, &inbox, [&](uint32_t i, const UnmaskRequest* r) { return clients[i]->Unmask(*r); },
        ParseUnmaskResponse,
        [&](const UnmaskResponse& m) {
          if (options.record_unmask_responses) result.unmask_responses.push_back(m);
          return deliver(m);
        });
  }

  // CPU time is the whole process's, which is the server's alone: RunServerStages runs its
  // steps between stages, never beside client work.
  void ServerStep(int stage, const std::function<void()>& step) override {
    const auto start = Clock::now();
    const double cpu = CpuSeconds(CLOCK_PROCESS_CPUTIME_ID);
    step();
    result.server_seconds[stage] += Seconds(start);
    result.server_cpu_seconds[stage] += CpuSeconds(CLOCK_PROCESS_CPUTIME_ID) - cpu;
  }

  void Drop(int stage) {
    std::vector<uint32_t> live;
    for (uint32_t i = 0; i < config.num_clients; ++i)
      if (alive[i]) live.push_back(i);
    const auto count = static_cast<size_t>(
        std::llround(options.dropout.fraction[stage] * static_cast<double>(live.size())));
    for (size_t k : rng.SampleWithoutReplacement(live.size(), std::min(count, live.size())))
      alive[live[k]] = 0;
  }

  StatusOr<MaskedInput> QuantizeAndMask(uint32_t i, const RelayedShares& relayed) {
    const auto start = Clock::now();
    std::optional<Prg> prg;
    if (options.test_seed.has_value()) {
      Key256 key = *options.test_seed;
      key[0] ^= 0x5a;  // a stream distinct from the protocol secrets
      key[28] ^= static_cast<uint8_t>(i), key[29] ^= static_cast<uint8_t>(i >> 8);
      key[30] ^= static_cast<uint8_t>(i >> 16), key[31] ^= static_cast<uint8_t>(i >> 24);
      prg.emplace(key);
    } else {
      FEDRA_ASSIGN_OR_RETURN(Prg system, Prg::FromSystem());
      prg.emplace(std::move(system));
    }
    std::vector<uint32_t> q(config.vector_length);
    FEDRA_RETURN_IF_ERROR(quantizer.Quantize(inputs[i], *prg, q));
    {
      std::lock_guard<std::mutex> lock(mu);
      result.quantize_seconds += Seconds(start);
    }
    return clients[i]->Mask(relayed, q);
  }

  // For every live client i that has a server message in `inbox` (or all live clients when
  // inbox is null): reply = step(i, msg), carried to the server and passed to `deliver`.
  template <typename In, typename Step, typename Parse, typename DeliverFn>
  void Stage(int s, const std::vector<std::optional<In>>* inbox, Step step, Parse parse,
             const DeliverFn& deliver) {
    const size_t n = config.num_clients, threads = pool.size();
    pool.Run([&](size_t worker) {
      for (size_t i = worker; i < n; i += threads) {
        if (!alive[i] || (inbox != nullptr && !(*inbox)[i].has_value())) {
          alive[i] = 0;
          continue;
        }
        const auto start = Clock::now();
        const double cpu_start = CpuSeconds(CLOCK_THREAD_CPUTIME_ID);
        auto reply = step(static_cast<uint32_t>(i), inbox ? &*(*inbox)[i] : nullptr);
        const double secs = Seconds(start);
        const double cpu = CpuSeconds(CLOCK_THREAD_CPUTIME_ID) - cpu_start;
        uint64_t bytes = 0;
        std::optional<std::decay_t<decltype(*reply)>> carried;
        if (reply.ok()) carried = Carry(*reply, options.serialize, parse, bytes);
        std::lock_guard<std::mutex> lock(mu);
        result.client_seconds[s] += secs;
        result.client_cpu_seconds[s] += cpu;
        result.client_bytes_sent[s] += bytes;
        if (!reply.ok()) {
          if (result.first_client_error.empty())
            result.first_client_error = reply.status().ToString();
          alive[i] = 0;
          continue;
        }
        const auto server_start = Clock::now();
        const double server_cpu = CpuSeconds(CLOCK_THREAD_CPUTIME_ID);
        if (!deliver(*carried).ok()) alive[i] = 0;  // a rejected message is a dropout
        result.server_seconds[s] += Seconds(server_start);
        result.server_cpu_seconds[s] += CpuSeconds(CLOCK_THREAD_CPUTIME_ID) - server_cpu;
      }
    });
    size_t live = 0;
    for (uint8_t a : alive) live += a;
    result.alive_after[s] = live;
  }

  // Index the server's per-client messages by recipient, carried through their encoding; their
  // bytes count as what the server sent after stage `s`.
  template <typename Msg, typename Parse>
  std::vector<std::optional<Msg>> Route(std::vector<Msg> msgs, int s, Parse parse) {
    std::vector<std::optional<Msg>> out(config.num_clients);
    for (Msg& m : msgs) {
      const uint32_t to = m.recipient;
      out[to] = Carry(m, options.serialize, parse, result.server_bytes_sent[s]);
    }
    return out;
  }
};

StatusOr<SecAggConfig> ConfigFor(std::span<const std::vector<float>> inputs,
                                 const SecureAggregationOptions& options) {
  if (inputs.empty() || inputs[0].empty())
    return InvalidArgumentError("secure aggregation needs at least one non-empty input");
  for (const auto& x : inputs)
    if (x.size() != inputs[0].size())
      return InvalidArgumentError("secure aggregation inputs differ in length");
  SecAggConfig c = options.protocol;
  if (c.num_clients == 0) c.num_clients = static_cast<uint32_t>(inputs.size());
  if (c.vector_length == 0) c.vector_length = inputs[0].size();
  if (c.num_clients != inputs.size() || c.vector_length != inputs[0].size())
    return InvalidArgumentError("secure aggregation config does not match the inputs");
  return ResolveConfig(c);
}

}  // namespace

StatusOr<SecureAggregationResult> RunSecureAggregation(std::span<const std::vector<float>> inputs,
                                                       const SecureAggregationOptions& options,
                                                       Rng& rng) {
  FEDRA_ASSIGN_OR_RETURN(SecAggConfig config, ConfigFor(inputs, options));
  FEDRA_ASSIGN_OR_RETURN(Quantizer quantizer,
                         Quantizer::Create({options.clip, config.num_clients, options.levels}));
  auto graph = std::make_shared<const NeighbourGraph>(config);
  FEDRA_ASSIGN_OR_RETURN(auto server, SecAggServer::Create(config, graph));
  Sim sim(options, config, inputs, quantizer, rng);
  for (uint32_t i = 0; i < config.num_clients; ++i) {
    FEDRA_ASSIGN_OR_RETURN(auto client, SecAggClient::Create(config, i, graph, options.test_seed));
    sim.clients.push_back(std::move(client));
  }
  // No dropout limit of its own: the protocol's threshold alone decides whether a simulated
  // round ends.
  FEDRA_ASSIGN_OR_RETURN(SecAggOutcome outcome,
                         RunServerStages(*server, quantizer, sim, config.num_clients, &sim.pool));

  SecureAggregationResult& r = sim.result;
  r.raw_sum = std::move(outcome.raw_sum);
  r.sum = std::move(outcome.sum);
  r.survivors = server->survivors();
  r.quantization_error_bound = quantizer.SumErrorBound(static_cast<uint32_t>(r.survivors.size()));
  return std::move(sim.result);
}

}  // namespace fedra::secagg
