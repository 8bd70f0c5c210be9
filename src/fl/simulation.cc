#include "fedra/fl/simulation.h"

#include <condition_variable>
#include <exception>
#include <map>
#include <mutex>
#include <optional>

#include "fedra/core/thread_pool.h"
#include "fedra/fl/fold_tree.h"

namespace fedra {
namespace {

// Runs produce(worker, i) for i in [0, n) on the pool and consume(i, value) on the calling
// thread in order of i, with at most `window` values produced but not yet consumed.
template <typename T, typename Produce, typename Consume>
void OrderedParallel(ThreadPool& pool, size_t n, size_t window, Produce produce, Consume consume) {
  std::mutex mu;
  std::condition_variable cv;
  size_t next_start = 0, next_consume = 0;
  std::map<size_t, T> ready;
  auto work = [&](size_t worker) {
    for (;;) {
      size_t i;
      {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return next_start >= n || next_start < next_consume + window; });
        if (next_start >= n) return;
        i = next_start++;
      }
      T value = produce(worker, i);
      {
        std::lock_guard<std::mutex> lock(mu);
        ready.emplace(i, std::move(value));
      }
      cv.notify_all();
    }
  };
  std::thread runner([&] { pool.Run(work); });
  for (size_t i = 0; i < n; ++i) {
    std::optional<T> value;
    {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return ready.contains(i); });
      value.emplace(std::move(ready.at(i)));
      ready.erase(i);
      next_consume = i + 1;
    }
    cv.notify_all();
    consume(i, std::move(*value));
  }
  runner.join();
}

template <typename F>
auto Guarded(F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const std::exception& e) {
    return InternalError(std::string("client threw: ") + e.what());
  } catch (...) {
    return InternalError("client threw a non-standard exception");
  }
}

}  // namespace

struct Simulation::Impl {
  SimulationOptions options;
  ThreadPool pool;
  size_t num_clients = 0;
  TrainerFactory factory;
  // The built-in trainer's parts (empty for a simulation of custom trainers).
  std::unique_ptr<Loss> loss;
  std::vector<SimulatedClient> clients;
  std::vector<std::unique_ptr<Model>> models;  // one per worker
  std::vector<ClientState> states;             // per client, filled lazily (SCAFFOLD)

  explicit Impl(const SimulationOptions& o) : options(o), pool(o.threads) {}
};

Simulation::Simulation(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Simulation::~Simulation() = default;

StatusOr<std::unique_ptr<Simulation>> Simulation::Create(size_t num_clients, TrainerFactory factory,
                                                         const SimulationOptions& options) {
  if (num_clients == 0) return InvalidArgumentError("a simulation needs at least one client");
  if (options.threads < 1) return InvalidArgumentError("a simulation needs at least one thread");
  if (!factory) return InvalidArgumentError("a simulation needs a trainer factory");
  auto impl = std::make_unique<Impl>(options);
  impl->num_clients = num_clients;
  impl->factory = std::move(factory);
  return std::unique_ptr<Simulation>(new Simulation(std::move(impl)));
}

StatusOr<std::unique_ptr<Simulation>> Simulation::Create(const Model& prototype,
                                                         std::unique_ptr<Loss> loss,
                                                         std::vector<SimulatedClient> clients,
                                                         const SimulationOptions& options) {
  if (clients.empty()) return InvalidArgumentError("a simulation needs at least one client");
  if (options.threads < 1) return InvalidArgumentError("a simulation needs at least one thread");
  if (loss == nullptr) return InvalidArgumentError("a simulation needs a loss");
  const int64_t in = NumElements(prototype.InputShape());
  for (size_t c = 0; c < clients.size(); ++c) {
    for (const Dataset* d : {&clients[c].train, &clients[c].test}) {
      if (d->size() > 0 && d->features.rows() != in) {
        return InvalidArgumentError("client " + std::to_string(c) + " has " +
                                    std::to_string(d->features.rows()) +
                                    " features per example, the model takes " + std::to_string(in));
      }
    }
  }
  auto impl = std::make_unique<Impl>(options);
  impl->num_clients = clients.size();
  impl->loss = std::move(loss);
  impl->clients = std::move(clients);
  impl->states.resize(impl->num_clients);
  for (size_t w = 0; w < options.threads; ++w) impl->models.push_back(prototype.Clone());
  Impl* parts = impl.get();
  impl->factory = [parts](ClientId c, size_t worker) -> StatusOr<std::unique_ptr<LocalTrainer>> {
    return std::unique_ptr<LocalTrainer>(std::make_unique<ModelTrainer>(
        *parts->models[worker], *parts->loss, parts->clients[c].train, parts->clients[c].test,
        &parts->states[c]));
  };
  return std::unique_ptr<Simulation>(new Simulation(std::move(impl)));
}

size_t Simulation::num_clients() const { return impl_->num_clients; }

std::map<std::string, std::vector<float>> Simulation::ExportClientState() const {
  std::map<std::string, std::vector<float>> out;
  for (size_t c = 0; c < impl_->states.size(); ++c) {
    const Parameters& control = impl_->states[c].control;
    if (control.size() == 0) continue;
    out[std::to_string(c) + "/control"].assign(control.data(), control.data() + control.size());
  }
  return out;
}

Status Simulation::ImportClientState(const std::map<std::string, std::vector<float>>& state) {
  if (impl_->models.empty()) {
    if (state.empty()) return OkStatus();
    return InvalidArgumentError("a simulation of custom trainers keeps no client state");
  }
  const Parameters& layout = impl_->models.front()->parameters();
  std::vector<ClientState> states(impl_->num_clients);
  for (const auto& [name, values] : state) {
    const size_t slash = name.find('/');
    const std::string id = name.substr(0, slash);
    size_t client = impl_->num_clients;
    if (!id.empty() && id.size() <= 9 && id.find_first_not_of("0123456789") == std::string::npos) {
      client = std::stoul(id);
    }
    if (slash == std::string::npos || name.substr(slash) != "/control" ||
        client >= impl_->num_clients) {
      return InvalidArgumentError("client state '" + name + "' names no client of this " +
                                  std::to_string(impl_->num_clients) + "-client simulation");
    }
    if (values.size() != layout.size()) {
      return InvalidArgumentError("client state '" + name + "' has " +
                                  std::to_string(values.size()) + " values, the model " +
                                  std::to_string(layout.size()));
    }
    states[client].control = Parameters::ZerosLike(layout);
    std::copy(values.begin(), values.end(), states[client].control.data());
  }
  impl_->states = std::move(states);
  return OkStatus();
}

std::vector<ClientId> Simulation::AvailableClients() {
  std::vector<ClientId> ids(impl_->num_clients);
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = i;
  return ids;
}

StatusOr<FitResult> Simulation::TrainTask(const Parameters& global, const RoundPlan& plan, size_t i,
                                          size_t worker) {
  const FitTask& task = plan.tasks[i];
  if (task.client >= impl_->num_clients)
    return NotFoundError("unknown client " + std::to_string(task.client));
  Rng rng = Rng(impl_->options.seed).Split(task.client).Split(static_cast<uint64_t>(plan.round));
  return Guarded([&]() -> StatusOr<FitResult> {
    if (impl_->options.fault) FEDRA_RETURN_IF_ERROR(impl_->options.fault(task.client, plan.round));
    FEDRA_ASSIGN_OR_RETURN(auto trainer, impl_->factory(task.client, worker));
    FEDRA_ASSIGN_OR_RETURN(FitResult r,
                           RunClientFit(*trainer, global, task.config, plan.broadcast, rng));
    r.client = task.client;
    return r;
  });
}

void Simulation::RunFit(const Parameters& global, const RoundPlan& plan,
                        const FitCallback& on_result) {
  OrderedParallel<StatusOr<FitResult>>(
      impl_->pool, plan.tasks.size(), 2 * impl_->pool.size(),
      [&](size_t worker, size_t i) { return TrainTask(global, plan, i, worker); },
      [&](size_t i, StatusOr<FitResult> r) { on_result(i, std::move(r)); });
}

StatusOr<ClientPool::FoldedFit> Simulation::RunFoldedFit(const Parameters& global,
                                                         const RoundPlan& plan,
                                                         const ResultFolder& fold) {
  return RunFoldedFitPart(global, plan, fold, 0, 1);
}

StatusOr<ClientPool::FoldedFit> Simulation::RunFoldedFitPart(const Parameters& global,
                                                             const RoundPlan& plan,
                                                             const ResultFolder& fold, size_t part,
                                                             size_t parts) {
  FEDRA_ASSIGN_OR_RETURN(FoldTree tree, FoldTree::Create(impl_->num_clients, plan, part, parts));
  const std::vector<size_t>& mine = tree.tasks();
  FoldedFit out;
  OrderedParallel<StatusOr<FitResult>>(
      impl_->pool, mine.size(), 2 * impl_->pool.size(),
      [&](size_t worker, size_t i) { return TrainTask(global, plan, mine[i], worker); },
      [&](size_t i, StatusOr<FitResult> r) {
        const size_t task = mine[i];
        uint64_t bytes = 0;
        if (r.ok()) {
          bytes = r->update.num_bytes();
          for (const auto& [name, extra] : r->extras) bytes += extra.num_bytes();
        }
        if (fold(task, std::move(r), tree.SumsOf(task))) {
          out.bytes_up += bytes;
        } else {
          ++out.failures;
        }
        tree.Done(task);
      });
  out.sums = tree.Take();
  return out;
}

void Simulation::RunEvaluate(const Parameters& global, std::span<const EvaluateTask> tasks,
                             const EvaluateCallback& on_result) {
  auto produce = [&](size_t worker, size_t i) -> StatusOr<EvaluateResult> {
    const EvaluateTask& task = tasks[i];
    if (task.client >= impl_->num_clients)
      return NotFoundError("unknown client " + std::to_string(task.client));
    return Guarded([&]() -> StatusOr<EvaluateResult> {
      FEDRA_ASSIGN_OR_RETURN(auto trainer, impl_->factory(task.client, worker));
      FEDRA_ASSIGN_OR_RETURN(EvaluateResult r, RunClientEvaluate(*trainer, global, task));
      r.client = task.client;
      return r;
    });
  };
  OrderedParallel<StatusOr<EvaluateResult>>(
      impl_->pool, tasks.size(), 2 * impl_->pool.size(), produce,
      [&](size_t i, StatusOr<EvaluateResult> r) { on_result(i, std::move(r)); });
}

}  // namespace fedra
