// The server's client registry without a server: sessions, the registration and poll limits,
// liveness and pruning, on a clock the test moves.
#include "net/session_registry.h"

#include <gtest/gtest.h>

namespace fedra::net {
namespace {

using std::chrono::seconds;

RegistryLimits Limits() {
  return {.liveness_seconds = 10,
          .max_clients = 3,
          .max_clients_per_peer = 2,
          .max_registrations_per_minute = 3,
          .max_polls_per_client = 2,
          .max_waiting_polls = 3};
}

struct RegistryTest : ::testing::Test {
  SessionRegistry reg{Limits()};
  SteadyTime t0 = SteadyTime() + std::chrono::hours(1);

  grpc::StatusCode Register(const std::string& name, const std::string& peer, SteadyTime at,
                            std::string* session = nullptr) {
    const ClientRecord* rec = nullptr;
    const grpc::Status s = reg.Register(name, IdForTest(name), peer, at, &rec);
    if (s.ok() && session) *session = rec->session;
    return s.error_code();
  }
  static ClientId IdForTest(const std::string& name) { return std::hash<std::string>()(name) | 1; }
};

TEST_F(RegistryTest, ASessionFindsItsClientAndANewRegistrationEndsTheOldSession) {
  std::string s1, s2;
  ASSERT_EQ(Register("alice", "10.0.0.1", t0, &s1), grpc::StatusCode::OK);
  EXPECT_EQ(s1.size(), 32u);  // 16 random bytes in hex
  ClientRecord* rec = nullptr;
  ASSERT_TRUE(reg.Find("", s1, t0 + seconds(1), &rec).ok());
  EXPECT_EQ(rec->name, "alice");
  EXPECT_EQ(rec->last_seen, t0 + seconds(1));  // finding marks it alive
  // Authenticated as someone else: the session is not theirs.
  EXPECT_EQ(reg.Find("bob", s1, t0, &rec).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_EQ(Register("alice", "10.0.0.1", t0 + seconds(2), &s2), grpc::StatusCode::OK);
  EXPECT_NE(s1, s2);
  EXPECT_EQ(reg.Find("", s1, t0, &rec).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_TRUE(reg.Find("alice", s2, t0, &rec).ok());
  EXPECT_EQ(reg.size(), 1u);
}

TEST_F(RegistryTest, IdCollisionBetweenTwoNamesIsRefused) {
  const ClientRecord* rec = nullptr;
  ASSERT_TRUE(reg.Register("alice", 42, "p", t0, &rec).ok());
  EXPECT_EQ(reg.Register("mallory", 42, "p", t0, &rec).error_code(),
            grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(reg.NameOf(42), "alice");
  EXPECT_EQ(reg.NameOf(7), "7");  // unknown ids print as numbers
}

TEST_F(RegistryTest, RegistrationsOfOneIdentityAreLimitedPerMinute) {
  RegistryLimits limits = Limits();
  limits.liveness_seconds = 3600;  // nobody is pruned meanwhile
  reg = SessionRegistry(limits);
  for (int i = 0; i < 3; ++i)
    ASSERT_EQ(Register("alice", "p", t0 + seconds(i)), grpc::StatusCode::OK);
  EXPECT_EQ(Register("alice", "p", t0 + seconds(3)), grpc::StatusCode::RESOURCE_EXHAUSTED);
  // The first of the three is a minute old at t0 + 60 s: one more is admitted.
  EXPECT_EQ(Register("alice", "p", t0 + seconds(60)), grpc::StatusCode::OK);
  EXPECT_EQ(Register("alice", "p", t0 + seconds(60)), grpc::StatusCode::RESOURCE_EXHAUSTED);
}

TEST_F(RegistryTest, ClientsPerAddressAndInAllAreLimitedUntilTheSilentArePruned) {
  ASSERT_EQ(Register("a", "10.0.0.1", t0), grpc::StatusCode::OK);
  ASSERT_EQ(Register("b", "10.0.0.1", t0), grpc::StatusCode::OK);
  EXPECT_EQ(Register("c", "10.0.0.1", t0), grpc::StatusCode::RESOURCE_EXHAUSTED);  // per peer
  ASSERT_EQ(Register("c", "10.0.0.2", t0), grpc::StatusCode::OK);
  EXPECT_EQ(Register("d", "10.0.0.3", t0), grpc::StatusCode::RESOURCE_EXHAUSTED);  // in all
  EXPECT_EQ(reg.Live(t0 + seconds(5)).size(), 3u);
  // After the liveness window nobody is live, and the next registration prunes them.
  EXPECT_TRUE(reg.Live(t0 + seconds(10)).empty());
  EXPECT_FALSE(reg.Responsive(IdForTest("a"), t0 + seconds(10)));
  EXPECT_EQ(Register("d", "10.0.0.1", t0 + seconds(11)), grpc::StatusCode::OK);
  EXPECT_EQ(reg.size(), 1u);
  EXPECT_EQ(reg.NameOf(IdForTest("a")), std::to_string(IdForTest("a")));  // forgotten
}

TEST_F(RegistryTest, AClientWithAWaitingPollIsNeverPruned) {
  std::string session;
  ASSERT_EQ(Register("a", "p", t0, &session), grpc::StatusCode::OK);
  ClientRecord* rec = nullptr;
  ASSERT_TRUE(reg.Find("", session, t0, &rec).ok());
  ASSERT_TRUE(reg.BeginPoll(*rec).ok());
  ASSERT_EQ(Register("b", "q", t0 + seconds(30)), grpc::StatusCode::OK);  // prunes the dead
  EXPECT_EQ(reg.size(), 2u);
  reg.EndPoll(*rec);
  ASSERT_EQ(Register("c", "r", t0 + seconds(60)), grpc::StatusCode::OK);
  EXPECT_EQ(reg.size(), 1u);
}

TEST_F(RegistryTest, WaitingPollsAreLimitedPerClientAndInAll) {
  std::string sa, sb;
  ASSERT_EQ(Register("a", "p", t0, &sa), grpc::StatusCode::OK);
  ASSERT_EQ(Register("b", "q", t0, &sb), grpc::StatusCode::OK);
  ClientRecord *a = nullptr, *b = nullptr;
  ASSERT_TRUE(reg.Find("", sa, t0, &a).ok());
  ASSERT_TRUE(reg.Find("", sb, t0, &b).ok());
  ASSERT_TRUE(reg.BeginPoll(*a).ok());
  ASSERT_TRUE(reg.BeginPoll(*a).ok());
  const grpc::Status third = reg.BeginPoll(*a);
  EXPECT_EQ(third.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(third.error_message().find("--max-polls-per-client"), std::string::npos);
  ASSERT_TRUE(reg.BeginPoll(*b).ok());
  const grpc::Status full = reg.BeginPoll(*b);  // 3 waiting in all
  EXPECT_NE(full.error_message().find("--max-waiting-polls"), std::string::npos);
  reg.EndPoll(*a);
  EXPECT_TRUE(reg.BeginPoll(*b).ok());
}

}  // namespace
}  // namespace fedra::net
