// The server's task board without gRPC: handing tasks out, claiming answers (duplicate, late,
// unknown, someone else's), expiry by deadline, silence and stalled uploads, closed batches.
#include "net/task_board.h"

#include <gtest/gtest.h>

#include <set>

namespace fedra::net {
namespace {

using std::chrono::seconds;

struct BoardTest : ::testing::Test {
  TaskBoard board;
  SteadyTime t0 = SteadyTime() + std::chrono::hours(1);

  void OpenFit(int round, std::vector<ClientId> clients) {
    std::vector<Task> tasks;
    for (size_t i = 0; i < clients.size(); ++i) tasks.push_back({.client = clients[i], .index = i});
    board.Open({.kind = v1::FIT, .round = round}, nullptr, std::move(tasks), 0);
  }
  uint64_t IdOf(ClientId c) { return board.board()->by_client.at(c); }
  Claim Answer(uint64_t task, int round, ClientId client) {
    return board.ClaimAnswer(task, round, client, "c" + std::to_string(client), "result");
  }
  static Expired ExpireAt(TaskBoard& b, SteadyTime now, SteadyTime deadline,
                          std::set<ClientId> silent = {}, double stall = 0) {
    return b.Expire(
        now, deadline, stall, [&](ClientId c) { return !silent.contains(c); },
        [](ClientId c) { return "c" + std::to_string(c); });
  }
};

TEST_F(BoardTest, EachClientGetsItsTaskOnceAndAgainAfterARequeue) {
  OpenFit(1, {7, 8});
  ASSERT_NE(board.board(), nullptr);
  EXPECT_NE(IdOf(7), IdOf(8));
  EXPECT_NE(IdOf(7), 0u);
  Task* t = board.TakeQueued(7);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->index, 0u);
  EXPECT_EQ(board.TakeQueued(7), nullptr);  // sent
  EXPECT_EQ(board.TakeQueued(9), nullptr);  // no task
  board.Requeue(7);                         // it re-registered
  EXPECT_NE(board.TakeQueued(7), nullptr);
  board.RequeueTask(IdOf(7), /*round=*/2);  // another round: no effect
  EXPECT_EQ(board.TakeQueued(7), nullptr);
  board.RequeueTask(IdOf(7), 1);  // its download broke
  EXPECT_NE(board.TakeQueued(7), nullptr);
}

TEST_F(BoardTest, AnswersAreClaimedOnceByTheirOwnClient) {
  OpenFit(3, {7, 8});
  const uint64_t id = IdOf(7);
  Claim other = Answer(id, 3, 8);
  EXPECT_EQ(other.task, nullptr);
  EXPECT_EQ(other.refusal.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Answer(id, 2, 7).refusal.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(Answer(id ^ 1, 3, 7).refusal.error_code(), grpc::StatusCode::NOT_FOUND);
  Claim mine = Answer(id, 3, 7);
  ASSERT_NE(mine.task, nullptr);
  EXPECT_TRUE(mine.task->answered);
  Claim again = Answer(id, 3, 7);
  EXPECT_EQ(again.refusal.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_FALSE(again.late);
}

TEST_F(BoardTest, OutcomesReachTheDriverInOrderWithTheirIndex) {
  OpenFit(1, {7, 8});
  board.Complete(board.board()->tasks.at(IdOf(8)), {.status = UnavailableError("x")});
  board.Complete(board.board()->tasks.at(IdOf(7)), {});
  auto first = board.PopDone();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->index, 1u);
  EXPECT_FALSE(first->status.ok());
  auto second = board.PopDone();
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->index, 0u);
  EXPECT_FALSE(board.PopDone().has_value());
  // A task that ended unanswered is late to answer.
  Claim late = Answer(IdOf(8), 1, 8);
  EXPECT_EQ(late.refusal.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_TRUE(late.late);
}

TEST_F(BoardTest, TheDeadlineEndsEveryUnfinishedTaskAndSilenceEndsAllButUploads) {
  OpenFit(1, {7, 8, 9});
  Task& uploading = board.board()->tasks.at(IdOf(9));
  uploading.state = TaskState::kReceiving;
  // Before the deadline: 8 is silent and ends; 9 is silent too but uploading, so it goes on.
  Expired e = ExpireAt(board, t0, t0 + seconds(10), {8, 9});
  EXPECT_EQ(e.timed_out, 1u);
  auto out = board.PopDone();
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->index, 1u);
  EXPECT_NE(out->status.message().find("c8 stopped responding"), std::string::npos);
  // At the deadline both remaining tasks end, the upload's handler is cancelled.
  bool cancelled = false;
  uploading.upload = 1;
  uploading.cancel_upload = [&] { cancelled = true; };
  e = ExpireAt(board, t0 + seconds(10), t0 + seconds(10));
  EXPECT_EQ(e.timed_out, 2u);
  ASSERT_EQ(e.cancels.size(), 1u);  // run by the caller, after its lock
  EXPECT_FALSE(cancelled);
  e.cancels[0]();
  EXPECT_TRUE(cancelled);
  EXPECT_EQ(ExpireAt(board, t0 + seconds(20), t0 + seconds(10)).timed_out, 0u);  // all done
}

TEST_F(BoardTest, AStalledUploadHoldingASlotIsCancelledBeforeTheDeadline) {
  OpenFit(1, {7});
  Task& t = board.board()->tasks.at(IdOf(7));
  t.state = TaskState::kReceiving;
  t.holds_slot = true;
  t.upload = 5;
  t.last_progress = t0;
  int cancels = 0;
  t.cancel_upload = [&] { ++cancels; };
  EXPECT_EQ(ExpireAt(board, t0 + seconds(4), t0 + seconds(100), {}, 5.0).stalled, 0u);
  EXPECT_NE(board.Receiving(IdOf(7), board.board()->generation), nullptr);
  const Expired e = ExpireAt(board, t0 + seconds(5), t0 + seconds(100), {}, 5.0);
  EXPECT_EQ(e.stalled, 1u);
  for (const auto& cancel : e.cancels) cancel();
  EXPECT_EQ(cancels, 1);
  EXPECT_EQ(board.Receiving(IdOf(7), board.board()->generation), nullptr);
  auto out = board.PopDone();
  ASSERT_TRUE(out.has_value());
  EXPECT_NE(out->status.message().find("upload sent nothing"), std::string::npos);
}

TEST_F(BoardTest, AfterCloseAnswersAreDuplicateLateOrUnknownThenTheRoundIsOver) {
  OpenFit(4, {7, 8});
  const uint64_t answered = IdOf(7), silent = IdOf(8);
  ASSERT_NE(Answer(answered, 4, 7).task, nullptr);
  const uint64_t generation = board.board()->generation;
  board.Close();
  EXPECT_EQ(board.board(), nullptr);
  EXPECT_EQ(board.last_round(), 4);
  EXPECT_EQ(board.Receiving(answered, generation), nullptr);
  // Round 4 goes on with a second batch (a secure stage): the first batch's answers are told
  // apart.
  board.Open({.kind = v1::STAGE, .round = 4, .stage = 1}, nullptr, {Task{.client = 7}}, 100);
  EXPECT_GT(board.board()->generation, generation);
  EXPECT_TRUE(board.board()->opaque());
  EXPECT_NE(IdOf(7), answered);
  EXPECT_EQ(Answer(answered, 4, 7).refusal.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  Claim late = Answer(silent, 4, 8);
  EXPECT_EQ(late.refusal.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_TRUE(late.late);
  board.Close();
  // The round is over: whatever comes for it is late.
  Claim over = Answer(answered, 4, 7);
  EXPECT_TRUE(over.late);
  EXPECT_NE(over.refusal.error_message().find("round 4 is closed"), std::string::npos);
}

}  // namespace
}  // namespace fedra::net
