// fedra-server --upstream: the server as an edge aggregator (fedra/net/edge.h). It serves its
// own clients and is at the same time a client of the upper server, answering each of its
// FIT tasks with the folded sums of a round of its own clients.
#ifndef FEDRA_APPS_SERVER_EDGE_H_
#define FEDRA_APPS_SERVER_EDGE_H_

#include <atomic>
#include <string>

#include <CLI/CLI.hpp>

#include "fedra/fl/round_driver.h"
#include "fedra/fl/strategy.h"
#include "fedra/net/server.h"

namespace fedra::apps {

struct EdgeFlags {
  std::string upstream;  // host:port of the upper server; empty: not an edge
  std::string name;      // identity at the upper server (token name / mTLS common name)
  bool insecure = false;
  std::string ca_file, cert_file, key_file, token_file, server_name;
  double give_up_seconds = 600;
  uint64_t seed = 0;  // sampling of the edge's clients (0: from the OS)
};

void AddEdgeFlags(CLI::App& app, EdgeFlags& flags);

// Starts the edge's own server with `server` and takes part in the upper server's run until
// it ends: each upper FIT task waits for `min_clients` of the edge's clients (at most
// `wait_seconds`), runs the round on them with `strategy`'s sampling and fold and `driver`'s
// failure fraction, influence bound and secure sum, and sends the sums up.
// The port the edge listens on is written to `port_file` (if not empty). `stop` set (by a
// signal handler) ends the edge's part after its current round, as the end of the run would.
Status RunEdge(const EdgeFlags& flags, const ServerOptions& server, Strategy& strategy,
               const RoundDriverOptions& driver, size_t min_clients, double wait_seconds,
               const std::string& port_file, const std::atomic<bool>& stop);

}  // namespace fedra::apps

#endif  // FEDRA_APPS_SERVER_EDGE_H_
