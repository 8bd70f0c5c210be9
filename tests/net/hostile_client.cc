// A participant that attacks the model through the real protocol: it registers like any
// client and answers every FIT task at once with
//   count:  a claim of 2^63 - 1 examples and an update of random +-10 per coordinate (without
//           a bound, the next model is the attacker's);
//   values: 10,000 examples and an update of +-1e30 per coordinate.
// It ignores other tasks and exits when the run is FINISHED (or after 10 minutes).
// Usage: hostile_client PORT NAME count|values
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "net/raw_client.h"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: hostile_client PORT NAME count|values\n");
    return 2;
  }
  const std::string mode = argv[3];
  if (mode != "count" && mode != "values") {
    std::fprintf(stderr, "unknown attack '%s'\n", mode.c_str());
    return 2;
  }
  fedra::testing::RawClient client(std::atoi(argv[1]));
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::minutes(10);
  std::mt19937_64 gen(42);
  bool registered = false;
  int attacks = 0;
  while (std::chrono::steady_clock::now() < give_up) {
    if (!registered) {
      registered = client.Register(argv[2]).ok();
      if (!registered) continue;
    }
    fedra::v1::TaskHeader task;
    std::map<std::string, fedra::Parameters> groups;
    const grpc::Status s = client.Poll(&task, &groups);
    if (!s.ok()) {
      registered = s.error_code() != grpc::StatusCode::UNAUTHENTICATED &&
                   s.error_code() != grpc::StatusCode::NOT_FOUND;
      continue;
    }
    if (task.kind() == fedra::v1::FINISHED) break;
    if (task.kind() != fedra::v1::FIT || !groups.contains("global")) continue;
    fedra::Parameters update = groups.at("global");
    const float scale = mode == "count" ? 10.0f : 1e30f;
    for (float& x : update.span()) x = (gen() & 1) ? scale : -scale;
    const uint64_t count = mode == "count" ? (uint64_t{1} << 63) - 1 : 10000;
    const grpc::Status sent = client.Submit(client.FitHeader(task, update, count),
                                            {fedra::testing::RawClient::Bytes(update)});
    std::printf("round %u: sent the %s attack: %s\n", task.round(), mode.c_str(),
                sent.ok() ? "accepted" : sent.error_message().c_str());
    std::fflush(stdout);
    attacks += sent.ok();
  }
  std::printf("%d attacks accepted\n", attacks);
  return attacks > 0 ? 0 : 1;
}
