#include "net/session_registry.h"

#include <openssl/rand.h>

#include <algorithm>
#include <vector>

#include "core/log_safe.h"
#include "fedra/core/logging.h"

namespace fedra::net {
std::string RandomHex(size_t bytes) {
  std::vector<unsigned char> buf(bytes);
  FEDRA_CHECK_MSG(RAND_bytes(buf.data(), static_cast<int>(bytes)) == 1, "RAND_bytes failed");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  for (unsigned char b : buf) {
    s += kHex[b >> 4];
    s += kHex[b & 15];
  }
  return s;
}

bool SessionRegistry::Alive(const ClientRecord& c, SteadyTime now) const {
  return !c.session.empty() && Seconds(now - c.last_seen) < limits_.liveness_seconds;
}

void SessionRegistry::PruneDead(SteadyTime now) {
  if (now - last_prune_ < std::chrono::seconds(1)) return;
  last_prune_ = now;
  for (auto it = clients_.begin(); it != clients_.end();) {
    const ClientRecord& c = it->second;
    if (c.waiting_polls == 0 && Seconds(now - c.last_seen) >= limits_.liveness_seconds) {
      if (!c.session.empty()) sessions_.erase(c.session);
      names_.erase(c.id);
      it = clients_.erase(it);
    } else {
      ++it;
    }
  }
}

grpc::Status SessionRegistry::Admit(const std::string& name, const std::string& peer,
                                    SteadyTime now) {
  PruneDead(now);
  auto it = clients_.find(name);
  if (it != clients_.end()) {
    auto& times = it->second.registered;
    while (!times.empty() && now - times.front() >= std::chrono::minutes(1)) times.pop_front();
    if (times.size() >= limits_.max_registrations_per_minute) {
      return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                          "client " + LogSafe(name, 96) + " registered " +
                              std::to_string(times.size()) +
                              " times in the last minute (--max-registrations-per-minute); "
                              "retry later");
    }
    return grpc::Status::OK;  // a known identity again: replaces its own session
  }
  if (clients_.size() >= limits_.max_clients) {
    return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                        "the server has " + std::to_string(clients_.size()) +
                            " clients registered, its limit (--max-clients); retry later");
  }
  size_t from_peer = 0;
  for (const auto& [n, c] : clients_) from_peer += c.peer == peer;
  if (from_peer >= limits_.max_clients_per_peer) {
    return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                        std::to_string(from_peer) + " clients are registered from " +
                            LogSafe(peer, 96) + ", the limit per address (--max-clients-per-peer)");
  }
  return grpc::Status::OK;
}

grpc::Status SessionRegistry::Register(const std::string& name, ClientId id,
                                       const std::string& peer, SteadyTime now,
                                       const ClientRecord** record) {
  if (auto it = names_.find(id); it != names_.end() && it->second != name) {
    return grpc::Status(grpc::StatusCode::ALREADY_EXISTS, "client id collision");
  }
  grpc::Status admitted = Admit(name, peer, now);
  if (!admitted.ok()) return admitted;
  ClientRecord& rec = clients_[name];
  rec.peer = peer;
  rec.registered.push_back(now);
  if (!rec.session.empty()) sessions_.erase(rec.session);
  rec.name = name;
  rec.id = id;
  do {
    rec.session = RandomHex(16);
  } while (sessions_.contains(rec.session));
  rec.last_seen = now;
  sessions_[rec.session] = name;
  names_[id] = name;
  *record = &rec;
  return grpc::Status::OK;
}

grpc::Status SessionRegistry::Find(const std::string& auth_name, const std::string& session,
                                   SteadyTime now, ClientRecord** record) {
  auto it = sessions_.find(session);
  if (it == sessions_.end()) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown session; register again");
  }
  if (!auth_name.empty() && auth_name != it->second) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "session belongs to another client");
  }
  ClientRecord& rec = clients_.at(it->second);
  rec.last_seen = now;
  *record = &rec;
  return grpc::Status::OK;
}

grpc::Status SessionRegistry::BeginPoll(ClientRecord& record) {
  std::string why;
  if (record.waiting_polls >= limits_.max_polls_per_client) {
    why = "client " + record.name + " already has " + std::to_string(record.waiting_polls) +
          " polls waiting (--max-polls-per-client)";
  } else if (waiting_polls_ >= limits_.max_waiting_polls) {
    why = "the server has " + std::to_string(waiting_polls_) +
          " polls waiting, its limit (--max-waiting-polls); retry later";
  }
  if (!why.empty()) return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, why);
  ++record.waiting_polls;
  ++waiting_polls_;
  return grpc::Status::OK;
}

void SessionRegistry::EndPoll(ClientRecord& record) {
  --record.waiting_polls;
  --waiting_polls_;
}

std::vector<ClientId> SessionRegistry::Live(SteadyTime now) const {
  std::vector<ClientId> ids;
  for (const auto& [n, c] : clients_) {
    if (Alive(c, now)) ids.push_back(c.id);
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

bool SessionRegistry::Responsive(ClientId id, SteadyTime now) const {
  auto it = names_.find(id);
  return it != names_.end() && Alive(clients_.at(it->second), now);
}

std::string SessionRegistry::NameOf(ClientId id) const {
  auto it = names_.find(id);
  return it == names_.end() ? std::to_string(id) : it->second;
}

}  // namespace fedra::net
