// Paillier throughput at 2048-bit n. Every operation has a raw OpenSSL baseline of the same
// modulus and exponent size in the same run, so results read as ratios on any machine:
//   BM_RawModExp/n2/e1024      BN_mod_exp_mont mod n^2, 1024-bit exponent   vs BM_EncryptDjn
//   BM_RawModExp/n2/e2048      BN_mod_exp_mont mod n^2, 2048-bit exponent   vs BM_EncryptTextbook
//   BM_RawCrtHalves            two BN_mod_exp_mont_consttime mod p^2, q^2 with 1024-bit
//                              exponents (a CRT decryption's exponentiations)  vs BM_Decrypt
//   BM_RawMontMul              one BN_mod_mul_montgomery mod n^2             vs BM_Add, BM_Fold
//   BM_RawModExpHalf           BN_mod_exp_mont_consttime mod p^2 (2048 bits), 1024-bit
//                              exponent: one of the two halves of a CRT encryption  vs
//                              BM_EncryptDjnCrt (SecretKey::Encrypt, key holders only)
//   BM_RawMontMulHalf          one BN_mod_mul_montgomery mod p^2             vs BM_TablePowHalf
// and a 100,000-parameter update from 10 clients (encrypt one client, public and CRT; aggregate
// 10; decrypt; verifiable decryption: open, and verify the opening) on 1 and 2 threads.
//
//   build/paillier/bench/paillier_bench --benchmark_min_time=2
//   ... --benchmark_filter='Crt|Half|RawModExp|EncryptDjn/|Packed'   (the CRT rows alone)
#include <benchmark/benchmark.h>

#include <openssl/bn.h>

#include <mutex>
#include <vector>

#include "fedra/core/rng.h"
#include "fedra/core/thread_pool.h"
#include "fedra/privacy/paillier/encrypted_aggregator.h"
#include "fedra/privacy/paillier/encrypted_update.h"
#include "fedra/privacy/paillier/secret_key.h"
#include "privacy/paillier/key_impl.h"

namespace {

using fedra::paillier::BigBytes;
using fedra::paillier::Ciphertext;
using fedra::paillier::PackingConfig;
using fedra::paillier::SecretKey;
namespace internal = fedra::paillier::internal;

// The federated configuration: weights up to 10,000 examples, 16 fractional bits, 10 clients.
constexpr PackingConfig kConfig{
    .max_abs_value = 1.0, .max_weight = 10000, .precision_bits = 16, .max_clients = 10};

const SecretKey& Key() {
  static const SecretKey* key = new SecretKey(*fedra::paillier::GenerateKeyPair());
  return *key;
}

const SecretKey& KeyWithWindow(int window) {
  static std::mutex mu;
  static std::vector<const SecretKey*> keys(9, nullptr);
  std::lock_guard<std::mutex> lock(mu);
  if (keys[window] == nullptr) {
    keys[window] =
        new SecretKey(*SecretKey::FromPrimes(Key().p(), Key().q(), {.window_bits = window}));
  }
  return *keys[window];
}

BigBytes RandomPlain(const fedra::paillier::PublicKey& key, uint64_t seed) {
  fedra::Rng rng(seed);
  BigBytes m(key.modulus_bytes());
  for (auto& b : m) b = static_cast<uint8_t>(rng.NextU64());
  m[0] &= 0x7f;
  return m;
}

std::vector<float> RandomUpdate(size_t n, uint64_t seed) {
  fedra::Rng rng(seed);
  std::vector<float> v(n);
  for (float& x : v) x = static_cast<float>(rng.Uniform() * 2 - 1);
  return v;
}

void BM_RawModExp(benchmark::State& state) {
  const internal::PublicKeyImpl& k = Key().public_key().impl();
  internal::BnCtx ctx = internal::NewCtx();
  internal::Bn e = internal::NewBn();
  internal::Bn out = internal::NewBn();
  BN_rand(e.get(), static_cast<int>(state.range(0)), BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY);
  for (auto _ : state) {
    BN_mod_exp_mont(out.get(), k.hs.get(), e.get(), k.n2.get(), ctx.get(), k.mont_n2.get());
    benchmark::DoNotOptimize(out.get());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RawModExp)->ArgName("e")->Arg(1024)->Arg(2048)->ThreadRange(1, 2)->UseRealTime();

void BM_EncryptDjn(benchmark::State& state) {
  const auto& pub = KeyWithWindow(static_cast<int>(state.range(0))).public_key();
  const BigBytes m = RandomPlain(pub, 1);
  for (auto _ : state) benchmark::DoNotOptimize(pub.Encrypt(m));
  state.SetItemsProcessed(state.iterations());
  state.counters["table_MiB"] =
      static_cast<double>(pub.impl().table->size_bytes()) / (1024.0 * 1024.0);
}
BENCHMARK(BM_EncryptDjn)
    ->ArgName("window")
    ->Arg(4)
    ->Arg(5)
    ->Arg(6)
    ->ThreadRange(1, 2)
    ->UseRealTime();

void BM_EncryptTextbook(benchmark::State& state) {
  const auto& pub = Key().public_key();
  const BigBytes m = RandomPlain(pub, 2);
  for (auto _ : state) benchmark::DoNotOptimize(pub.EncryptTextbook(m));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EncryptTextbook)->ThreadRange(1, 2)->UseRealTime();

void BM_EncryptCrt(benchmark::State& state) {
  const BigBytes m = RandomPlain(Key().public_key(), 3);
  for (auto _ : state) benchmark::DoNotOptimize(Key().EncryptCrt(m));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EncryptCrt)->ThreadRange(1, 2)->UseRealTime();

// Key-holder DJN encryption: h_s^alpha modulo p^2 and q^2 from two tables, CRT recombination.
void BM_EncryptDjnCrt(benchmark::State& state) {
  const SecretKey& key = KeyWithWindow(static_cast<int>(state.range(0)));
  const BigBytes m = RandomPlain(key.public_key(), 1);
  for (auto _ : state) benchmark::DoNotOptimize(key.Encrypt(m));
  state.SetItemsProcessed(state.iterations());
  state.counters["tables_MiB"] =
      static_cast<double>(key.impl().table_p2->size_bytes() + key.impl().table_q2->size_bytes()) /
      (1024.0 * 1024.0);
}
BENCHMARK(BM_EncryptDjnCrt)
    ->ArgName("window")
    ->Arg(4)
    ->Arg(5)
    ->Arg(6)
    ->ThreadRange(1, 2)
    ->UseRealTime();

// Loading a secret key from its primes: prime checks, the public table, the two CRT tables.
void BM_SecretKeyFromPrimes(benchmark::State& state) {
  const BigBytes p = Key().p();
  const BigBytes q = Key().q();
  for (auto _ : state) benchmark::DoNotOptimize(SecretKey::FromPrimes(p, q));
}
BENCHMARK(BM_SecretKeyFromPrimes)->Iterations(5)->UseRealTime()->Unit(benchmark::kMillisecond);

// One CRT half without a table: a 1024-bit secret exponent modulo the 2048-bit p^2.
void BM_RawModExpHalf(benchmark::State& state) {
  const internal::SecretKeyImpl& s = Key().impl();
  internal::BnCtx ctx = internal::NewCtx();
  internal::Bn base = internal::NewBn();
  internal::Bn e = internal::NewSecretBn();
  internal::Bn out = internal::NewBn();
  BN_nnmod(base.get(), Key().public_key().impl().hs.get(), s.p2.get(), ctx.get());
  BN_rand(e.get(), 1024, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY);
  for (auto _ : state) {
    BN_mod_exp_mont_consttime(out.get(), base.get(), e.get(), s.p2.get(), ctx.get(),
                              s.mont_p2.get());
    benchmark::DoNotOptimize(out.get());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RawModExpHalf)->ThreadRange(1, 2)->UseRealTime();

void BM_RawMontMulHalf(benchmark::State& state) {
  const internal::SecretKeyImpl& s = Key().impl();
  internal::BnCtx ctx = internal::NewCtx();
  internal::Bn b = internal::NewBn();
  BN_nnmod(b.get(), Key().public_key().impl().hs.get(), s.p2.get(), ctx.get());
  internal::Bn a = internal::CopyBn(b.get());
  for (auto _ : state) {
    BN_mod_mul_montgomery(a.get(), a.get(), b.get(), s.mont_p2.get(), ctx.get());
    benchmark::DoNotOptimize(a.get());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RawMontMulHalf)->UseRealTime();

// One table exponentiation modulo p^2 (half of BM_EncryptDjnCrt's work).
void BM_TablePowHalf(benchmark::State& state) {
  const internal::SecretKeyImpl& s = Key().impl();
  internal::BnCtx ctx = internal::NewCtx();
  internal::Bn e = internal::NewBn();
  internal::Bn out = internal::NewBn();
  BN_rand(e.get(), 1024, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY);
  for (auto _ : state) {
    s.table_p2->PowMont(e.get(), out.get(), ctx.get());
    benchmark::DoNotOptimize(out.get());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TablePowHalf)->UseRealTime();

void BM_RawCrtHalves(benchmark::State& state) {
  const internal::SecretKeyImpl& s = Key().impl();
  internal::BnCtx ctx = internal::NewCtx();
  internal::Bn base = internal::NewBn();
  internal::Bn out = internal::NewBn();
  BN_rand_range(base.get(), s.p2.get());
  for (auto _ : state) {
    BN_mod_exp_mont_consttime(out.get(), base.get(), s.pm1.get(), s.p2.get(), ctx.get(),
                              s.mont_p2.get());
    BN_mod_exp_mont_consttime(out.get(), base.get(), s.qm1.get(), s.q2.get(), ctx.get(),
                              s.mont_q2.get());
    benchmark::DoNotOptimize(out.get());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RawCrtHalves)->ThreadRange(1, 2)->UseRealTime();

void BM_Decrypt(benchmark::State& state) {
  const Ciphertext c = *Key().public_key().Encrypt(RandomPlain(Key().public_key(), 4));
  for (auto _ : state) benchmark::DoNotOptimize(Key().Decrypt(c));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Decrypt)->ThreadRange(1, 2)->UseRealTime();

void BM_RawMontMul(benchmark::State& state) {
  const internal::PublicKeyImpl& k = Key().public_key().impl();
  internal::BnCtx ctx = internal::NewCtx();
  internal::Bn a = internal::CopyBn(k.hs.get());
  for (auto _ : state) {
    BN_mod_mul_montgomery(a.get(), a.get(), k.hs.get(), k.mont_n2.get(), ctx.get());
    benchmark::DoNotOptimize(a.get());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RawMontMul)->UseRealTime();

// The fixed-base exponentiation alone (h_s^alpha, 1024-bit alpha, default window 5).
void BM_TablePow(benchmark::State& state) {
  const internal::PublicKeyImpl& k = Key().public_key().impl();
  internal::BnCtx ctx = internal::NewCtx();
  internal::Bn e = internal::NewBn();
  internal::Bn out = internal::NewBn();
  BN_rand(e.get(), 1024, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY);
  for (auto _ : state) {
    k.table->PowMont(e.get(), out.get(), ctx.get());
    benchmark::DoNotOptimize(out.get());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TablePow)->UseRealTime();

// PublicKey::Add on bytes: validation, conversions and two Montgomery multiplications.
void BM_Add(benchmark::State& state) {
  const auto& pub = Key().public_key();
  const Ciphertext a = pub.EncryptInt(1);
  const Ciphertext b = pub.EncryptInt(2);
  for (auto _ : state) benchmark::DoNotOptimize(pub.Add(a, b));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Add)->UseRealTime();

// Encrypting a packed update: values per second (items), one and two threads.
void BM_PackedEncrypt(benchmark::State& state) {
  const auto& pub = Key().public_key();
  const std::vector<float> v = RandomUpdate(6000, 5);
  fedra::ThreadPool pool(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    benchmark::DoNotOptimize(fedra::paillier::EncryptUpdate(pub, v, 100, kConfig, &pool));
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(v.size()));
}
BENCHMARK(BM_PackedEncrypt)
    ->ArgName("threads")
    ->Arg(1)
    ->Arg(2)
    ->MeasureProcessCPUTime()
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// The same with the key holder's CRT encryption (EncryptUpdate with a SecretKey).
void BM_PackedEncryptCrt(benchmark::State& state) {
  const std::vector<float> v = RandomUpdate(6000, 5);
  fedra::ThreadPool pool(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    benchmark::DoNotOptimize(fedra::paillier::EncryptUpdate(Key(), v, 100, kConfig, &pool));
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(v.size()));
}
BENCHMARK(BM_PackedEncryptCrt)
    ->ArgName("threads")
    ->Arg(1)
    ->Arg(2)
    ->MeasureProcessCPUTime()
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

constexpr size_t kParams = 100000;
constexpr int kClients = 10;

const fedra::paillier::EncryptedUpdate& ClientUpdate() {
  static const auto* u = new fedra::paillier::EncryptedUpdate(
      *fedra::paillier::EncryptUpdate(Key().public_key(), RandomUpdate(kParams, 6), 500, kConfig));
  return *u;
}

void BM_Fl100kEncryptOneClient(benchmark::State& state) {
  const auto& pub = Key().public_key();
  const std::vector<float> v = RandomUpdate(kParams, 7);
  fedra::ThreadPool pool(static_cast<size_t>(state.range(0)));
  size_t bytes = 0;
  size_t ciphertexts = 0;
  for (auto _ : state) {
    auto u = fedra::paillier::EncryptUpdate(pub, v, 500, kConfig, &pool);
    bytes = fedra::paillier::SerializeEncryptedUpdate(*u).size();
    ciphertexts = u->ciphertexts.size();
  }
  state.counters["bytes_per_client"] = static_cast<double>(bytes);
  state.counters["plain_float32_bytes"] = static_cast<double>(kParams * sizeof(float));
  state.counters["ciphertexts"] = static_cast<double>(ciphertexts);
}
BENCHMARK(BM_Fl100kEncryptOneClient)
    ->ArgName("threads")
    ->Arg(1)
    ->Arg(2)
    ->Iterations(2)
    ->MeasureProcessCPUTime()
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void BM_Fl100kEncryptOneClientCrt(benchmark::State& state) {
  const std::vector<float> v = RandomUpdate(kParams, 7);
  fedra::ThreadPool pool(static_cast<size_t>(state.range(0)));
  size_t ciphertexts = 0;
  for (auto _ : state) {
    auto u = fedra::paillier::EncryptUpdate(Key(), v, 500, kConfig, &pool);
    ciphertexts = u->ciphertexts.size();
  }
  state.counters["ciphertexts"] = static_cast<double>(ciphertexts);
}
BENCHMARK(BM_Fl100kEncryptOneClientCrt)
    ->ArgName("threads")
    ->Arg(1)
    ->Arg(2)
    ->Iterations(2)
    ->MeasureProcessCPUTime()
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// The server folds 10 updates (the same client's ciphertexts each time: identical cost).
void BM_Fl100kAggregate10(benchmark::State& state) {
  const auto& u = ClientUpdate();
  fedra::ThreadPool pool(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    auto agg = *fedra::paillier::EncryptedAggregator::Create(Key().public_key(), kConfig, kParams);
    for (int c = 0; c < kClients; ++c) {
      if (!agg.Add(u, &pool).ok()) state.SkipWithError("Add failed");
    }
    benchmark::DoNotOptimize(agg.Result(&pool));
  }
}
BENCHMARK(BM_Fl100kAggregate10)
    ->ArgName("threads")
    ->Arg(1)
    ->Arg(2)
    ->Iterations(3)
    ->MeasureProcessCPUTime()
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

const fedra::paillier::EncryptedUpdate& Total10() {
  static const auto* sum = [] {
    auto agg = *fedra::paillier::EncryptedAggregator::Create(Key().public_key(), kConfig, kParams);
    for (int c = 0; c < kClients; ++c) FEDRA_CHECK(agg.Add(ClientUpdate()).ok());
    return new fedra::paillier::EncryptedUpdate(*agg.Result());
  }();
  return *sum;
}

void BM_Fl100kDecrypt(benchmark::State& state) {
  const auto* sum = &Total10();
  fedra::ThreadPool pool(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    auto out = fedra::paillier::DecryptAggregate(Key(), *sum, kConfig, &pool);
    if (!out.ok()) state.SkipWithError("decrypt failed");
  }
}
BENCHMARK(BM_Fl100kDecrypt)
    ->ArgName("threads")
    ->Arg(1)
    ->Arg(2)
    ->Iterations(2)
    ->MeasureProcessCPUTime()
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// Verifiable decryption of the same total: the decryptor's opening (plaintext and randomness of
// every ciphertext) and the server's check of it with the public key, beside BM_Fl100kDecrypt.
void BM_Fl100kOpen(benchmark::State& state) {
  fedra::ThreadPool pool(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    auto out = fedra::paillier::OpenAggregate(Key(), Total10(), kConfig, &pool);
    if (!out.ok()) state.SkipWithError("open failed");
  }
  state.counters["ciphertexts"] = static_cast<double>(Total10().ciphertexts.size());
}
BENCHMARK(BM_Fl100kOpen)
    ->ArgName("threads")
    ->Arg(1)
    ->Arg(2)
    ->Iterations(2)
    ->MeasureProcessCPUTime()
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void BM_Fl100kVerifyOpening(benchmark::State& state) {
  static const auto* openings = new std::vector<fedra::paillier::Opening>(
      *fedra::paillier::OpenAggregate(Key(), Total10(), kConfig));
  fedra::ThreadPool pool(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    auto out = fedra::paillier::VerifyAndUnpackAggregate(Key().public_key(), Total10(), kConfig,
                                                         *openings, &pool);
    if (!out.ok()) state.SkipWithError("verify failed");
  }
}
BENCHMARK(BM_Fl100kVerifyOpening)
    ->ArgName("threads")
    ->Arg(1)
    ->Arg(2)
    ->Iterations(2)
    ->MeasureProcessCPUTime()
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
