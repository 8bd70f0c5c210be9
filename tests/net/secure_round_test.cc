// Secure rounds over gRPC on 127.0.0.1: real fedra::Clients (threads of this test) run secure
// aggregation's four STAGE tasks or Paillier with a real server. The protocol's total must
// equal the plain sum of the terms the clients folded (within the quantization/packing bound),
// a client that misses a stage's deadline must drop out of the sum, too few survivors must
// abort the round, and hostile answers must be refused without harming the round.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <future>
#include <mutex>
#include <thread>

#include "fedra/fl/fed_avg.h"
#include "fedra/fl/round_driver.h"
#include "fedra/fl/strategy_config.h"
#include "fedra/ml/model_zoo.h"
#include "fedra/ml/synthetic.h"
#include "fedra/net/client.h"
#include "fedra/net/server.h"
#include "fedra/privacy/paillier/encrypted_update.h"
#include "fedra/privacy/paillier/key_json.h"
#include "fedra/privacy/paillier/opening.h"
#include "fedra/privacy/paillier/secret_key.h"
#include "fedra/privacy/secagg/messages.h"
#include "fedra/privacy/secagg/quantizer.h"
#include "net/client_secure.h"
#include "net/raw_client.h"
#include "net/wire.h"

namespace fedra {
namespace {

constexpr int kClients = 5;

class SecureRoundTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Rng rng(11);
    auto parts = MakeFedProxSynthetic({.num_clients = kClients}, rng);
    ASSERT_TRUE(parts.ok()) << parts.status().ToString();
    for (auto& p : *parts) data_.push_back(std::move(p));
    auto m = NewModelByName("logreg", data_[0].example_shape, 10, 1);
    ASSERT_TRUE(m.ok());
    prototype_ = std::move(*m);
    terms_.resize(kClients);
  }

  void TearDown() override {
    for (auto& c : clients_) c->Stop();  // also those still sleeping in a stage hook
    if (server_) server_->Shutdown(std::chrono::milliseconds(300));
    for (auto& r : runs_) r.wait();
  }

  void StartServer(SecureRoundOptions secure) {
    secure.stage_deadline_seconds = 3;  // slow clients sleep past it; others have ample time
    auto s = Server::Start({.address = "127.0.0.1:0",
                            .insecure = true,
                            .round_deadline_seconds = 30,
                            .poll_seconds = 0.2,
                            .heartbeat_seconds = 1,
                            .secure = secure});
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(*s);
  }

  // Client i folds like FedAvg and records its terms; `slow_stage` >= 0 makes it answer that
  // secure-aggregation stage only after the stage deadline.
  void StartClient(int i, int slow_stage = -1, std::string key_file = "") {
    models_.push_back(prototype_->Clone());
    losses_.push_back(NewSoftmaxCrossEntropy());
    ClientOptions o{.server = "127.0.0.1:" + std::to_string(server_->port()),
                    .name = "client-" + std::to_string(i),
                    .insecure = true,
                    .initial_backoff_seconds = 0.1,
                    .max_backoff_seconds = 0.5,
                    .give_up_seconds = 60,
                    .seed = static_cast<uint64_t>(i + 1)};
    o.paillier_secret_key_file = std::move(key_file);
    o.fold = [this, i](const FitResult& r, UpdateAccumulator& acc) {
      acc.Add("update", static_cast<float>(r.num_examples), r.update);
      acc.AddScalar("weight", static_cast<double>(r.num_examples));
      std::lock_guard lock(mu_);
      terms_[i] = acc;
    };
    if (slow_stage >= 0) {
      auto once = std::make_shared<std::atomic<bool>>(false);
      o.on_stage = [slow_stage, once](const std::string&, uint32_t stage) {
        if (static_cast<int>(stage) == slow_stage && !once->exchange(true)) {
          std::this_thread::sleep_for(std::chrono::milliseconds(4500));
        }
      };
    }
    clients_.push_back(
        std::make_unique<Client>(*models_.back(), *losses_.back(), data_[i], empty_, std::move(o)));
    Client* c = clients_.back().get();
    runs_.push_back(std::async(std::launch::async, [c] { return c->Run(); }));
  }

  RoundPlan PlanForAll(int round) {
    RoundPlan plan;
    plan.round = round;
    for (ClientId id : server_->pool().AvailableClients()) {
      plan.tasks.push_back({.client = id, .config = {.epochs = 1, .batch_size = 8}});
    }
    return plan;
  }

  struct Outcome {
    StatusOr<SecureSum::Total> total = InternalError("not run");
    size_t reports = 0, failures = 0;
  };
  Outcome RunRound(int round, size_t max_losses = kClients) {
    Outcome out;
    RoundPlan plan = PlanForAll(round);
    out.total = server_->pool().RunSecureFit(
        prototype_->parameters(), plan, max_losses, [&](size_t, StatusOr<FitResult> r) {
          ++(r.ok() ? out.reports : out.failures);
          if (r.ok()) {
            EXPECT_EQ(r->update.size(), 0u) << "an update reached the server";
            EXPECT_EQ(r->num_examples, 1u) << "the example count (the weight) was revealed";
            EXPECT_TRUE(r->metrics.empty()) << "per-client metrics were revealed";
          }
        });
    return out;
  }

  // The plain sum of the recorded terms of `members`, compared with `total` within `bound`.
  void ExpectSumOf(const std::vector<int>& members, const UpdateAccumulator& total, double bound) {
    std::lock_guard lock(mu_);
    UpdateAccumulator plain;
    for (int i : members) {
      plain.Add("update", 1.0f, terms_[i].sum("update"));
      plain.AddScalar("weight", terms_[i].scalar("weight"));
    }
    ASSERT_TRUE(total.has("update"));
    const Parameters& got = total.sum("update");
    const Parameters& want = plain.sum("update");
    ASSERT_EQ(got.size(), want.size());
    double worst = 0;
    for (size_t j = 0; j < got.size(); ++j) {
      worst = std::max(worst, std::abs(double{got.data()[j]} - want.data()[j]));
    }
    EXPECT_LE(worst, bound);
    EXPECT_GT(want.L2Norm(), 0.1);  // a real training update, not zeros
    EXPECT_NEAR(total.scalar("weight"), plain.scalar("weight"), bound);
  }

  // A participant on a raw connection (slot `i` of terms_): its update is zeros of one
  // example, folded like FedAvg; FIT and STAGE answers come from a real SecureParticipant,
  // and `tamper` may rewrite a STAGE answer before it is sent (the hostile part). Answers
  // tasks until `done`; returns the server's status for each answer `tamper` changed.
  std::vector<grpc::StatusCode> Participate(
      testing::RawClient& client, ClientOptions o, int i, const std::atomic<bool>& done,
      const std::function<bool(const v1::TaskHeader&, std::string&)>& tamper) {
    o.fold = [this, i](const FitResult& r, UpdateAccumulator& acc) {
      acc.Add("update", static_cast<float>(r.num_examples), r.update);
      acc.AddScalar("weight", static_cast<double>(r.num_examples));
      std::lock_guard lock(mu_);
      terms_[i] = acc;
    };
    net::SecureParticipant participant(o);
    std::vector<grpc::StatusCode> tampered;
    while (!done) {
      v1::TaskHeader task;
      std::map<std::string, Parameters> groups;
      if (!client.Poll(&task, &groups).ok() || task.kind() == v1::WAIT) continue;
      v1::ResultHeader h = client.HeaderFor(task);
      std::string payload;
      bool changed = false;
      if (task.kind() == v1::FIT) {
        FitResult zeros{.update = groups.at("global"), .num_examples = 1};
        zeros.update.SetZero();
        auto up = participant.PrepareFit(task.fit().secure(), zeros, *net::FromProto(task.fit()),
                                         task.round());
        EXPECT_TRUE(up.ok()) << up.status().ToString();
        if (!up.ok()) return tampered;
        h.mutable_fit()->set_num_examples(1);
        for (const auto& n : up->sum_names) h.mutable_fit()->add_sum_names(n);
        for (const auto& n : up->scalar_names) h.mutable_fit()->add_scalar_names(n);
        payload = std::move(up->payload);
      } else if (task.kind() == v1::STAGE) {
        auto reply = participant.Stage(task.stage(), task.round(), client.opaque());
        EXPECT_TRUE(reply.ok()) << reply.status().ToString();
        if (!reply.ok()) return tampered;
        payload = std::move(*reply);
        changed = tamper(task, payload);
        h.mutable_stage()->set_stage(task.stage().stage());
      } else {
        continue;
      }
      h.set_payload_bytes(payload.size());
      const grpc::Status sent = client.Submit(h, {payload});
      if (changed) tampered.push_back(sent.error_code());
    }
    return tampered;
  }

  std::unique_ptr<Server> server_;
  std::vector<Dataset> data_;
  const Dataset empty_{};
  std::unique_ptr<Model> prototype_;
  std::vector<std::unique_ptr<Model>> models_;
  std::vector<std::unique_ptr<Loss>> losses_;
  std::vector<std::unique_ptr<Client>> clients_;
  std::vector<std::future<Status>> runs_;
  std::mutex mu_;
  std::vector<UpdateAccumulator> terms_;
};

// Sets `flag` when a test leaves, by success or a failed ASSERT, so that participant threads
// stop and their futures can be joined.
struct RaiseOnExit {
  std::atomic<bool>& flag;
  ~RaiseOnExit() { flag = true; }
};

double SecAggBound(uint32_t n, uint32_t summed) {
  auto q = secagg::Quantizer::Create({.clip = 1e5, .num_clients = n});
  return q->SumErrorBound(summed) + 1e-3;  // + float rounding of the reference sum
}

TEST_F(SecureRoundTest, SecAggTotalEqualsThePlainSumOfTheFoldedTerms) {
  StartServer({.protocol = "secagg"});
  for (int i = 0; i < kClients; ++i) StartClient(i);
  ASSERT_EQ(server_->WaitForClients(kClients, std::chrono::seconds(20)), size_t{kClients});
  EXPECT_EQ(server_->pool().secure_sum_name(), "secure aggregation");
  Outcome out = RunRound(1);
  ASSERT_TRUE(out.total.ok()) << out.total.status().ToString();
  EXPECT_EQ(out.reports, size_t{kClients});
  EXPECT_EQ(out.total->dropped, 0u);
  ExpectSumOf({0, 1, 2, 3, 4}, out.total->sums, SecAggBound(kClients, kClients));
}

class SecAggDropTest : public SecureRoundTest, public ::testing::WithParamInterface<int> {};

// A client that misses stage s's deadline: before the masked input (s < 3) its update is not
// in the sum; at unmasking (s = 3) it is, and the others' shares remove its masks.
TEST_P(SecAggDropTest, AClientLateForAStageLeavesOrStaysInTheSumAsTheProtocolSays) {
  const int stage = GetParam();
  StartServer({.protocol = "secagg"});
  for (int i = 0; i < kClients; ++i) StartClient(i, i == 2 ? stage : -1);
  ASSERT_EQ(server_->WaitForClients(kClients, std::chrono::seconds(20)), size_t{kClients});
  Outcome out = RunRound(1);
  ASSERT_TRUE(out.total.ok()) << out.total.status().ToString();
  if (stage < 3) {
    EXPECT_EQ(out.total->dropped, 1u);
    ExpectSumOf({0, 1, 3, 4}, out.total->sums, SecAggBound(kClients, kClients - 1));
  } else {
    EXPECT_EQ(out.total->dropped, 0u);
    ExpectSumOf({0, 1, 2, 3, 4}, out.total->sums, SecAggBound(kClients, kClients));
  }
  // The late client is back for the next round.
  Outcome next = RunRound(2);
  ASSERT_TRUE(next.total.ok()) << next.total.status().ToString();
  EXPECT_EQ(next.total->dropped, 0u);
}

INSTANTIATE_TEST_SUITE_P(EveryStage, SecAggDropTest, ::testing::Values(0, 1, 2, 3));

// A round the driver will discard (more losses than it tolerates) must not reveal its sum.
TEST_F(SecureRoundTest, TooManyLossesStopBeforeTheSumIsUnmasked) {
  StartServer({.protocol = "secagg"});
  for (int i = 0; i < kClients; ++i) StartClient(i, i == 1 ? 2 : -1);
  ASSERT_EQ(server_->WaitForClients(kClients, std::chrono::seconds(20)), size_t{kClients});
  Outcome out = RunRound(1, /*max_losses=*/0);
  ASSERT_FALSE(out.total.ok());
  EXPECT_NE(out.total.status().message().find("the sum is not unmasked"), std::string::npos)
      << out.total.status().ToString();
}

TEST_F(SecureRoundTest, TheMeanTrainingLossComesOutOfTheProtectedTotal) {
  StartServer({.protocol = "secagg"});
  for (int i = 0; i < 3; ++i) StartClient(i);
  ASSERT_EQ(server_->WaitForClients(3, std::chrono::seconds(20)), 3u);
  Outcome out = RunRound(1);
  ASSERT_TRUE(out.total.ok()) << out.total.status().ToString();
  const double examples = out.total->sums.scalar(kSecureExamplesScalar);
  EXPECT_NEAR(examples, out.total->sums.scalar("weight"), 1e-2);
  const double loss = out.total->sums.scalar(kSecureLossScalar) / examples;
  EXPECT_GT(loss, 0.0);
  EXPECT_LT(loss, 10.0);
}

TEST_F(SecureRoundTest, SecAggBelowThresholdAbortsAndTheModelStaysUnchanged) {
  StartServer({.protocol = "secagg"});  // 4 clients: threshold 3
  for (int i = 0; i < 4; ++i) StartClient(i, i < 2 ? 2 : -1);
  ASSERT_EQ(server_->WaitForClients(4, std::chrono::seconds(20)), 4u);
  FedAvgOptions fo;
  fo.sampling.min_fit_clients = 4;
  fo.sampling.min_available_clients = 4;
  fo.fit = {.epochs = 1, .batch_size = 8};
  auto strategy = NewFedAvg(fo);
  ASSERT_TRUE(strategy.ok());
  RoundDriver driver(**strategy, server_->pool(), {.num_rounds = 1});
  Parameters global = prototype_->parameters();
  const Parameters before = global;
  RoundMetrics m = driver.RunRound(1, global);
  EXPECT_FALSE(m.aggregated);
  EXPECT_NE(m.error.find("secure aggregation"), std::string::npos) << m.error;
  EXPECT_TRUE(std::equal(global.data(), global.data() + global.size(), before.data()));
}

TEST_F(SecureRoundTest, IndividualStrategiesAreRefusedBeforeAnyClientIsAsked) {
  StartServer({.protocol = "secagg"});
  StrategyConfig config;  // (a designated initializer makes GCC 12 warn, wrongly, of a map)
  config.name = "fedmedian";
  auto median = NewStrategy(config);
  ASSERT_TRUE(median.ok());
  RoundDriver driver(**median, server_->pool(), {.num_rounds = 1});
  Parameters global = prototype_->parameters();
  RoundMetrics m = driver.RunRound(1, global);
  EXPECT_FALSE(m.aggregated);
  EXPECT_NE(m.error.find("only reveals their sum"), std::string::npos) << m.error;
  EXPECT_EQ(m.fit_clients, 0u);
}

TEST_F(SecureRoundTest, HostileAnswersAreRefusedAndTheRoundGoesOnWithoutThem) {
  StartServer({.protocol = "secagg"});
  for (int i = 0; i < 4; ++i) StartClient(i);
  testing::RawClient plaintext(server_->port()), garbage(server_->port());
  ASSERT_TRUE(plaintext.Register("plaintext").ok());
  ASSERT_TRUE(garbage.Register("garbage").ok());
  ASSERT_EQ(server_->WaitForClients(6, std::chrono::seconds(20)), 6u);
  // A plaintext update in a secure round: refused with the reason, and the task is over.
  auto hostile1 = std::async(std::launch::async, [&] {
    v1::TaskHeader task;
    std::map<std::string, Parameters> groups;
    EXPECT_TRUE(plaintext.NextTask(&task, &groups).ok());
    EXPECT_EQ(task.fit().secure().protocol(), "secagg");
    grpc::Status s = plaintext.Submit(plaintext.FitHeader(task, groups.at("global"), 10),
                                      {testing::RawClient::Bytes(groups.at("global"))});
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_NE(s.error_message().find("plaintext tensors are refused"), std::string::npos);
    v1::ResultHeader h = plaintext.HeaderFor(task);
    h.mutable_fit()->set_num_examples(1);
    h.mutable_fit()->add_sum_names("update");
    const auto again = plaintext.Submit(h, {}).error_code();  // duplicate, or late
    EXPECT_TRUE(again == grpc::StatusCode::ALREADY_EXISTS ||
                again == grpc::StatusCode::FAILED_PRECONDITION)
        << again;
  });
  // A proper secure FIT answer, then garbage at stage 0, then the same answer again.
  auto hostile2 = std::async(std::launch::async, [&] {
    v1::TaskHeader task;
    std::map<std::string, Parameters> groups;
    EXPECT_TRUE(garbage.NextTask(&task, &groups).ok());
    // The layout the server announced in the task (FedAvg's fold and the secure scalars).
    const auto& secure = task.fit().secure();
    EXPECT_EQ(std::vector<std::string>(secure.sum_names().begin(), secure.sum_names().end()),
              std::vector<std::string>{"update"});
    EXPECT_EQ(std::vector<std::string>(secure.scalar_names().begin(), secure.scalar_names().end()),
              (std::vector<std::string>{kSecureExamplesScalar, kSecureLossScalar, "weight"}));
    v1::ResultHeader h = garbage.SecureFitHeader(task);
    EXPECT_TRUE(garbage.Submit(h, {}).ok());
    EXPECT_TRUE(garbage.NextTask(&task, &groups).ok());
    EXPECT_EQ(task.kind(), v1::STAGE);
    v1::SecAggSetup setup;
    EXPECT_TRUE(setup.ParseFromString(garbage.opaque()));
    EXPECT_EQ(setup.num_clients(), 5u);
    v1::ResultHeader r = garbage.HeaderFor(task);
    r.mutable_stage()->set_stage(0);
    r.set_payload_bytes(7);
    // The protocol's refusal reaches the client (it used to get OK: the check ran after the
    // call had returned).
    const grpc::Status refused = garbage.Submit(r, {"garbage"});
    EXPECT_EQ(refused.error_code(), grpc::StatusCode::DATA_LOSS);
    EXPECT_NE(refused.error_message().find("malformed AdvertiseKeys"), std::string::npos)
        << refused.error_message();
    // Answering the same stage task twice is refused: as a duplicate, or as late if the
    // stage has closed meanwhile.
    const auto again = garbage.Submit(r, {"garbage"}).error_code();
    EXPECT_TRUE(again == grpc::StatusCode::ALREADY_EXISTS ||
                again == grpc::StatusCode::FAILED_PRECONDITION)
        << again;
  });
  Outcome out = RunRound(1);
  hostile1.get();
  hostile2.get();
  ASSERT_TRUE(out.total.ok()) << out.total.status().ToString();
  EXPECT_EQ(out.reports, 5u);
  EXPECT_EQ(out.failures, 1u);        // the plaintext client
  EXPECT_EQ(out.total->dropped, 1u);  // the garbage client: accepted after FIT, dropped at stage 0
  ExpectSumOf({0, 1, 2, 3}, out.total->sums, SecAggBound(5, 4));
}

// A participant that answers first with an extra or a renamed sum used to fix the round's
// layout, so that every honest client failed. The server announces the layout in the task; an
// odd answer is refused and the honest clients' round goes on.
TEST_F(SecureRoundTest, AnOddFirstAnswerCannotFixTheRoundsLayout) {
  StartServer({.protocol = "secagg"});
  testing::RawClient odd(server_->port()), renamed(server_->port());
  ASSERT_TRUE(odd.Register("odd").ok());
  ASSERT_TRUE(renamed.Register("renamed").ok());
  for (int i = 0; i < 3; ++i) StartClient(i);
  ASSERT_EQ(server_->WaitForClients(5, std::chrono::seconds(20)), 5u);
  auto answer = [&](testing::RawClient& raw, bool extra) {
    v1::TaskHeader task;
    std::map<std::string, Parameters> groups;
    EXPECT_TRUE(raw.NextTask(&task, &groups).ok());
    v1::ResultHeader h = raw.SecureFitHeader(task);
    if (extra) {
      h.mutable_fit()->add_sum_names("zz_extra");
    } else {
      h.mutable_fit()->set_sum_names(0, "renamed");
    }
    raw.Submit(h, {});  // answered at once: before any honest client has trained
  };
  auto a = std::async(std::launch::async, answer, std::ref(odd), true);
  auto b = std::async(std::launch::async, answer, std::ref(renamed), false);
  Outcome out = RunRound(1);
  a.get();
  b.get();
  ASSERT_TRUE(out.total.ok()) << out.total.status().ToString();
  EXPECT_EQ(out.reports, 3u);
  EXPECT_EQ(out.failures, 2u);
  ExpectSumOf({0, 1, 2}, out.total->sums, SecAggBound(5, 3));
}

// A participant that lies in the protocol: round 1 it reveals one share with 1 added to one
// chunk (this used to unmask to garbage: accuracy 0.78 -> 0.25), round 2 it flips a bit of its
// masked input, round 3 it answers with a masked input replayed from round 1. With 6
// participants and threshold 4 the wrong share is corrected and the total is exact; the
// altered and the replayed input abort their rounds (no total, model unchanged) instead of
// unmasking to garbage. Every lie is counted.
TEST_F(SecureRoundTest, LiesInTheSecAggProtocolAreCorrectedOrAbortTheRound) {
  StartServer({.protocol = "secagg", .secagg_threshold = 4});
  for (int i = 0; i < 5; ++i) StartClient(i);
  terms_.resize(6);
  testing::RawClient raw(server_->port());
  ASSERT_TRUE(raw.Register("liar").ok());
  ASSERT_EQ(server_->WaitForClients(6, std::chrono::seconds(20)), 6u);
  std::atomic<bool> done{false};
  std::string first_masked;
  using net::AsBytes, net::BytesToString;
  auto lie = [&](const v1::TaskHeader& task, std::string& reply) {
    const uint32_t stage = task.stage().stage();
    if (task.round() == 1 && stage == 2) first_masked = reply;
    if (task.round() == 1 && stage == 3) {
      auto r = secagg::ParseUnmaskResponse(AsBytes(reply));
      EXPECT_TRUE(r.ok());
      r->shares.at(0).y[1] = secagg::FieldAdd(r->shares.at(0).y[1], 1);
      reply = BytesToString(secagg::Serialize(*r));
      return true;
    }
    if (task.round() == 2 && stage == 2) {
      auto m = secagg::ParseMaskedInput(AsBytes(reply));
      EXPECT_TRUE(m.ok());
      m->masked.at(0) ^= 1u << 20;
      reply = BytesToString(secagg::Serialize(*m));
      return true;
    }
    if (task.round() == 3 && stage == 2) {
      auto old = secagg::ParseMaskedInput(AsBytes(first_masked));
      auto now = secagg::ParseMaskedInput(AsBytes(reply));
      EXPECT_TRUE(old.ok() && now.ok());
      old->sender = now->sender;  // its index in this round's protocol
      reply = BytesToString(secagg::Serialize(*old));
      return true;
    }
    return false;
  };
  auto liar = std::async(std::launch::async, [&] { return Participate(raw, {}, 5, done, lie); });
  RaiseOnExit stop{done};
  Outcome one = RunRound(1);
  ASSERT_TRUE(one.total.ok()) << one.total.status().ToString();
  EXPECT_EQ(one.total->dropped, 0u);
  ExpectSumOf({0, 1, 2, 3, 4, 5}, one.total->sums, SecAggBound(6, 6));
  EXPECT_EQ(server_->stats().forged_answers, 1u);
  for (int round : {2, 3}) {
    Outcome out = RunRound(round);
    ASSERT_FALSE(out.total.ok()) << "round " << round << " unmasked a total";
    EXPECT_NE(out.total.status().message().find("does not carry the tag"), std::string::npos)
        << out.total.status().ToString();
  }
  EXPECT_EQ(server_->stats().forged_answers, 3u);
  Outcome honest = RunRound(4);  // the liar answers honestly again: the round completes
  done = true;
  // Each lie passed the stage's checks on arrival (only the decoding or the tag reveal it).
  EXPECT_EQ(liar.get(), std::vector<grpc::StatusCode>(3, grpc::StatusCode::OK));
  ASSERT_TRUE(honest.total.ok()) << honest.total.status().ToString();
  ExpectSumOf({0, 1, 2, 3, 4, 5}, honest.total->sums, SecAggBound(6, 6));
}

class PaillierRoundTest : public SecureRoundTest {
 protected:
  static void SetUpTestSuite() {
    // One directory per process: ctest runs each test in its own process, in parallel.
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("fedra_paillier_round_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    for (const char* name : {"a", "b"}) {
      auto key = paillier::GenerateKeyPair({.modulus_bits = 2048});
      ASSERT_TRUE(key.ok()) << key.status().ToString();
      const auto base = dir_ / name;
      ASSERT_TRUE(paillier::WriteSecretKeyFile(base.string() + ".key.json", *key).ok());
      ASSERT_TRUE(
          paillier::WritePublicKeyFile(base.string() + ".pub.json", key->public_key()).ok());
    }
  }
  static void TearDownTestSuite() { std::filesystem::remove_all(dir_); }
  static std::string File(const char* name) { return (dir_ / name).string(); }
  static double Bound(int clients) {
    return clients * (std::ldexp(1.0, -17) + 1e5 * std::ldexp(1.0, -52)) + 1e-3;
  }
  static inline std::filesystem::path dir_;
};

TEST_F(PaillierRoundTest, ServerAddsCiphertextsAndAClientDecryptsOnlyTheTotal) {
  StartServer({.protocol = "paillier", .paillier_public_key_file = File("a.pub.json")});
  for (int i = 0; i < 3; ++i) StartClient(i, -1, File("a.key.json"));
  ASSERT_EQ(server_->WaitForClients(3, std::chrono::seconds(20)), 3u);
  Outcome out = RunRound(1);
  ASSERT_TRUE(out.total.ok()) << out.total.status().ToString();
  EXPECT_EQ(out.reports, 3u);
  ExpectSumOf({0, 1, 2}, out.total->sums, Bound(3));
}

TEST_F(PaillierRoundTest, AClientWithAnotherKeyFailsItsTaskAndTheOthersGoOn) {
  StartServer({.protocol = "paillier", .paillier_public_key_file = File("a.pub.json")});
  for (int i = 0; i < 3; ++i) StartClient(i, -1, File("a.key.json"));
  StartClient(3, -1, File("b.key.json"));
  ASSERT_EQ(server_->WaitForClients(4, std::chrono::seconds(20)), 4u);
  Outcome out = RunRound(1);
  ASSERT_TRUE(out.total.ok()) << out.total.status().ToString();
  EXPECT_EQ(out.reports, 3u);
  EXPECT_EQ(out.failures, 1u);
  ExpectSumOf({0, 1, 2}, out.total->sums, Bound(3));
}

// An upload the protocol refuses (ciphertexts that do not parse, a forged decryption) gets the
// refusal as its status, not OK; the round goes on with the others.
TEST_F(PaillierRoundTest, ARefusedUploadAndARefusedDecryptionAreToldToTheClient) {
  StartServer({.protocol = "paillier", .paillier_public_key_file = File("a.pub.json")});
  for (int i = 0; i < 2; ++i) StartClient(i, -1, File("a.key.json"));
  testing::RawClient raw(server_->port());
  ASSERT_TRUE(raw.Register("garbage").ok());
  ASSERT_EQ(server_->WaitForClients(3, std::chrono::seconds(20)), 3u);
  auto hostile = std::async(std::launch::async, [&] {
    v1::TaskHeader task;
    std::map<std::string, Parameters> groups;
    EXPECT_TRUE(raw.NextTask(&task, &groups).ok());
    v1::ResultHeader h = raw.SecureFitHeader(task);
    const std::string junk(100, 'x');
    h.set_payload_bytes(junk.size());
    return raw.Submit(h, {junk});
  });
  Outcome out = RunRound(1);
  const grpc::Status refused = hostile.get();
  EXPECT_TRUE(refused.error_code() == grpc::StatusCode::DATA_LOSS ||
              refused.error_code() == grpc::StatusCode::INVALID_ARGUMENT)
      << refused.error_code() << " " << refused.error_message();
  EXPECT_FALSE(refused.error_message().empty());
  ASSERT_TRUE(out.total.ok()) << out.total.status().ToString();
  EXPECT_EQ(out.reports, 2u);
  EXPECT_EQ(out.failures, 1u);
  ExpectSumOf({0, 1}, out.total->sums, Bound(2));
}

TEST_F(PaillierRoundTest, ATotalOfOneUpdateIsNeverDecrypted) {
  StartServer({.protocol = "paillier", .paillier_public_key_file = File("a.pub.json")});
  StartClient(0, -1, File("a.key.json"));
  ASSERT_EQ(server_->WaitForClients(1, std::chrono::seconds(20)), 1u);
  Outcome out = RunRound(1);
  ASSERT_FALSE(out.total.ok());
  EXPECT_NE(out.total.status().message().find("at least 2"), std::string::npos);

  // And a client asked to decrypt a single update by a dishonest server refuses.
  auto key = paillier::ReadSecretKeyFile(File("a.key.json"));
  ASSERT_TRUE(key.ok());
  const paillier::PackingConfig packing{.max_abs_value = 10, .max_weight = 1, .max_clients = 4};
  const std::vector<float> secret = {0.5f, -1.25f, 3.0f};
  auto one = paillier::EncryptUpdate(key->public_key(), secret, 1, packing);
  ASSERT_TRUE(one.ok());
  v1::PaillierDecryptRequest request;
  request.mutable_packing()->set_paillier_max_abs_value(10);
  request.mutable_packing()->set_paillier_max_weight(1);
  request.mutable_packing()->set_paillier_precision_bits(16);
  request.mutable_packing()->set_paillier_max_clients(4);
  request.set_total(paillier::SerializeEncryptedUpdate(*one));
  ClientOptions o{.paillier_secret_key_file = File("a.key.json")};
  net::SecureParticipant participant(o);
  v1::StageInstructions stage;
  stage.set_protocol("paillier");
  auto reply = participant.Stage(stage, 1, request.SerializeAsString());
  ASSERT_FALSE(reply.ok());
  EXPECT_NE(reply.status().message().find("reveal one client's update"), std::string::npos);
}

// A participant holds the secret key like every Paillier client. It uploads a valid encryption
// of zeros and, when asked to decrypt the total, opens it honestly and then changes every
// plaintext (the attack: any values it likes, with randomness it cannot fit to them). The
// server must refuse the answer, count it, never ask that client again, and get the total from
// an honest client.
TEST_F(PaillierRoundTest, AForgedDecryptionIsRefusedAndAnHonestClientDecrypts) {
  StartServer({.protocol = "paillier", .paillier_public_key_file = File("a.pub.json")});
  StartClient(0, -1, File("a.key.json"));
  constexpr int kForgers = 2;
  std::vector<std::unique_ptr<testing::RawClient>> raw;
  for (int f = 0; f < kForgers; ++f) {
    raw.push_back(std::make_unique<testing::RawClient>(server_->port()));
    ASSERT_TRUE(raw.back()->Register("forger-" + std::to_string(f)).ok());
  }
  ASSERT_EQ(server_->WaitForClients(1 + kForgers, std::chrono::seconds(20)), 1u + kForgers);
  auto key = paillier::ReadSecretKeyFile(File("a.key.json"));
  ASSERT_TRUE(key.ok());
  std::atomic<bool> done{false};
  // The decryptor's honest opening with every plaintext changed (the attack: any values it
  // likes, with randomness it cannot fit to them).
  auto forge = [&](const v1::TaskHeader&, std::string& reply) {
    const size_t count = reply.size() / (2 * key->public_key().modulus_bytes());
    auto openings = paillier::ParseOpenings(key->public_key(), reply, count);
    EXPECT_TRUE(openings.ok());
    for (auto& opening : *openings) opening.m.back() ^= 0x40;
    reply = paillier::SerializeOpenings(key->public_key(), *openings);
    return true;
  };
  auto forger = [&](int f) {
    return Participate(*raw[f], {.paillier_secret_key_file = File("a.key.json")}, 1 + f, done,
                       forge);
  };
  std::vector<std::future<std::vector<grpc::StatusCode>>> forgers;
  for (int f = 0; f < kForgers; ++f) forgers.push_back(std::async(std::launch::async, forger, f));
  RaiseOnExit stop{done};
  // Three contributors and three attempts per round: the honest client always decrypts in the
  // end; a forger asked first is caught (at least once in 8 rounds but with (1/3)^8).
  for (int round = 1; round <= 8; ++round) {
    Outcome out = RunRound(round);
    ASSERT_TRUE(out.total.ok()) << "round " << round << ": " << out.total.status().ToString();
    EXPECT_EQ(out.reports, 3u);
    ExpectSumOf({0, 1, 2}, out.total->sums, Bound(3));
  }
  done = true;
  int forged = 0;
  for (auto& f : forgers) {
    for (grpc::StatusCode code : f.get()) {
      EXPECT_EQ(code, grpc::StatusCode::DATA_LOSS);  // the forger is told
      ++forged;
    }
  }
  EXPECT_GE(forged, 1);
  EXPECT_LE(forged, kForgers);  // a caught forger is never asked again
  EXPECT_EQ(server_->stats().forged_answers, static_cast<uint64_t>(forged));
}

TEST_F(PaillierRoundTest, TheServerRefusesASecretKeyFile) {
  auto s = Server::Start(
      {.address = "127.0.0.1:0",
       .insecure = true,
       .secure = {.protocol = "paillier", .paillier_public_key_file = File("a.key.json")}});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("SECRET key"), std::string::npos);
}

}  // namespace
}  // namespace fedra
