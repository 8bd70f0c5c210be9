// fleet_bench: many connected clients on one real fedra-server (issue #15). One process holds
// N lightweight clients on gRPC's callback API (no thread per client): each registers, long-
// polls for tasks, and answers a FIT task at once with an update of the model's P parameters.
// The server (the stock fedra-server binary, started here on 127.0.0.1, plaintext) samples K
// clients per round. Reports per round, as JSON lines: wall time, the server's threads and
// RSS, bytes, and refused/late results; then a summary line.
//
//   fleet_bench --server build/release/src/apps/fedra-server --clients 1000 --sample 100
//               --params 100000 --rounds 20 [--connections N] [--max-seconds 1800]
//
// Every client has its own channel and TCP connection unless --connections is smaller (then
// clients share channels round robin). Bounded: gives up after --max-seconds, kills the server
// and exits non-zero. The model is `linear` on --data none with P - 1 inputs (P parameters).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <queue>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "fedra/fl/metrics_log.h"
#include "fedra/v1/federation.grpc.pb.h"

namespace {

using Clock = std::chrono::steady_clock;
namespace v1 = fedra::v1;

struct Options {
  std::string server = "build/release/src/apps/fedra-server";
  size_t clients = 1000, sample = 100, params = 100000, rounds = 20, connections = 0;
  double max_seconds = 1800;
  size_t max_waiting_polls = 0;  // 0: the server's default
};

// The server's /proc view: threads and resident memory (kB, current and peak).
struct ProcStatus {
  long threads = 0, rss_kb = 0, hwm_kb = 0;
};
ProcStatus ReadProc(pid_t pid) {
  ProcStatus p;
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("Threads:", 0) == 0) p.threads = std::stol(line.substr(8));
    if (line.rfind("VmRSS:", 0) == 0) p.rss_kb = std::stol(line.substr(6));
    if (line.rfind("VmHWM:", 0) == 0) p.hwm_kb = std::stol(line.substr(6));
  }
  return p;
}

// Runs callbacks after a delay on one thread (back-off after a refusal).
class Timer {
 public:
  Timer() : thread_([this] { Loop(); }) {}
  ~Timer() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  void After(double seconds, std::function<void()> fn) {
    std::lock_guard lock(mu_);
    queue_.push({Clock::now() + std::chrono::microseconds(static_cast<int64_t>(seconds * 1e6)),
                 seq_++, std::move(fn)});
    cv_.notify_all();
  }

 private:
  struct Item {
    Clock::time_point at;
    uint64_t seq;
    std::function<void()> fn;
    bool operator>(const Item& o) const { return at != o.at ? at > o.at : seq > o.seq; }
  };
  void Loop() {
    std::unique_lock lock(mu_);
    while (!stop_) {
      if (queue_.empty()) {
        cv_.wait(lock);
        continue;
      }
      if (Clock::now() < queue_.top().at) {
        cv_.wait_until(lock, queue_.top().at);
        continue;
      }
      auto fn = queue_.top().fn;
      queue_.pop();
      lock.unlock();
      fn();
      lock.lock();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::priority_queue<Item, std::vector<Item>, std::greater<>> queue_;
  uint64_t seq_ = 0;
  bool stop_ = false;
  std::thread thread_;
};

struct Counters {
  std::atomic<uint64_t> registered{0}, register_refused{0}, polls{0}, polls_refused{0},
      fit_tasks{0}, results_ok{0}, results_refused{0}, results_late{0}, other_errors{0},
      bytes_down{0}, bytes_up{0}, finished{0};
};

class Fleet;

struct SimClient {
  Fleet* fleet = nullptr;
  size_t index = 0;
  v1::Federation::Stub* stub = nullptr;
  std::string session, run_id;
  void Register();
  void Poll();
  void Answer(const v1::TaskHeader& task);
  void Retry(std::function<void(SimClient*)> step);
};

class Fleet {
 public:
  Fleet(const Options& o, int port) : o_(o), rng_(1) {
    const size_t channels = o.connections == 0 ? o.clients : std::min(o.connections, o.clients);
    for (size_t i = 0; i < channels; ++i) {
      grpc::ChannelArguments args;
      args.SetMaxReceiveMessageSize(-1);
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // a connection of its own
      args.SetInt("fleet.channel", static_cast<int>(i));   // distinct args: distinct channels
      stubs_.push_back(v1::Federation::NewStub(grpc::CreateCustomChannel(
          "127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials(), args)));
    }
    clients_.resize(o.clients);
    for (size_t i = 0; i < o.clients; ++i) {
      clients_[i].fleet = this;
      clients_[i].index = i;
      clients_[i].stub = stubs_[i % stubs_.size()].get();
    }
  }
  void Start() {
    for (auto& c : clients_) c.Register();
  }
  const Options& options() const { return o_; }
  Counters& counters() { return counters_; }
  Timer& timer() { return timer_; }
  double Jitter(double base) {
    std::lock_guard lock(mu_);
    return base * std::uniform_real_distribution<double>(0.5, 1.5)(rng_);
  }
  // The payload of an update: P small floats, the same bytes for every client.
  const std::string& Payload(size_t floats) {
    std::lock_guard lock(mu_);
    if (payload_.size() != floats * 4) {
      std::vector<float> v(floats);
      for (size_t i = 0; i < floats; ++i) v[i] = 1e-3f * static_cast<float>(int(i % 7) - 3);
      payload_.assign(reinterpret_cast<const char*>(v.data()), floats * 4);
    }
    return payload_;
  }
  void RoundSeen(uint32_t round) {
    std::lock_guard lock(mu_);
    first_task_.try_emplace(round, Clock::now());
  }

 private:
  Options o_;
  std::vector<std::unique_ptr<v1::Federation::Stub>> stubs_;
  std::vector<SimClient> clients_;
  Counters counters_;
  Timer timer_;
  std::mutex mu_;
  std::mt19937_64 rng_;
  std::string payload_;
  std::map<uint32_t, Clock::time_point> first_task_;
};

void SimClient::Retry(std::function<void(SimClient*)> step) {
  fleet->timer().After(fleet->Jitter(1.0), [this, step] { step(this); });
}

void SimClient::Register() {
  struct Call {
    grpc::ClientContext ctx;
    v1::RegisterRequest req;
    v1::RegisterResponse resp;
  };
  auto* call = new Call;
  call->req.set_client_name("fleet-" + std::to_string(index));
  call->req.set_protocol_version(1);
  call->ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  stub->async()->Register(&call->ctx, &call->req, &call->resp, [this, call](grpc::Status s) {
    if (s.ok()) {
      session = call->resp.session_id();
      run_id = call->resp.run_id();
      fleet->counters().registered++;
      delete call;
      Poll();
      return;
    }
    delete call;
    if (s.error_code() == grpc::StatusCode::FAILED_PRECONDITION) {  // the run is finished
      fleet->counters().finished++;
      return;
    }
    fleet->counters().register_refused++;
    Retry([](SimClient* c) { c->Register(); });
  });
}

// One long poll; the payload is counted, not kept.
class PollCall final : public grpc::ClientReadReactor<v1::TaskChunk> {
 public:
  explicit PollCall(SimClient* c) : c_(c) {
    req_.set_session_id(c->session);
    ctx_.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
    c->stub->async()->GetTask(&ctx_, &req_, this);
    StartRead(&chunk_);
    StartCall();
  }
  void OnReadDone(bool ok) override {
    if (!ok) return;
    if (chunk_.has_header()) {
      header_ = chunk_.header();
    } else {
      bytes_ += chunk_.data().size();
    }
    StartRead(&chunk_);
  }
  void OnDone(const grpc::Status& s) override {
    SimClient* c = c_;
    Counters& n = c->fleet->counters();
    n.bytes_down += bytes_;
    const v1::TaskHeader header = std::move(header_);
    delete this;
    if (!s.ok()) {
      if (s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
        n.polls_refused++;
      } else if (s.error_code() == grpc::StatusCode::NOT_FOUND) {  // forgotten: register again
        c->Retry([](SimClient* x) { x->Register(); });
        return;
      } else {
        n.other_errors++;
      }
      c->Retry([](SimClient* x) { x->Poll(); });
      return;
    }
    switch (header.kind()) {
      case v1::FIT:
        n.fit_tasks++;
        c->fleet->RoundSeen(header.round());
        c->Answer(header);
        return;
      case v1::FINISHED:
        n.finished++;
        return;
      case v1::EVALUATE:  // not asked (--evaluate-every 0); answered with an error if it is
      default:
        c->Poll();
    }
  }

 private:
  SimClient* c_;
  grpc::ClientContext ctx_;
  v1::GetTaskRequest req_;
  v1::TaskChunk chunk_;
  v1::TaskHeader header_;
  uint64_t bytes_ = 0;
};

void SimClient::Poll() {
  fleet->counters().polls++;
  new PollCall(this);
}

// A FIT answer: the header, then the update in chunks of 1 MiB.
class UploadCall final : public grpc::ClientWriteReactor<v1::ResultChunk> {
 public:
  UploadCall(SimClient* c, const v1::TaskHeader& task) : c_(c) {
    v1::ResultHeader* h = first_.mutable_header();
    h->set_session_id(c->session);
    h->set_run_id(c->run_id);
    h->set_round(task.round());
    h->set_task_id(task.task_id());
    h->mutable_fit()->set_num_examples(100);
    h->mutable_fit()->set_local_steps(4);
    h->mutable_fit()->set_train_loss(0.5);
    size_t floats = 0;
    for (const v1::TensorSpec& t : task.tensors()) {
      if (t.group() != "global") continue;
      v1::TensorSpec* u = h->add_tensors();
      *u = t;
      u->set_group("update");
      size_t n = 1;
      for (int64_t d : t.shape()) n *= static_cast<size_t>(d);
      floats += n;
    }
    payload_ = &c->fleet->Payload(floats);
    h->set_payload_bytes(payload_->size());
    ctx_.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(300));
    c->stub->async()->SubmitResult(&ctx_, &resp_, this);
    StartWrite(&first_);
    StartCall();
  }
  void OnWriteDone(bool ok) override {
    if (!ok) return;  // OnDone says why
    if (offset_ >= payload_->size()) {
      StartWritesDone();
      return;
    }
    const size_t n = std::min<size_t>(size_t{1} << 20, payload_->size() - offset_);
    data_.set_data(payload_->data() + offset_, n);
    offset_ += n;
    StartWrite(&data_);
  }
  void OnDone(const grpc::Status& s) override {
    SimClient* c = c_;
    Counters& n = c->fleet->counters();
    n.bytes_up += offset_;
    if (s.ok()) {
      n.results_ok++;
    } else if (s.error_code() == grpc::StatusCode::FAILED_PRECONDITION) {
      n.results_late++;
    } else {
      n.results_refused++;
      std::fprintf(stderr, "fleet: result refused: %s\n", s.error_message().c_str());
    }
    delete this;
    c->Poll();
  }

 private:
  SimClient* c_;
  grpc::ClientContext ctx_;
  v1::SubmitResultResponse resp_;
  v1::ResultChunk first_, data_;
  const std::string* payload_ = nullptr;
  size_t offset_ = 0;
};

void SimClient::Answer(const v1::TaskHeader& task) { new UploadCall(this, task); }

bool ParseArgs(int argc, char** argv, Options& o) {
  const std::map<std::string, size_t*> counts = {
      {"--clients", &o.clients},         {"--sample", &o.sample},
      {"--params", &o.params},           {"--rounds", &o.rounds},
      {"--connections", &o.connections}, {"--max-waiting-polls", &o.max_waiting_polls}};
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    try {
      if (k == "--server") {
        o.server = v;
      } else if (k == "--max-seconds") {
        o.max_seconds = std::stod(v);
      } else if (auto it = counts.find(k); it != counts.end()) {
        *it->second = std::stoul(v);
      } else {
        std::fprintf(stderr, "unknown flag %s\n", k.c_str());
        return false;
      }
    } catch (const std::exception&) {
      std::fprintf(stderr, "%s: not a number: %s\n", k.c_str(), v.c_str());
      return false;
    }
  }
  if (argc % 2 != 1) return std::fprintf(stderr, "every flag takes a value\n"), false;
  if (o.clients == 0 || o.sample == 0 || o.sample > o.clients || o.params < 2 || o.rounds == 0) {
    std::fprintf(stderr, "need clients >= sample >= 1, params >= 2, rounds >= 1\n");
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!ParseArgs(argc, argv, o)) return 2;
  const auto dir =
      std::filesystem::temp_directory_path() / ("fleet_bench_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string port_file = (dir / "port").string();
  std::vector<std::string> args = {
      o.server,
      "--insecure",
      "--address",
      "127.0.0.1:0",
      "--port-file",
      port_file,
      "--run-dir",
      (dir / "run").string(),
      "--model",
      "linear",
      "--data",
      "none",
      "--input-shape",
      std::to_string(o.params - 1),
      "--classes",
      "1",
      "--rounds",
      std::to_string(o.rounds),
      "--min-clients",
      std::to_string(o.clients),
      "--fraction-fit",
      std::to_string(static_cast<double>(o.sample) / static_cast<double>(o.clients)),
      "--min-fit-clients",
      std::to_string(o.sample),
      "--evaluate-every",
      "0",
      "--max-clients-per-peer",
      std::to_string(o.clients),
      "--max-clients",
      std::to_string(o.clients),
      "--round-deadline",
      "300",
      "--liveness",
      "60",
      "--wait-seconds",
      std::to_string(o.max_seconds),
      "--log-level",
      "warn"};
  if (o.max_waiting_polls > 0) {
    args.push_back("--max-waiting-polls");
    args.push_back(std::to_string(o.max_waiting_polls));
  }
  const pid_t server = fork();
  if (server == 0) {
    const std::string log = (dir / "server.log").string();  // its round lines, not ours
    if (FILE* f = std::freopen(log.c_str(), "w", stdout); f == nullptr) _exit(126);
    std::vector<char*> argv_c;
    for (auto& a : args) argv_c.push_back(a.data());
    argv_c.push_back(nullptr);
    execv(argv_c[0], argv_c.data());
    std::perror("execv");
    _exit(127);
  }
  const auto start = Clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - start).count(); };
  int port = 0;
  while (port == 0 && elapsed() < 30) {
    std::ifstream in(port_file);
    if (!(in >> port)) port = 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (port == 0) return std::fprintf(stderr, "the server did not start\n"), 1;
  const ProcStatus idle = ReadProc(server);
  Fleet fleet(o, port);
  fleet.Start();
  // Sample the server while the clients connect and the rounds run.
  ProcStatus connected, peak;
  bool all_registered = false;
  int status = 0;
  bool exited = false;
  Counters& n = fleet.counters();
  while (elapsed() < o.max_seconds) {
    if (waitpid(server, &status, WNOHANG) == server) {
      exited = true;
      break;
    }
    const ProcStatus now = ReadProc(server);
    peak.threads = std::max(peak.threads, now.threads);
    peak.rss_kb = std::max(peak.rss_kb, now.rss_kb);
    peak.hwm_kb = std::max(peak.hwm_kb, now.hwm_kb);
    if (!all_registered && n.registered >= o.clients) {
      all_registered = true;
      connected = now;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (!exited) {
    kill(server, SIGKILL);
    waitpid(server, &status, 0);
    std::fprintf(stderr, "fleet: gave up after %.0f s\n", o.max_seconds);
  }
  auto history = fedra::ReadMetricsLog((dir / "run" / "metrics.jsonl").string());
  size_t rounds_done = 0;
  if (history.ok()) {
    for (const auto& m : *history) {
      rounds_done += m.aggregated;
      std::printf(
          "{\"round\": %d, \"seconds\": %.3f, \"fit_clients\": %zu, \"fit_failures\": %zu, "
          "\"bytes_down\": %llu, \"bytes_up\": %llu}\n",
          m.round, m.seconds, static_cast<size_t>(m.fit_clients),
          static_cast<size_t>(m.fit_failures), static_cast<unsigned long long>(m.bytes_down),
          static_cast<unsigned long long>(m.bytes_up));
    }
  }
  const double per_client_kb =
      all_registered
          ? static_cast<double>(connected.rss_kb - idle.rss_kb) / static_cast<double>(o.clients)
          : 0;
  std::printf(
      "{\"clients\": %zu, \"sample\": %zu, \"params\": %zu, \"rounds\": %zu, "
      "\"rounds_aggregated\": %zu, \"wall_seconds\": %.1f, \"server_exit\": %d, "
      "\"server_threads_idle\": %ld, \"server_threads_connected\": %ld, "
      "\"server_threads_peak\": %ld, \"server_rss_idle_kb\": %ld, "
      "\"server_rss_connected_kb\": %ld, \"server_rss_per_connected_client_kb\": %.1f, "
      "\"server_rss_peak_kb\": %ld, \"registered\": %llu, \"register_refused\": %llu, "
      "\"polls\": %llu, \"polls_refused\": %llu, \"fit_tasks\": %llu, \"results_ok\": %llu, "
      "\"results_refused\": %llu, \"results_late\": %llu, \"other_errors\": %llu, "
      "\"finished\": %llu}\n",
      o.clients, o.sample, o.params, o.rounds, rounds_done, elapsed(),
      exited && WIFEXITED(status) ? WEXITSTATUS(status) : -1, idle.threads, connected.threads,
      peak.threads, idle.rss_kb, connected.rss_kb, per_client_kb, peak.hwm_kb,
      static_cast<unsigned long long>(n.registered.load()),
      static_cast<unsigned long long>(n.register_refused.load()),
      static_cast<unsigned long long>(n.polls.load()),
      static_cast<unsigned long long>(n.polls_refused.load()),
      static_cast<unsigned long long>(n.fit_tasks.load()),
      static_cast<unsigned long long>(n.results_ok.load()),
      static_cast<unsigned long long>(n.results_refused.load()),
      static_cast<unsigned long long>(n.results_late.load()),
      static_cast<unsigned long long>(n.other_errors.load()),
      static_cast<unsigned long long>(n.finished.load()));
  std::filesystem::remove_all(dir);
  // The clients' channels and reactors go with the process; do not wait for them.
  std::fflush(stdout);
  _exit(exited && rounds_done == o.rounds ? 0 : 1);
}
