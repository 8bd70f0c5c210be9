#include "apps/server_edge.h"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>

#include "apps/token_file.h"
#include "fedra/core/logging.h"
#include "fedra/net/client.h"
#include "fedra/net/edge.h"

namespace fedra::apps {

void AddEdgeFlags(CLI::App& app, EdgeFlags& f) {
  app.add_option("--upstream", f.upstream,
                 "be an edge aggregator: a client of the upper fedra-server at host:port, "
                 "answering its rounds with the folded sums of this server's clients");
  app.add_option("--upstream-name", f.name,
                 "identity at the upper server (its --aggregators must list it)");
  app.add_flag("--upstream-insecure", f.insecure, "plaintext to the upper server");
  app.add_option("--upstream-ca", f.ca_file, "CA that signed the upper server's certificate");
  app.add_option("--upstream-cert", f.cert_file, "client certificate for mTLS upstream");
  app.add_option("--upstream-key", f.key_file, "its private key");
  app.add_option("--upstream-token-file", f.token_file,
                 "bearer token for the upper server (the token, or '<name> <token>' lines)");
  app.add_option("--upstream-server-name", f.server_name,
                 "TLS name to check on the upper server's certificate");
  app.add_option("--upstream-give-up-seconds", f.give_up_seconds,
                 "stop when the upper server has been unreachable this long")
      ->capture_default_str();
}

Status RunEdge(const EdgeFlags& f, const ServerOptions& server_options, Strategy& strategy,
               const RoundDriverOptions& driver, size_t min_clients, double wait_seconds,
               const std::string& port_file, const std::atomic<bool>& stop) {
  auto log = Logger("edge");
  if (f.name.empty()) return InvalidArgumentError("--upstream needs --upstream-name");
  ClientOptions up{.server = f.upstream,
                   .name = f.name,
                   .insecure = f.insecure,
                   .ca_file = f.ca_file,
                   .cert_file = f.cert_file,
                   .key_file = f.key_file,
                   .server_name_override = f.server_name,
                   .give_up_seconds = f.give_up_seconds,
                   .seed = f.seed};
  if (!f.token_file.empty()) {
    FEDRA_ASSIGN_OR_RETURN(up.token, ReadToken(f.token_file, f.name));
  }
  FEDRA_ASSIGN_OR_RETURN(auto server, Server::Start(server_options));
  std::printf("fedra-server (edge of %s) listening on port %d\n", f.upstream.c_str(),
              server->port());
  std::fflush(stdout);
  if (!port_file.empty()) std::ofstream(port_file) << server->port() << "\n";
  EdgeOptions eo{.driver = driver};
  eo.has_aggregators = !server_options.aggregators.empty();
  eo.before_round = [&]() -> Status {
    const auto wait = std::chrono::milliseconds(static_cast<int64_t>(wait_seconds * 1000));
    const size_t live = server->WaitForClients(min_clients, wait);
    if (live < min_clients) {
      return UnavailableError("only " + std::to_string(live) + " of " +
                              std::to_string(min_clients) + " edge clients connected");
    }
    return OkStatus();
  };
  eo.on_round = [&](const RoundMetrics& m) {
    std::printf("edge round %d  clients %zu (%zu failed)  train loss %.4f%s%s\n", m.round,
                m.fit_clients, m.fit_failures, m.train_loss,
                m.aggregated ? "" : "  failed: ", m.error.c_str());
    std::fflush(stdout);
  };
  EdgeTrainer edge(strategy, server->pool(), std::move(eo));
  Client upstream(edge, std::move(up));
  std::atomic<bool> over{false};
  std::thread watch([&] {  // Ctrl-C: leave the upper run as a client would
    while (!over && !stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (stop) upstream.Stop();
  });
  const Status s = upstream.Run();
  over = true;
  watch.join();
  if (stop) log->info("stopped by a signal after {} rounds", upstream.fits_done());
  log->info("the upper server's run is over after {} rounds: {}", upstream.fits_done(),
            s.ToString());
  // The edge's clients hear that the run is over.
  server->Shutdown(
      std::chrono::milliseconds(static_cast<int64_t>(server_options.poll_seconds * 1000 + 1000)));
  return s;
}

}  // namespace fedra::apps
