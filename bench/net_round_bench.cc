// net_round_bench: how long a federated round takes over loopback gRPC for N clients and a
// P-parameter model, beside a bare gRPC stream service moving the same bytes (each client
// downloads and uploads P floats) in the same run, and the server's peak RSS in each case.
//
//   net_round_bench [--clients 10,100] [--params 1000000,25000000] [--rounds 2]
//                   [--inflight-mb MB]   (the server's --max-inflight-result-mb)
//
// Servers run in child processes (this binary re-executed with --role) so their peak RSS is
// their own; the clients are threads of the driver that stream without keeping the model, so
// client memory does not limit N. Prints one JSON object per configuration.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "fedra/fl/fed_avg.h"
#include "fedra/fl/round_driver.h"
#include "fedra/net/server.h"
#include "fedra/v1/federation.grpc.pb.h"

namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kChunk = size_t{1} << 20;
size_t inflight_mb = fedra::ServerOptions{}.max_inflight_result_bytes >> 20;

double Since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

const std::string& ZeroChunk() {
  static const std::string zeros(kChunk, '\0');
  return zeros;
}

std::unique_ptr<fedra::v1::Federation::Stub> Stub(int port) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(8 << 20);
  args.SetMaxSendMessageSize(8 << 20);
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return fedra::v1::Federation::NewStub(grpc::CreateCustomChannel(
      "127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials(), args));
}

// Reads a task stream to its end, keeping only the header.
bool Download(fedra::v1::Federation::Stub& stub, const std::string& session,
              fedra::v1::TaskHeader* header) {
  grpc::ClientContext ctx;
  fedra::v1::GetTaskRequest req;
  req.set_session_id(session);
  auto reader = stub.GetTask(&ctx, req);
  fedra::v1::TaskChunk chunk;
  if (!reader->Read(&chunk)) return false;
  *header = chunk.header();
  uint64_t bytes = 0;
  while (reader->Read(&chunk)) bytes += chunk.data().size();
  return reader->Finish().ok() && bytes == header->payload_bytes();
}

bool Upload(fedra::v1::Federation::Stub& stub, fedra::v1::ResultHeader header) {
  grpc::ClientContext ctx;
  fedra::v1::SubmitResultResponse resp;
  auto writer = stub.SubmitResult(&ctx, &resp);
  fedra::v1::ResultChunk chunk;
  const uint64_t total = header.payload_bytes();
  *chunk.mutable_header() = std::move(header);
  bool ok = writer->Write(chunk);
  for (uint64_t sent = 0; ok && sent < total; sent += kChunk) {
    fedra::v1::ResultChunk data;
    data.set_data(ZeroChunk().data(), std::min<uint64_t>(kChunk, total - sent));
    ok = writer->Write(data);
  }
  writer->WritesDone();
  grpc::Status s = writer->Finish();
  if (!s.ok()) std::fprintf(stderr, "upload: %s\n", s.error_message().c_str());
  return s.ok();
}

// A fedra client that answers every fit task with a zero update, streaming.
void FedraClient(int port, int index) {
  auto stub = Stub(port);
  grpc::ClientContext ctx;
  fedra::v1::RegisterRequest req;
  req.set_client_name("bench-" + std::to_string(index));
  req.set_protocol_version(1);
  fedra::v1::RegisterResponse resp;
  if (!stub->Register(&ctx, req, &resp).ok()) return;
  while (true) {
    fedra::v1::TaskHeader task;
    if (!Download(*stub, resp.session_id(), &task)) return;
    if (task.kind() == fedra::v1::FINISHED) return;
    if (task.kind() != fedra::v1::FIT) continue;
    fedra::v1::ResultHeader h;
    h.set_session_id(resp.session_id());
    h.set_run_id(task.run_id());
    h.set_round(task.round());
    h.set_task_id(task.task_id());
    h.mutable_fit()->set_num_examples(1);
    for (auto spec : task.tensors()) {
      spec.set_group("update");
      *h.add_tensors() = spec;
    }
    h.set_payload_bytes(task.payload_bytes());
    Upload(*stub, std::move(h));
  }
}

// The baseline: a service that only streams bytes down and swallows bytes up.
class BareService final : public fedra::v1::Federation::Service {
 public:
  explicit BareService(uint64_t bytes) : bytes_(bytes) {}
  grpc::Status GetTask(grpc::ServerContext*, const fedra::v1::GetTaskRequest*,
                       grpc::ServerWriter<fedra::v1::TaskChunk>* writer) override {
    fedra::v1::TaskChunk chunk;
    chunk.mutable_header()->set_kind(fedra::v1::FIT);
    chunk.mutable_header()->set_payload_bytes(bytes_);
    writer->Write(chunk);
    for (uint64_t sent = 0; sent < bytes_; sent += kChunk) {
      fedra::v1::TaskChunk data;
      data.set_data(ZeroChunk().data(), std::min<uint64_t>(kChunk, bytes_ - sent));
      if (!writer->Write(data)) break;
    }
    return grpc::Status::OK;
  }
  grpc::Status SubmitResult(grpc::ServerContext*, grpc::ServerReader<fedra::v1::ResultChunk>* r,
                            fedra::v1::SubmitResultResponse*) override {
    fedra::v1::ResultChunk chunk;
    while (r->Read(&chunk)) {
    }
    return grpc::Status::OK;
  }

 private:
  uint64_t bytes_;
};

long PeakRssKb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

int FedraServer(size_t params, size_t clients, int rounds, const std::string& port_file) {
  auto server = fedra::Server::Start({.address = "127.0.0.1:0",
                                      .insecure = true,
                                      .round_deadline_seconds = 1200,
                                      .liveness_seconds = 600,
                                      .poll_seconds = 1,
                                      // every simulated client comes from 127.0.0.1
                                      .max_inflight_result_bytes = inflight_mb << 20,
                                      .max_clients_per_peer = clients});
  if (!server.ok()) return 1;
  std::ofstream(port_file) << (*server)->port() << "\n";
  fedra::FedAvgOptions fo;
  fo.sampling.min_fit_clients = clients;
  fo.sampling.fraction_evaluate = 0;
  auto strategy = fedra::NewFedAvg(fo);
  fedra::Parameters global;
  global.Add("w", {static_cast<int64_t>(params)});
  if ((*server)->WaitForClients(clients, std::chrono::minutes(5)) < clients) return 1;
  fedra::RoundDriver driver(**strategy, (*server)->pool(),
                            {.num_rounds = rounds, .evaluate_every = 0});
  std::printf("{\"round_seconds\":[");
  std::string peaks;  // the peak RSS after each round: which round set it
  for (int r = 1; r <= rounds; ++r) {
    auto m = driver.RunRound(r, global);
    if (!m.aggregated || m.fit_failures > 0) return 1;
    std::printf("%s%.3f", r > 1 ? "," : "", m.seconds);
    peaks += (r > 1 ? "," : "") + std::to_string(PeakRssKb());
  }
  (*server)->Shutdown(std::chrono::milliseconds(1500));
  std::printf("],\"peak_rss_kb_by_round\":[%s],\"peak_rss_kb\":%ld}\n", peaks.c_str(), PeakRssKb());
  return 0;
}

int BareServer(size_t params, const std::string& port_file) {
  BareService service(params * 4);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.SetMaxReceiveMessageSize(8 << 20);
  builder.RegisterService(&service);
  auto server = builder.BuildAndStart();
  std::ofstream(port_file) << port << "\n";
  std::string line;
  std::getline(std::cin, line);  // the driver closes our stdin when done
  std::printf("{\"peak_rss_kb\":%ld}\n", PeakRssKb());
  server->Shutdown();
  return 0;
}

struct Child {
  pid_t pid = -1;
  FILE* out = nullptr;  // its stdout
  FILE* in = nullptr;   // its stdin
};

Child Spawn(const std::vector<std::string>& args) {
  int out[2], in[2];
  if (pipe(out) != 0 || pipe(in) != 0) std::exit(2);
  Child c;
  c.pid = fork();
  if (c.pid == 0) {
    dup2(out[1], 1);
    dup2(in[0], 0);
    close(out[0]);
    close(in[1]);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv("/proc/self/exe", argv.data());
    _exit(127);
  }
  close(out[1]);
  close(in[0]);
  c.out = fdopen(out[0], "r");
  c.in = fdopen(in[1], "w");
  return c;
}

int WaitPort(const std::string& file) {
  for (int i = 0; i < 600; ++i) {
    std::ifstream f(file);
    int port = 0;
    if (f >> port && port > 0) return port;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::exit(3);
}

std::string ReadAll(FILE* f) {
  std::string s;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
  return s;
}

std::vector<size_t> ParseList(const std::string& s) {
  std::vector<size_t> v;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) v.push_back(std::stoull(item));
  return v;
}

void Measure(const std::string& self, size_t clients, size_t params, int rounds) {
  const std::string port_file = "/tmp/net_round_bench." + std::to_string(getpid()) + ".port";
  // fedra: one server process, `clients` streaming client threads, `rounds` rounds.
  std::remove(port_file.c_str());
  Child fedra = Spawn({self, "--role", "fedra-server", "--params", std::to_string(params),
                       "--clients", std::to_string(clients), "--rounds", std::to_string(rounds),
                       "--port-file", port_file, "--inflight-mb", std::to_string(inflight_mb)});
  int port = WaitPort(port_file);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < clients; ++i) threads.emplace_back(FedraClient, port, static_cast<int>(i));
  for (auto& t : threads) t.join();
  const std::string fedra_json = ReadAll(fedra.out);
  int status = 0;
  waitpid(fedra.pid, &status, 0);
  // Baseline: the same bytes down and up through a bare streaming service.
  std::remove(port_file.c_str());
  Child bare = Spawn({self, "--role", "bare-server", "--params", std::to_string(params),
                      "--port-file", port_file});
  port = WaitPort(port_file);
  std::vector<double> bare_rounds;
  for (int r = 0; r < rounds; ++r) {
    threads.clear();
    const auto start = Clock::now();
    for (size_t i = 0; i < clients; ++i) {
      threads.emplace_back([port, params] {
        auto stub = Stub(port);
        fedra::v1::TaskHeader h;
        Download(*stub, "", &h);
        fedra::v1::ResultHeader up;
        up.set_payload_bytes(params * 4);
        Upload(*stub, up);
      });
    }
    for (auto& t : threads) t.join();
    bare_rounds.push_back(Since(start));
  }
  fclose(bare.in);
  const std::string bare_json = ReadAll(bare.out);
  waitpid(bare.pid, nullptr, 0);
  std::remove(port_file.c_str());
  std::printf(
      "{\"clients\":%zu,\"params\":%zu,\"model_mb\":%.1f,\"inflight_mb\":%zu,\"fedra\":%s,"
      "\"bare_round_seconds\":[",
      clients, params, params * 4 / 1e6, inflight_mb,
      WIFEXITED(status) && WEXITSTATUS(status) == 0
          ? fedra_json.substr(0, fedra_json.size() - 1).c_str()
          : "{\"error\":true}");
  for (size_t i = 0; i < bare_rounds.size(); ++i)
    std::printf("%s%.3f", i ? "," : "", bare_rounds[i]);
  std::printf("],\"bare\":%s}\n", bare_json.substr(0, bare_json.size() - 1).c_str());
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  std::string role, port_file, clients = "10,100", params = "1000000,25000000";
  int rounds = 2;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--role")
      role = v;
    else if (k == "--clients")
      clients = v;
    else if (k == "--params")
      params = v;
    else if (k == "--rounds")
      rounds = std::stoi(v);
    else if (k == "--port-file")
      port_file = v;
    else if (k == "--inflight-mb")
      inflight_mb = std::stoull(v);
    else {
      std::fprintf(stderr, "unknown flag %s\n", k.c_str());
      return 2;
    }
  }
  if (role == "fedra-server") {
    return FedraServer(ParseList(params)[0], ParseList(clients)[0], rounds, port_file);
  }
  if (role == "bare-server") return BareServer(ParseList(params)[0], port_file);
  for (size_t p : ParseList(params)) {
    for (size_t c : ParseList(clients)) Measure("/proc/self/exe", c, p, rounds);
  }
  return 0;
}
