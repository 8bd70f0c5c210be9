// Secure-aggregation micro-benchmarks: client masking throughput beside the raw AES-256-CTR
// keystream it is built on (same run), plus the per-peer public-key costs of a round.
//
//   build/secagg/bench/secagg_bench --benchmark_min_time=1
//
// Throughput is bytes of mask (4 per uint32 word) per second. BM_ClientMaskStage is the whole
// SecAggClient::Mask call for a client with `peers` neighbours and 100,000 parameters: share
// decryption, one X25519 + HKDF per peer, peers + 1 mask expansions and the input's tag.
// BM_ShamirDecode and BM_InputDigestSha256 are what robust unmasking adds (issue #17).
#include <benchmark/benchmark.h>
#include <openssl/evp.h>

#include <memory>
#include <vector>

#include "fedra/privacy/secagg/client.h"
#include "fedra/privacy/secagg/crypto.h"
#include "fedra/privacy/secagg/prg.h"
#include "fedra/privacy/secagg/server.h"
#include "fedra/privacy/secagg/shamir_decoder.h"

namespace {

using fedra::secagg::Key256;

Key256 KeyOf(uint8_t v) {
  Key256 k;
  k.fill(v);
  return k;
}

// Baseline: AES-256-CTR encrypting a buffer in place with EVP, nothing else.
void BM_RawAesCtrKeystream(benchmark::State& state) {
  const size_t words = static_cast<size_t>(state.range(0));
  std::vector<uint32_t> buf(words, 0);
  const Key256 key = KeyOf(1);
  const uint8_t iv[16] = {};
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  EVP_EncryptInit_ex(ctx, EVP_aes_256_ctr(), nullptr, key.data(), iv);
  for (auto _ : state) {
    int len = 0;
    auto* p = reinterpret_cast<uint8_t*>(buf.data());
    EVP_EncryptUpdate(ctx, p, &len, p, static_cast<int>(words * 4));
    benchmark::DoNotOptimize(buf.data());
  }
  EVP_CIPHER_CTX_free(ctx);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(words * 4));
}

// One mask expansion as SecAgg does it: new Prg per key, stream added into the vector.
void BM_MaskExpansion(benchmark::State& state) {
  const size_t words = static_cast<size_t>(state.range(0));
  std::vector<uint32_t> acc(words, 0);
  uint8_t i = 0;
  for (auto _ : state) {
    fedra::secagg::AddMask(KeyOf(i++), +1, acc);
    benchmark::DoNotOptimize(acc.data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(words * 4));
}

void BM_X25519Agreement(benchmark::State& state) {
  auto own = *fedra::secagg::X25519Agreement::Create(KeyOf(3));
  const auto peer = fedra::secagg::X25519FromPrivate(KeyOf(4))->public_key;
  for (auto _ : state) benchmark::DoNotOptimize(own.Agree(peer));
  state.SetItemsProcessed(state.iterations());
}

// A round up to the masking stage for `n` clients with k neighbours each.
struct MaskSetup {
  std::vector<std::unique_ptr<fedra::secagg::SecAggClient>> clients;
  std::vector<fedra::secagg::RelayedShares> relayed;  // in client order
};
MaskSetup SetUpMask(uint32_t n, uint32_t k, size_t m) {
  fedra::secagg::SecAggConfig c;
  c.num_clients = n;
  c.neighbours = k;
  c.vector_length = m;
  c = *fedra::secagg::ResolveConfig(c);
  auto graph = std::make_shared<const fedra::secagg::NeighbourGraph>(c);
  auto server = *fedra::secagg::SecAggServer::Create(c, graph);
  MaskSetup s;
  std::vector<fedra::secagg::AdvertiseKeys> adv;
  for (uint32_t i = 0; i < n; ++i) {
    s.clients.push_back(*fedra::secagg::SecAggClient::Create(c, i, graph));
    adv.push_back(*s.clients.back()->Advertise());
  }
  auto dirs = *server->AdvertiseStage(adv);
  std::vector<fedra::secagg::ShareKeys> shares;
  for (const auto& d : dirs) shares.push_back(*s.clients[d.recipient]->Share(d));
  s.relayed = *server->ShareKeysStage(shares);
  return s;
}

void BM_ClientMaskStage(benchmark::State& state) {
  const auto peers = static_cast<uint32_t>(state.range(0));
  const size_t m = 100'000;
  const std::vector<uint32_t> input(m, 5);
  // Classic SecAgg with peers + 1 clients, or SecAgg+ with k = peers among 4k clients. Each
  // client masks once per round, so each iteration is another client of the same round.
  MaskSetup s = peers >= 100 ? SetUpMask(peers + 1, 0, m) : SetUpMask(4 * peers, peers, m);
  size_t next = 0;
  for (auto _ : state) {
    auto masked = s.clients[next]->Mask(s.relayed[next], input);
    if (!masked.ok()) state.SkipWithError(masked.status().ToString().c_str());
    benchmark::DoNotOptimize(masked);
    next = (next + 1) % s.clients.size();
    if (next == 0) state.SkipWithError("more iterations than clients");
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>((peers + 1) * m * 4));
}

// Robust unmasking: decoding one secret from k = 100 shares with threshold 67 (classic SecAgg
// of 100 clients), all consistent (the cheap check) or with `wrong` shares (Berlekamp-Welch on
// the chunks they touch: every chunk here). The decoder is built once per round.
void BM_ShamirDecode(benchmark::State& state) {
  const size_t k = 100, t = 67;
  const auto wrong = static_cast<size_t>(state.range(0));
  fedra::secagg::Prg prg(KeyOf(5));
  std::vector<uint64_t> xs(k);
  for (size_t i = 0; i < k; ++i) xs[i] = i + 1;
  auto shares = *fedra::secagg::ShamirSplit(KeyOf(6), t, xs, prg);
  for (size_t i = 0; i < wrong; ++i)
    for (uint64_t& y : shares[3 * i].y) y = fedra::secagg::FieldAdd(y, 1);
  const auto decoder = *fedra::secagg::ShamirDecoder::Create(xs, t);
  for (auto _ : state) {
    auto r = decoder.Decode(shares);
    if (!r.ok() || r->wrong.size() != wrong) state.SkipWithError("decoding failed");
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_ShamirDecoderCreate(benchmark::State& state) {
  std::vector<uint64_t> xs(100);
  for (size_t i = 0; i < xs.size(); ++i) xs[i] = i + 1;
  for (auto _ : state) benchmark::DoNotOptimize(fedra::secagg::ShamirDecoder::Create(xs, 67));
}

// The masked input's tag hashes the whole vector once on each side: SHA-256 of 100k words.
void BM_InputDigestSha256(benchmark::State& state) {
  const std::vector<uint32_t> words(static_cast<size_t>(state.range(0)), 7);
  unsigned char md[32];
  for (auto _ : state) {
    EVP_Digest(words.data(), words.size() * 4, md, nullptr, EVP_sha256(), nullptr);
    benchmark::DoNotOptimize(md);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(words.size() * 4));
}

BENCHMARK(BM_RawAesCtrKeystream)->Arg(100'000);
BENCHMARK(BM_ShamirDecode)->Arg(0)->Arg(1)->Arg(16)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ShamirDecoderCreate)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_InputDigestSha256)->Arg(100'000);
BENCHMARK(BM_MaskExpansion)->Arg(100'000);
BENCHMARK(BM_X25519Agreement);
// 42 = SecAgg+ default k for 10,000 clients; 499 = classic SecAgg with 500 clients.
BENCHMARK(BM_ClientMaskStage)->Arg(42)->Iterations(40)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ClientMaskStage)->Arg(499)->Iterations(20)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
