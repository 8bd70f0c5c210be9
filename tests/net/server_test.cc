// The gRPC server on 127.0.0.1 driven by hand-made clients: a normal round, then every kind
// of bad result, auth failures, vanished and silent clients, oversized messages and garbage
// on the port. In each case the server must answer with a clear status, keep serving, and
// leave the global model exactly as the good results make it.
#include "fedra/net/server.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmath>
#include <fstream>
#include <future>
#include <limits>
#include <sstream>
#include <thread>

#include <spdlog/sinks/ostream_sink.h>

#include "fedra/core/logging.h"
#include "fedra/fl/fed_avg.h"
#include "fedra/fl/round_driver.h"
#include "net/raw_client.h"
#include "testing/fl_fixtures.h"
#include "testing/temp_dir.h"

namespace fedra {
namespace {

using ::fedra::testing::RawClient;
using ::fedra::testing::Values;
using ::fedra::testing::Vec;
using ::testing::HasSubstr;

class ServerTest : public ::testing::Test {
 protected:
  void Start(ServerOptions o = {}) {
    o.address = "127.0.0.1:0";
    if (o.tokens_file.empty()) o.insecure = true;
    if (o.round_deadline_seconds == 300) o.round_deadline_seconds = 20;
    if (o.poll_seconds == ServerOptions{}.poll_seconds) o.poll_seconds = 0.3;
    auto s = Server::Start(o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(*s);
    FedAvgOptions fo;
    fo.sampling.min_fit_clients = clients_;
    fo.sampling.min_available_clients = clients_;
    fo.sampling.fraction_evaluate = 0;
    strategy_ = std::move(*NewFedAvg(fo));
  }

  // Runs round `round` on a background thread; the test plays the clients meanwhile.
  std::future<RoundMetrics> StartRound(int round) {
    return std::async(std::launch::async, [this, round] {
      RoundDriver driver(*strategy_, server_->pool(),
                         {.num_rounds = 100, .evaluate_every = 0, .influence = influence_});
      return driver.RunRound(round, global_);
    });
  }

  std::vector<std::unique_ptr<RawClient>> Connect(size_t n, const std::string& token = "") {
    std::vector<std::unique_ptr<RawClient>> out;
    for (size_t i = 0; i < n; ++i) {
      out.push_back(std::make_unique<RawClient>(server_->port(), token));
      EXPECT_TRUE(out.back()->Register("c" + std::to_string(i)).ok());
    }
    EXPECT_EQ(server_->WaitForClients(n, std::chrono::seconds(5)), n);
    return out;
  }

  // Two clients in round 1 of a server started with `o`: client 0 takes the upload room and
  // stalls; client 1's upload waits behind it until the deadline ends both tasks, so the
  // round fails and the staller is cancelled. Returns the clients for what follows.
  std::vector<std::unique_ptr<RawClient>> StallOneUploadBehindAnother(ServerOptions o) {
    clients_ = 2;
    Start(o);
    auto c = Connect(2);
    auto round = StartRound(1);
    v1::TaskHeader t0, t1;
    std::map<std::string, Parameters> g;
    EXPECT_TRUE(c[0]->NextTask(&t0, &g).ok());
    EXPECT_TRUE(c[1]->NextTask(&t1, &g).ok());
    const Parameters u = Vec({1, 1, 1, 1});
    const std::string bytes = RawClient::Bytes(u);
    auto stalled = c[0]->StartSubmit(c[0]->FitHeader(t0, u, 5), bytes.substr(0, 8));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // it takes the room
    EXPECT_FALSE(c[1]->Submit(c[1]->FitHeader(t1, u, 5), {bytes}).ok());
    EXPECT_FALSE(round.get().aggregated);
    EXPECT_FALSE(stalled->writer->Finish().ok());  // the server cancelled it
    return c;
  }

  size_t clients_ = 2;
  InfluenceBoundOptions influence_;  // the default bound, as fedra-server runs
  std::unique_ptr<Server> server_;
  std::unique_ptr<Strategy> strategy_;
  Parameters global_ = Vec({1, 2, 3, 4});
};

TEST_F(ServerTest, RoundAggregatesTheWeightedMeanOfUploadedUpdates) {
  influence_.enabled = false;  // the exact FedAvg mean (the bound would clip u1 to the median)
  Start();
  auto c = Connect(2);
  auto round = StartRound(1);
  v1::TaskHeader t0, t1;
  std::map<std::string, Parameters> g0, g1;
  ASSERT_TRUE(c[0]->NextTask(&t0, &g0).ok());
  ASSERT_TRUE(c[1]->NextTask(&t1, &g1).ok());
  EXPECT_EQ(t0.kind(), v1::FIT);
  EXPECT_EQ(t0.round(), 1u);
  EXPECT_EQ(t0.run_id(), server_->run_id());
  EXPECT_NE(t0.task_id(), t1.task_id());
  EXPECT_EQ(Values(g0.at("global")), Values(global_));
  const Parameters u0 = Vec({1, 1, 1, 1}), u1 = Vec({4, 4, 4, 4});
  ASSERT_TRUE(c[0]->Submit(c[0]->FitHeader(t0, u0, 30), {RawClient::Bytes(u0)}).ok());
  ASSERT_TRUE(c[1]->Submit(c[1]->FitHeader(t1, u1, 10), {RawClient::Bytes(u1)}).ok());
  const RoundMetrics m = round.get();
  EXPECT_TRUE(m.aggregated) << m.error;
  EXPECT_EQ(m.fit_failures, 0u);
  // (30 * 1 + 10 * 4) / 40 = 1.75 added to every coordinate.
  EXPECT_EQ(Values(global_), std::vector<float>({2.75f, 3.75f, 4.75f, 5.75f}));
}

TEST_F(ServerTest, BadUpdatesAreRefusedWithAReasonAndNeverReachTheModel) {
  clients_ = 1;
  Start();
  auto c = Connect(1);
  auto round = StartRound(1);
  v1::TaskHeader t;
  std::map<std::string, Parameters> g;
  ASSERT_TRUE(c[0]->NextTask(&t, &g).ok());
  const Parameters good = Vec({1, 1, 1, 1});

  // Wrong shape.
  Parameters five = Vec({1, 1, 1, 1, 1});
  grpc::Status s = c[0]->Submit(c[0]->FitHeader(t, five, 5), {RawClient::Bytes(five)});
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("the model has 'w' [4]"));
  const RoundMetrics m = round.get();
  // The malformed upload ends this client's task: the round fails, the model is unchanged.
  EXPECT_FALSE(m.aggregated);
  EXPECT_EQ(Values(global_), std::vector<float>({1, 2, 3, 4}));

  auto round2 = StartRound(2);
  ASSERT_TRUE(c[0]->NextTask(&t, &g).ok());
  // Declared length disagrees with the specs.
  v1::ResultHeader h = c[0]->FitHeader(t, good, 5);
  h.set_payload_bytes(12);
  s = c[0]->Submit(h, {RawClient::Bytes(good).substr(0, 12)});
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("describe 16 bytes but the header declares 12"));
  EXPECT_FALSE(round2.get().aggregated);

  auto round3 = StartRound(3);
  ASSERT_TRUE(c[0]->NextTask(&t, &g).ok());
  // Truncated payload.
  s = c[0]->Submit(c[0]->FitHeader(t, good, 5), {RawClient::Bytes(good).substr(0, 9)});
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("truncated: 9 of 16 bytes"));
  EXPECT_FALSE(round3.get().aggregated);

  auto round4 = StartRound(4);
  ASSERT_TRUE(c[0]->NextTask(&t, &g).ok());
  // Too many bytes.
  s = c[0]->Submit(c[0]->FitHeader(t, good, 5), {RawClient::Bytes(good) + "xxxx"});
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("runs past"));
  EXPECT_FALSE(round4.get().aggregated);

  auto round5 = StartRound(5);
  ASSERT_TRUE(c[0]->NextTask(&t, &g).ok());
  // NaN and Inf.
  Parameters nan = Vec({1, std::numeric_limits<float>::quiet_NaN(), 1, 1});
  s = c[0]->Submit(c[0]->FitHeader(t, nan, 5), {RawClient::Bytes(nan)});
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("NaN"));
  EXPECT_FALSE(round5.get().aggregated);
  EXPECT_EQ(Values(global_), std::vector<float>({1, 2, 3, 4}));

  // After all that, a good result still works.
  auto round6 = StartRound(6);
  ASSERT_TRUE(c[0]->NextTask(&t, &g).ok());
  ASSERT_TRUE(c[0]->Submit(c[0]->FitHeader(t, good, 5), {RawClient::Bytes(good)}).ok());
  EXPECT_TRUE(round6.get().aggregated);
  EXPECT_EQ(Values(global_), std::vector<float>({2, 3, 4, 5}));
  EXPECT_GE(server_->stats().results_rejected, 5u);
}

TEST_F(ServerTest, UnknownDuplicateForeignAndLateResultsAreRefused) {
  Start();
  auto c = Connect(2);
  auto round = StartRound(1);
  v1::TaskHeader t0, t1;
  std::map<std::string, Parameters> g;
  ASSERT_TRUE(c[0]->NextTask(&t0, &g).ok());
  ASSERT_TRUE(c[1]->NextTask(&t1, &g).ok());
  const Parameters u = Vec({1, 1, 1, 1});
  const std::string bytes = RawClient::Bytes(u);

  v1::ResultHeader h = c[0]->FitHeader(t0, u, 5);
  h.set_task_id(t0.task_id() ^ 0x5a5a);
  grpc::Status s = c[0]->Submit(h, {bytes});
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(s.error_message(), HasSubstr("unknown task id"));

  h = c[0]->FitHeader(t0, u, 5);
  h.set_run_id("another-run");
  s = c[0]->Submit(h, {bytes});
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("belongs to run 'another-run'"));

  // Client 0 answering client 1's task.
  s = c[0]->Submit(c[0]->FitHeader(t1, u, 5), {bytes});
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);

  ASSERT_TRUE(c[0]->Submit(c[0]->FitHeader(t0, u, 5), {bytes}).ok());
  s = c[0]->Submit(c[0]->FitHeader(t0, u, 5), {bytes});
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS);

  ASSERT_TRUE(c[1]->Submit(c[1]->FitHeader(t1, u, 5), {bytes}).ok());
  EXPECT_TRUE(round.get().aggregated);
  EXPECT_EQ(Values(global_), std::vector<float>({2, 3, 4, 5}));

  // A replay of round 1 after it closed.
  s = c[1]->Submit(c[1]->FitHeader(t1, u, 5), {bytes});
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("is late: round 1 is closed"));
  EXPECT_EQ(server_->stats().results_late, 1u);

  // An unknown session.
  c[1]->set_session("0123");
  EXPECT_EQ(c[1]->Heartbeat().error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Values(global_), std::vector<float>({2, 3, 4, 5}));
}

// Peer-chosen strings (a client name with a newline, a 200 KB run id) reach the log escaped
// and cut, and one peer's stream of refused results is rate-limited: 60 refusals of 200 KB
// run ids grow the log by a few KB, not 12 MB, and no line can be forged.
TEST_F(ServerTest, PeerStringsReachTheLogEscapedBoundedAndRateLimited) {
  auto captured = std::make_shared<std::ostringstream>();
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(*captured);
  auto log = Logger("server");
  log->sinks().push_back(sink);
  Start();
  auto c = Connect(2);
  RawClient forger(server_->port());
  EXPECT_EQ(forger.Register("evil\nI [fedra.server] forged line").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  auto round = StartRound(1);
  v1::TaskHeader t0, t1;
  std::map<std::string, Parameters> g;
  ASSERT_TRUE(c[0]->NextTask(&t0, &g).ok());
  ASSERT_TRUE(c[1]->NextTask(&t1, &g).ok());
  const Parameters u = Vec({1, 1, 1, 1});
  const std::string bytes = RawClient::Bytes(u);
  v1::ResultHeader h = c[0]->FitHeader(t0, u, 5);
  h.set_run_id("x\n" + std::string(200000, 'y'));
  for (int i = 0; i < 60; ++i) {
    EXPECT_EQ(c[0]->Submit(h, {bytes}).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  }
  ASSERT_TRUE(c[0]->Submit(c[0]->FitHeader(t0, u, 5), {bytes}).ok());
  ASSERT_TRUE(c[1]->Submit(c[1]->FitHeader(t1, u, 5), {bytes}).ok());
  EXPECT_TRUE(round.get().aggregated);
  log->flush();
  log->sinks().pop_back();

  const std::string text = captured->str();
  EXPECT_LT(text.size(), 64u * 1024) << "the log grew by " << text.size() << " bytes";
  size_t refusals = 0;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    EXPECT_EQ(line.rfind("I [fedra.server] forged", 0), std::string::npos) << line;
    if (line.find("belongs to run") != std::string::npos) ++refusals;
  }
  EXPECT_GE(refusals, 1u);
  EXPECT_LE(refusals, 20u);  // the per-peer burst
  EXPECT_THAT(text, HasSubstr("evil\\nI [fedra.server] forged line"));
  EXPECT_THAT(text, HasSubstr("more bytes)"));
}

// A round has several boards (FIT, then EVALUATE here; the secure stages in secure rounds).
// While the round's EVALUATE board is open, a second answer to a FIT task is a duplicate
// (ALREADY_EXISTS) and an id never handed out is unknown (NOT_FOUND), as docs/protocol.md
// says; before, both were "late: round 1 is closed" (FAILED_PRECONDITION).
TEST_F(ServerTest, StatusCodesHoldAcrossTheBoardsOfOneRound) {
  Start();
  auto c = Connect(2);
  FedAvgOptions fo;
  fo.sampling.min_fit_clients = 2;
  fo.sampling.min_available_clients = 2;
  fo.sampling.fraction_evaluate = 1;
  fo.sampling.min_evaluate_clients = 2;
  strategy_ = std::move(*NewFedAvg(fo));
  auto round = std::async(std::launch::async, [this] {
    RoundDriver driver(*strategy_, server_->pool(), {.num_rounds = 1, .evaluate_every = 1});
    return driver.RunRound(1, global_);
  });
  v1::TaskHeader f0, f1, e0, e1;
  std::map<std::string, Parameters> g;
  ASSERT_TRUE(c[0]->NextTask(&f0, &g).ok());
  ASSERT_TRUE(c[1]->NextTask(&f1, &g).ok());
  const Parameters u = Vec({1, 1, 1, 1});
  ASSERT_TRUE(c[0]->Submit(c[0]->FitHeader(f0, u, 5), {RawClient::Bytes(u)}).ok());
  ASSERT_TRUE(c[1]->Submit(c[1]->FitHeader(f1, u, 5), {RawClient::Bytes(u)}).ok());
  ASSERT_TRUE(c[0]->NextTask(&e0, &g).ok());
  ASSERT_TRUE(c[1]->NextTask(&e1, &g).ok());
  ASSERT_EQ(e0.kind(), v1::EVALUATE);
  ASSERT_EQ(e0.round(), 1u);

  grpc::Status s = c[0]->Submit(c[0]->FitHeader(f0, u, 5), {RawClient::Bytes(u)});
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS) << s.error_message();
  v1::ResultHeader unknown = c[0]->FitHeader(f0, u, 5);
  unknown.set_task_id(f0.task_id() ^ e0.task_id() ^ 0x77);
  s = c[0]->Submit(unknown, {RawClient::Bytes(u)});
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << s.error_message();

  for (size_t i = 0; i < 2; ++i) {
    const v1::TaskHeader& e = i == 0 ? e0 : e1;
    v1::ResultHeader h = c[i]->HeaderFor(e);
    h.mutable_evaluate()->set_num_examples(10);
    h.mutable_evaluate()->set_loss(0.5);
    h.mutable_evaluate()->set_accuracy(0.75);
    ASSERT_TRUE(c[i]->Submit(h, {}).ok());
  }
  const RoundMetrics m = round.get();
  EXPECT_TRUE(m.aggregated) << m.error;
  EXPECT_EQ(m.eval_clients, 2u);
  // Once the round is over, the same answer is late.
  s = c[1]->Submit(c[1]->FitHeader(f1, u, 5), {RawClient::Bytes(u)});
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << s.error_message();
  EXPECT_THAT(s.error_message(), HasSubstr("is late: round 1 is closed"));
}

TEST_F(ServerTest, SilentAndVanishedClientsDoNotStallTheRound) {
  clients_ = 3;
  Start({.round_deadline_seconds = 3, .liveness_seconds = 1.5});
  auto c = Connect(3);
  const auto start = std::chrono::steady_clock::now();
  auto round = StartRound(1);
  v1::TaskHeader t;
  std::map<std::string, Parameters> g;
  // Client 0 answers; client 1 takes its task and keeps heartbeating but never answers (the
  // deadline ends it); client 2 vanishes without polling (liveness ends it sooner).
  ASSERT_TRUE(c[0]->NextTask(&t, &g).ok());
  const Parameters u = Vec({1, 1, 1, 1});
  ASSERT_TRUE(c[0]->Submit(c[0]->FitHeader(t, u, 5), {RawClient::Bytes(u)}).ok());
  v1::TaskHeader t1;
  ASSERT_TRUE(c[1]->NextTask(&t1, &g).ok());
  std::atomic<bool> done{false};
  std::thread beat([&] {
    while (!done) {
      c[1]->Heartbeat();
      c[0]->Heartbeat();
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
  });
  const RoundMetrics m = round.get();
  done = true;
  beat.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(m.fit_failures, 2u);
  EXPECT_FALSE(m.aggregated);  // 2 of 3 failed > max_failure_fraction 0.5
  EXPECT_LT(seconds, 15.0);    // bounded by the deadline, not by the silent clients
  EXPECT_EQ(server_->stats().tasks_timed_out, 2u);
  EXPECT_EQ(Values(global_), std::vector<float>({1, 2, 3, 4}));
  // The straggler's late answer is dropped and counted.
  grpc::Status s = c[1]->Submit(c[1]->FitHeader(t1, u, 5), {RawClient::Bytes(u)});
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(server_->stats().results_late, 1u);
}

// An upload that stalls mid-stream while holding the only upload slot: the deadline ends its
// task and cancels the stream, so the slot is free for the next round.
TEST_F(ServerTest, AStalledUploadLosesItsSlotWhenItsTaskEnds) {
  auto c = StallOneUploadBehindAnother({.round_deadline_seconds = 2, .max_inflight_results = 1});
  v1::TaskHeader t0, t1;
  std::map<std::string, Parameters> g;
  const Parameters u = Vec({1, 1, 1, 1});
  const std::string bytes = RawClient::Bytes(u);
  // Round 2: one upload slot, and it is free.
  auto round2 = StartRound(2);
  ASSERT_TRUE(c[0]->NextTask(&t0, &g).ok());
  ASSERT_TRUE(c[1]->NextTask(&t1, &g).ok());
  EXPECT_TRUE(c[0]->Submit(c[0]->FitHeader(t0, u, 5), {bytes}).ok());
  EXPECT_TRUE(c[1]->Submit(c[1]->FitHeader(t1, u, 5), {bytes}).ok());
  const RoundMetrics m2 = round2.get();
  EXPECT_TRUE(m2.aggregated) << m2.error;
}

// Two slots by count, but a byte budget with room for one 16-byte update: the second upload
// waits behind the stalled first one until the deadline ends both tasks.
TEST_F(ServerTest, TheUploadByteBudgetHoldsBackUploadsBeyondIt) {
  StallOneUploadBehindAnother({.round_deadline_seconds = 2, .max_inflight_result_bytes = 16});
}

// With a round deadline far away, a sender that takes the only upload slot and stalls loses
// it after upload_stall_seconds: the honest uploads waiting for the slot go through and the
// round aggregates without the staller.
TEST_F(ServerTest, AStalledUploadLosesItsSlotLongBeforeTheRoundDeadline) {
  clients_ = 3;
  Start({.round_deadline_seconds = 60, .max_inflight_results = 1, .upload_stall_seconds = 1});
  auto c = Connect(3);
  auto round = StartRound(1);
  std::vector<v1::TaskHeader> t(3);
  std::map<std::string, Parameters> g;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(c[i]->NextTask(&t[i], &g).ok());
  const Parameters u = Vec({1, 1, 1, 1});
  const std::string bytes = RawClient::Bytes(u);
  auto stalled = c[0]->StartSubmit(c[0]->FitHeader(t[0], u, 5), bytes.substr(0, 8));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // it takes the slot
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(c[1]->Submit(c[1]->FitHeader(t[1], u, 5), {bytes}).ok());
  EXPECT_TRUE(c[2]->Submit(c[2]->FitHeader(t[2], u, 5), {bytes}).ok());
  // Functional, not a speed check: well within the 60 s deadline that would otherwise free it.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
  const RoundMetrics m = round.get();
  EXPECT_TRUE(m.aggregated) << m.error;
  EXPECT_EQ(m.fit_failures, 1u);
  EXPECT_EQ(server_->stats().uploads_stalled, 1u);
  EXPECT_FALSE(stalled->writer->Finish().ok());  // the server cancelled it
  EXPECT_EQ(Values(global_), std::vector<float>({2, 3, 4, 5}));
}

// A result header that declares many model-sized extra groups is refused from the header
// alone (before the server allocates anything for it); the task ends and the model is not
// touched.
TEST_F(ServerTest, AHeaderDeclaringManyModelCopiesIsRefusedBeforeAllocation) {
  clients_ = 1;
  Start();
  auto c = Connect(1);
  auto round = StartRound(1);
  v1::TaskHeader t;
  std::map<std::string, Parameters> g;
  ASSERT_TRUE(c[0]->NextTask(&t, &g).ok());
  const Parameters u = Vec({1, 1, 1, 1});
  v1::ResultHeader h = c[0]->FitHeader(t, u, 5);
  const v1::TensorSpec update_spec = h.tensors(0);
  for (int i = 0; i < 40; ++i) {
    v1::TensorSpec* extra = h.add_tensors();
    *extra = update_spec;
    extra->set_group("extra/x" + std::to_string(i));
  }
  h.set_payload_bytes(41 * u.num_bytes());
  grpc::Status s = c[0]->Submit(h, {});
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("declares 41 copies of the model"));
  EXPECT_THAT(s.error_message(), HasSubstr("more than the 3 a result may carry"));
  EXPECT_FALSE(round.get().aggregated);
  EXPECT_EQ(Values(global_), std::vector<float>({1, 2, 3, 4}));
}

// Folded sums stand for many clients: a client the server does not list as an aggregator
// cannot send them (refused from the header, the model untouched).
TEST_F(ServerTest, OnlyAnAggregatorMaySendFoldedSums) {
  clients_ = 1;
  Start();
  auto c = Connect(1);
  auto round = StartRound(1);
  v1::TaskHeader t;
  std::map<std::string, Parameters> g;
  ASSERT_TRUE(c[0]->NextTask(&t, &g).ok());
  const Parameters u = Vec({100, 100, 100, 100});
  v1::ResultHeader h = c[0]->FitHeader(t, u, 5);
  h.mutable_fit()->set_folded(true);
  (*h.mutable_fit()->mutable_folded_scalars())["weight"] = 1e9;
  h.mutable_tensors(0)->set_group("sum/update");
  grpc::Status s = c[0]->Submit(h, {RawClient::Bytes(u)});
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("this client is not an aggregator"));
  EXPECT_FALSE(round.get().aggregated);
  EXPECT_EQ(Values(global_), std::vector<float>({1, 2, 3, 4}));
}

// Each waiting long poll costs the server memory: 20 concurrent polls of one session get 2
// places, the rest RESOURCE_EXHAUSTED at once; a server-wide cap holds across clients.
TEST_F(ServerTest, WaitingPollsAreCappedPerClientAndInAll) {
  clients_ = 2;
  Start({.poll_seconds = 3, .max_polls_per_client = 2, .max_waiting_polls = 3});
  auto c = Connect(2);
  auto poll_many = [&](const RawClient& owner, int n) {
    std::vector<std::future<grpc::Status>> polls;
    for (int i = 0; i < n; ++i) {
      polls.push_back(std::async(std::launch::async, [&] {
        RawClient same(server_->port());  // the same session on its own connection
        same.set_session(owner.session());
        v1::TaskHeader h;
        std::map<std::string, Parameters> g;
        return same.Poll(&h, &g);
      }));
    }
    return polls;
  };
  const auto start = std::chrono::steady_clock::now();
  auto first = poll_many(*c[0], 20);
  size_t refused = 0, waited = 0;
  std::string message;
  for (auto& p : first) {
    const grpc::Status s = p.get();
    if (s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
      ++refused;
      message = s.error_message();
    } else {
      EXPECT_TRUE(s.ok()) << s.error_message();
      ++waited;
    }
  }
  EXPECT_EQ(waited, 2u);
  EXPECT_EQ(refused, 18u);
  EXPECT_THAT(message, HasSubstr("already has 2 polls waiting"));
  EXPECT_EQ(server_->stats().polls_refused, 18u);
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 10);

  // Server-wide: client 0 holds 2, client 1 gets 1 more, its second is refused.
  auto a = poll_many(*c[0], 2);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  auto b = poll_many(*c[1], 2);
  size_t b_refused = 0;
  for (auto& p : b) {
    const grpc::Status s = p.get();
    if (s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
      ++b_refused;
      EXPECT_THAT(s.error_message(), HasSubstr("polls waiting, its limit (--max-waiting-polls)"));
    }
  }
  for (auto& p : a) EXPECT_TRUE(p.get().ok());
  EXPECT_EQ(b_refused, 1u);
}

// A SubmitResult call costs memory before its header arrives, so open calls are capped (per
// authenticated client, and in all: here the in-all cap binds); a closed call frees its place.
TEST_F(ServerTest, OpenUploadsAreCapped) {
  Start({.max_open_uploads = 4});
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                                     grpc::InsecureChannelCredentials());
  auto stub = v1::Federation::NewStub(channel);
  struct Open {
    grpc::ClientContext ctx;
    v1::SubmitResultResponse resp;
    std::unique_ptr<grpc::ClientWriter<v1::ResultChunk>> writer;
  };
  std::vector<std::unique_ptr<Open>> held;
  for (int i = 0; i < 4; ++i) {  // open, nothing sent: the server waits for their headers
    auto call = std::make_unique<Open>();
    call->writer = stub->SubmitResult(&call->ctx, &call->resp);
    held.push_back(std::move(call));
  }
  auto refused_or_answered = [&] {
    Open call;
    call.writer = stub->SubmitResult(&call.ctx, &call.resp);
    call.writer->WritesDone();
    return call.writer->Finish();
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  grpc::Status fifth;
  do {  // the held calls reach the server asynchronously
    fifth = refused_or_answered();
  } while (fifth.error_code() != grpc::StatusCode::RESOURCE_EXHAUSTED &&
           std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(fifth.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(fifth.error_message(), HasSubstr("--max-open-uploads"));
  EXPECT_GE(server_->stats().uploads_refused, 1u);
  for (auto& call : held) call->ctx.TryCancel();
  held.clear();
  grpc::Status after;
  do {  // their places come back: a call is heard (and refused for having no header)
    after = refused_or_answered();
  } while (after.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED &&
           std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(after.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(after.error_message(), HasSubstr("the first message must be a ResultHeader"));
}

// With credentials, each client has its own cap: one that holds its places does not take
// another's.
TEST_F(ServerTest, OpenUploadsAreCappedPerAuthenticatedClient) {
  fedra::testing::TempDir dir;
  const std::string tokens = dir.path() + "/tokens.txt";
  std::ofstream(tokens) << "alice 0123456789abcdef0123\nbob fedcba9876543210fedc\n";
  clients_ = 1;
  Start({.insecure = true, .tokens_file = tokens, .max_uploads_per_client = 2});
  auto stub = v1::Federation::NewStub(grpc::CreateChannel(
      "127.0.0.1:" + std::to_string(server_->port()), grpc::InsecureChannelCredentials()));
  struct Open {
    grpc::ClientContext ctx;
    v1::SubmitResultResponse resp;
    std::unique_ptr<grpc::ClientWriter<v1::ResultChunk>> writer;
  };
  auto open = [&](const std::string& token) {
    auto call = std::make_unique<Open>();
    call->ctx.AddMetadata("authorization", "Bearer " + token);
    call->writer = stub->SubmitResult(&call->ctx, &call->resp);
    return call;
  };
  auto send_nothing = [&](const std::string& token) {
    auto call = open(token);
    call->writer->WritesDone();
    return call->writer->Finish();
  };
  std::vector<std::unique_ptr<Open>> held;
  for (int i = 0; i < 2; ++i) held.push_back(open("0123456789abcdef0123"));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  grpc::Status third;
  do {
    third = send_nothing("0123456789abcdef0123");
  } while (third.error_code() != grpc::StatusCode::RESOURCE_EXHAUSTED &&
           std::chrono::steady_clock::now() < deadline);
  EXPECT_THAT(third.error_message(), HasSubstr("--max-uploads-per-client"));
  const grpc::Status bobs = send_nothing("fedcba9876543210fedc");  // heard: no header
  EXPECT_EQ(bobs.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << bobs.error_message();
  for (auto& call : held) call->ctx.TryCancel();
}

// In --insecure mode a name costs nothing: 2,000 registrations under distinct names made the
// next rounds fail. Live clients per address, in all, and registrations per identity per
// minute are capped with RESOURCE_EXHAUSTED; clients silent past the liveness window are
// forgotten, which frees their places.
TEST_F(ServerTest, RegistrationsAreCappedPerAddressPerIdentityAndInAll) {
  Start({.liveness_seconds = 1,
         .max_clients = 8,  // not reached: the per-address limit binds first
         .max_clients_per_peer = 5,
         .max_registrations_per_minute = 3});
  RawClient r(server_->port());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(r.Register("n" + std::to_string(i)).ok());
  grpc::Status s = r.Register("n5");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(s.error_message(), HasSubstr("5 clients are registered from"));
  EXPECT_TRUE(r.Register("n0").ok());  // a known identity replaces its own session
  EXPECT_TRUE(r.Register("n0").ok());
  s = r.Register("n0");  // the 4th in a minute
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(s.error_message(), HasSubstr("registered 3 times in the last minute"));
  EXPECT_EQ(server_->stats().registrations_refused, 2u);
  EXPECT_EQ(server_->stats().registrations, 7u);

  // Silent for longer than liveness: forgotten, which frees their places.
  std::this_thread::sleep_for(std::chrono::milliseconds(2200));
  for (int i = 10; i < 15; ++i) ASSERT_TRUE(r.Register("n" + std::to_string(i)).ok());
  EXPECT_EQ(r.Register("n15").error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);

  // The limit in all.
  Start({.max_clients = 3});
  RawClient q(server_->port());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(q.Register("m" + std::to_string(i)).ok());
  s = q.Register("m3");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(s.error_message(), HasSubstr("its limit (--max-clients)"));
}

// A run that trains by local steps refuses, at registration, a client that does not say it
// understands them (it would train whole epochs and see every result refused).
TEST_F(ServerTest, ClientsWithoutAFeatureTheRunNeedsAreRefusedAtRegistration) {
  ServerOptions o;
  o.required_client_features = {kClientFeatureLocalSteps};
  Start(o);
  RawClient old_client(server_->port());
  grpc::Status s = old_client.Register("old");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("needs client feature 'local_steps'"));
  EXPECT_THAT(s.error_message(), HasSubstr("update fedra-client"));
  EXPECT_EQ(old_client.Register("old", {"local_step", "LOCAL_STEPS"}).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  RawClient current(server_->port());
  EXPECT_TRUE(current.Register("new", {"something-newer", kClientFeatureLocalSteps}).ok());
  // Feature lists are bounded: 16 names of 64 bytes.
  EXPECT_EQ(
      current.Register("new", std::vector<std::string>(17, kClientFeatureLocalSteps)).error_code(),
      grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(current.Register("new", {std::string(65, 'x'), kClientFeatureLocalSteps}).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(server_->stats().registrations, 1u);
  EXPECT_EQ(server_->WaitForClients(1, std::chrono::seconds(1)), 1u);
  // Without the requirement, a client listing nothing registers as before.
  Start();
  EXPECT_TRUE(RawClient(server_->port()).Register("old").ok());
  // A feature no client lists would refuse them all: refused at start.
  ServerOptions typo{.address = "127.0.0.1:0", .insecure = true};
  typo.required_client_features = {"local-steps"};
  auto bad = Server::Start(typo);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("unknown required client feature 'local-steps'"));
}

TEST_F(ServerTest, LimitsOfZeroAreRefusedAtStart) {
  for (ServerOptions o :
       {ServerOptions{.max_clients = 0}, ServerOptions{.max_clients_per_peer = 0},
        ServerOptions{.max_polls_per_client = 0}, ServerOptions{.max_waiting_polls = 0},
        ServerOptions{.max_registrations_per_minute = 0}}) {
    o.address = "127.0.0.1:0";
    o.insecure = true;
    EXPECT_EQ(Server::Start(o).status().code(), StatusCode::kInvalidArgument);
  }
}

TEST_F(ServerTest, OversizedMessagesAndGarbageBytesLeaveTheServerServing) {
  clients_ = 1;
  Start();
  auto c = Connect(1);
  auto round = StartRound(1);
  v1::TaskHeader t;
  std::map<std::string, Parameters> g;
  ASSERT_TRUE(c[0]->NextTask(&t, &g).ok());
  const Parameters u = Vec({1, 1, 1, 1});
  grpc::Status s = c[0]->Submit(c[0]->FitHeader(t, u, 5), {std::string(6 << 20, 'x')});
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();

  // Raw garbage on the port.
  for (int i = 0; i < 3; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(server_->port()));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    const std::string junk =
        "GET / HTTP/1.1\r\n\r\n\x01\x02\x03garbage" + std::string(1000, '\xff');
    EXPECT_GT(::write(fd, junk.data(), junk.size()), 0);
    ::close(fd);
  }
  RawClient fresh(server_->port());
  EXPECT_TRUE(fresh.Register("c9").ok());
  // The oversized upload failed the task; the round ends without touching the model.
  EXPECT_FALSE(round.get().aggregated);
  EXPECT_EQ(Values(global_), std::vector<float>({1, 2, 3, 4}));
}

TEST_F(ServerTest, TokensAreRequiredAndMustMatchTheClaimedName) {
  fedra::testing::TempDir dir;
  const std::string tokens = dir.path() + "/tokens.txt";
  std::ofstream(tokens) << "# name token\nalice 0123456789abcdef0123\nbob fedcba9876543210fedc\n";
  clients_ = 1;
  Start({.insecure = true, .tokens_file = tokens});
  EXPECT_EQ(RawClient(server_->port()).Register("alice").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(RawClient(server_->port(), "wrong-token-0000000").Register("alice").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(RawClient(server_->port(), "fedcba9876543210fedc").Register("alice").error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  RawClient bob(server_->port(), "fedcba9876543210fedc");
  EXPECT_TRUE(bob.Register("").ok());
  // Alice cannot use Bob's session.
  RawClient alice(server_->port(), "0123456789abcdef0123");
  ASSERT_TRUE(alice.Register("alice").ok());
  alice.set_session(bob.session());
  EXPECT_EQ(alice.Heartbeat().error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_GE(server_->stats().auth_failures, 2u);
}

TEST(ServerOptionsTest, InconsistentSecuritySettingsAreRefused) {
  EXPECT_THAT(Server::Start({.address = "127.0.0.1:0"}).status().message(),
              HasSubstr("TLS needs a server certificate"));
  EXPECT_THAT(Server::Start({.address = "127.0.0.1:0", .cert_file = "a", .key_file = "b"})
                  .status()
                  .message(),
              HasSubstr("no client authentication"));
  EXPECT_EQ(
      Server::Start({.address = "127.0.0.1:0", .insecure = true, .tokens_file = "/nonexistent"})
          .status()
          .code(),
      StatusCode::kNotFound);
}

// Concurrent downloads share --download-buffer-mb: with a small share each sends smaller
// chunks, and the model arrives whole all the same.
TEST_F(ServerTest, DownloadsShareTheirChunkMemory) {
  influence_.enabled = false;
  global_ = Parameters();
  global_.Add("w", {100'000});
  for (size_t i = 0; i < global_.size(); ++i) global_.data()[i] = static_cast<float>(i % 977);
  const Parameters sent = global_;
  Start({.download_buffer_bytes = 64 << 10});
  auto c = Connect(2);
  auto round = StartRound(1);
  const Parameters u = Parameters::ZerosLike(global_);
  for (auto& client : c) {
    v1::TaskHeader t;
    std::map<std::string, Parameters> g;
    ASSERT_TRUE(client->NextTask(&t, &g).ok());
    EXPECT_EQ(Values(g.at("global")), Values(sent));
    EXPECT_GT(client->largest_chunk(), 0u);
    EXPECT_LE(client->largest_chunk(), size_t{32} << 10);  // 64 KiB / 2 for one download
    ASSERT_TRUE(client->Submit(client->FitHeader(t, u, 1), {RawClient::Bytes(u)}).ok());
  }
  EXPECT_TRUE(round.get().aggregated);
}

TEST_F(ServerTest, HundredMegabyteModelTravelsInChunks) {
  clients_ = 1;
  global_ = Parameters();
  global_.Add("big", {25'000'000});
  for (size_t i = 0; i < global_.size(); ++i) global_.data()[i] = static_cast<float>(i % 1000);
  Start();
  auto c = Connect(1);
  auto round = StartRound(1);
  v1::TaskHeader t;
  std::map<std::string, Parameters> g;
  ASSERT_TRUE(c[0]->NextTask(&t, &g).ok());
  ASSERT_EQ(g.at("global").size(), 25'000'000u);
  EXPECT_EQ(g.at("global").data()[123'456'7], 567.0f);
  Parameters u = Parameters::ZerosLike(global_);
  for (size_t i = 0; i < u.size(); ++i) u.data()[i] = 0.5f;
  const std::string bytes = RawClient::Bytes(u);
  std::vector<std::string> chunks;
  for (size_t off = 0; off < bytes.size(); off += 1 << 20)
    chunks.push_back(bytes.substr(off, 1 << 20));
  ASSERT_TRUE(c[0]->Submit(c[0]->FitHeader(t, u, 7), chunks).ok());
  EXPECT_TRUE(round.get().aggregated);
  EXPECT_EQ(global_.data()[999], 999.5f);
  EXPECT_EQ(global_.data()[24'999'999], 999.5f);
}

}  // namespace
}  // namespace fedra
