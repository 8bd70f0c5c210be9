// Private to the net layer: the clients fedra::Server knows, their sessions and the limits
// that keep one identity or one address from filling the server. Not thread-safe: the server
// calls it under its own mutex. Time is passed in, so the limits are tested without a clock
// or a server (tests/net/session_registry_test.cc).
#ifndef FEDRA_SRC_NET_SESSION_REGISTRY_H_
#define FEDRA_SRC_NET_SESSION_REGISTRY_H_

#include <chrono>
#include <cstddef>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include <grpcpp/support/status.h>

#include "fedra/fl/types.h"
#include "net/steady_time.h"

namespace fedra::net {

// `bytes` bytes from the cryptographic RNG as lowercase hex (session and run ids).
std::string RandomHex(size_t bytes);

// The ServerOptions of the same names.
struct RegistryLimits {
  double liveness_seconds = 0;  // a client silent for this long is gone
  size_t max_clients = 0;       // live clients in all
  size_t max_clients_per_peer = 0;
  size_t max_registrations_per_minute = 0;  // of one identity
  size_t max_polls_per_client = 0;          // waiting GetTask calls of one client
  size_t max_waiting_polls = 0;             // waiting GetTask calls, all clients
};

struct ClientRecord {
  std::string name;
  ClientId id = 0;
  std::string session;
  SteadyTime last_seen;
  std::string peer;                   // address it registered from, without the port
  std::deque<SteadyTime> registered;  // its registrations in the last minute
  size_t waiting_polls = 0;           // GetTask calls of this client now waiting
};

class SessionRegistry {
 public:
  explicit SessionRegistry(RegistryLimits limits) : limits_(limits) {}

  // Registers `name` (whose id is `id`) from `peer` with a new session; its previous session
  // ends. ALREADY_EXISTS when another name has the same id; RESOURCE_EXHAUSTED when it would
  // pass a limit (live clients in all or from one address, registrations of one identity per
  // minute: each re-registration re-queues its task and makes a new session).
  grpc::Status Register(const std::string& name, ClientId id, const std::string& peer,
                        SteadyTime now, const ClientRecord** record);

  // The client of `session`, marked alive at `now`. NOT_FOUND for an unknown session;
  // PERMISSION_DENIED when the caller authenticated as another name (`auth_name` non-empty).
  grpc::Status Find(const std::string& auth_name, const std::string& session, SteadyTime now,
                    ClientRecord** record);

  // Counts a poll that is about to wait, or refuses it (RESOURCE_EXHAUSTED, a message without
  // peer-supplied text beyond the client's validated name): each waiting poll costs memory.
  grpc::Status BeginPoll(ClientRecord& record);
  void EndPoll(ClientRecord& record);

  // Ids of the clients with a session heard from within the liveness window, sorted.
  std::vector<ClientId> Live(SteadyTime now) const;
  // Whether `id` has a session and was heard from within the liveness window.
  bool Responsive(ClientId id, SteadyTime now) const;
  // The client's name, or its id as text when it is not registered.
  std::string NameOf(ClientId id) const;
  size_t size() const { return clients_.size(); }

 private:
  // Forgets clients silent for longer than the liveness window (at most once a second), so
  // the limits count live clients and the registry does not grow with every name ever used.
  // A record with a waiting poll is live by definition.
  void PruneDead(SteadyTime now);
  grpc::Status Admit(const std::string& name, const std::string& peer, SteadyTime now);
  bool Alive(const ClientRecord& c, SteadyTime now) const;

  RegistryLimits limits_;
  std::map<std::string, ClientRecord> clients_;  // by name
  std::map<std::string, std::string> sessions_;  // session id -> name
  std::map<ClientId, std::string> names_;        // id -> name
  size_t waiting_polls_ = 0;
  SteadyTime last_prune_;
};

}  // namespace fedra::net

#endif  // FEDRA_SRC_NET_SESSION_REGISTRY_H_
