#include "fedra/mpi/mpi_simulation.h"

#include <mpi.h>
#include <openssl/rand.h>

#include <algorithm>
#include <bit>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>

#include "fedra/fl/fold_tree.h"

namespace fedra {
namespace {

// Messages of any size: MPI counts are ints, so payloads travel in chunks of 1 GiB.
constexpr size_t kChunk = size_t{1} << 30;
constexpr int kSumsTag = 17;

class Writer {
 public:
  void U64(uint64_t v) { Raw(&v, sizeof v); }
  void F64(double v) { Raw(&v, sizeof v); }
  void Str(const std::string& s) {
    U64(s.size());
    Raw(s.data(), s.size());
  }
  void Raw(const void* p, size_t n) {
    const char* c = static_cast<const char*>(p);
    bytes.insert(bytes.end(), c, c + n);
  }
  std::vector<char> bytes;
};

// Reads what Writer wrote; a short or inconsistent buffer (a bug, not an attack: ranks are
// one job) ends the read with ok() false.
class Reader {
 public:
  explicit Reader(const std::vector<char>& b) : b_(b) {}
  uint64_t U64() {
    uint64_t v = 0;
    Raw(&v, sizeof v);
    return v;
  }
  double F64() {
    double v = 0;
    Raw(&v, sizeof v);
    return v;
  }
  std::string Str() {
    const uint64_t n = U64();
    if (!Has(n)) return {};
    std::string s(b_.data() + pos_, n);
    pos_ += n;
    return s;
  }
  void Raw(void* p, size_t n) {
    if (!Has(n)) return;
    std::memcpy(p, b_.data() + pos_, n);
    pos_ += n;
  }
  bool Has(uint64_t n) {
    if (n > b_.size() - pos_) ok_ = false;
    return ok_;
  }
  bool ok() const { return ok_ && pos_ == b_.size(); }

 private:
  const std::vector<char>& b_;
  size_t pos_ = 0;
  bool ok_ = true;
};

std::vector<char> Encode(const ClientPool::FoldedFit& f) {
  Writer w;
  w.U64(f.failures);
  w.U64(f.bytes_up);
  w.U64(f.sums.sums().size());
  for (const auto& [name, sum] : f.sums.sums()) {
    w.Str(name);
    w.U64(sum.num_tensors());
    for (const TensorInfo& t : sum.tensors()) {
      w.Str(t.name);
      w.U64(t.shape.size());
      for (int64_t d : t.shape) w.U64(static_cast<uint64_t>(d));
    }
    w.Raw(sum.data(), sum.num_bytes());
  }
  w.U64(f.sums.scalars().size());
  for (const auto& [name, value] : f.sums.scalars()) {
    w.Str(name);
    w.F64(value);
  }
  return std::move(w.bytes);
}

StatusOr<ClientPool::FoldedFit> Decode(const std::vector<char>& bytes) {
  Reader r(bytes);
  ClientPool::FoldedFit f;
  f.failures = r.U64();
  f.bytes_up = r.U64();
  for (uint64_t n = r.U64(), i = 0; i < n && r.Has(0); ++i) {
    const std::string name = r.Str();
    Parameters p;
    for (uint64_t t = r.U64(), j = 0; j < t && r.Has(0); ++j) {
      std::string tensor = r.Str();
      Shape shape(std::min<uint64_t>(r.U64(), 64));
      for (int64_t& d : shape) d = static_cast<int64_t>(std::min<uint64_t>(r.U64(), INT64_MAX));
      if (!r.Has(NumElements(shape) * sizeof(float))) break;
      p.Add(std::move(tensor), std::move(shape));
    }
    r.Raw(p.data(), p.num_bytes());
    if (f.sums.has(name)) break;  // a name twice: the buffer is corrupt (r.ok() says so below)
    f.sums.Put(name, std::move(p));
  }
  for (uint64_t n = r.U64(), i = 0; i < n && r.Has(0); ++i) {
    const std::string name = r.Str();
    f.sums.AddScalar(name, r.F64());
  }
  if (!r.ok()) return DataLossError("a partial sum from another rank does not parse");
  return f;
}

void SendBytes(const std::vector<char>& b, int to) {
  const uint64_t n = b.size();
  MPI_Send(&n, 1, MPI_UINT64_T, to, kSumsTag, MPI_COMM_WORLD);
  for (size_t off = 0; off < n; off += kChunk) {
    MPI_Send(b.data() + off, static_cast<int>(std::min(kChunk, n - off)), MPI_BYTE, to, kSumsTag,
             MPI_COMM_WORLD);
  }
}

std::vector<char> RecvBytes(int from) {
  uint64_t n = 0;
  MPI_Recv(&n, 1, MPI_UINT64_T, from, kSumsTag, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  std::vector<char> b(n);
  for (size_t off = 0; off < n; off += kChunk) {
    MPI_Recv(b.data() + off, static_cast<int>(std::min(kChunk, n - off)), MPI_BYTE, from, kSumsTag,
             MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  }
  return b;
}

// Rank 0's `b` on every rank.
void BcastBytes(std::vector<char>& b) {
  uint64_t n = b.size();
  MPI_Bcast(&n, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);
  b.resize(n);
  for (size_t off = 0; off < n; off += kChunk) {
    MPI_Bcast(b.data() + off, static_cast<int>(std::min(kChunk, n - off)), MPI_BYTE, 0,
              MPI_COMM_WORLD);
  }
}

// Every rank's `mine`, in rank order, on every rank (small payloads: evaluation results).
std::vector<std::vector<char>> AllGather(const std::vector<char>& mine, int size) {
  const uint64_t n = mine.size();
  std::vector<uint64_t> sizes(static_cast<size_t>(size));
  MPI_Allgather(&n, 1, MPI_UINT64_T, sizes.data(), 1, MPI_UINT64_T, MPI_COMM_WORLD);
  std::vector<int> counts, offsets;
  uint64_t total = 0;
  for (uint64_t s : sizes) {
    FEDRA_CHECK_MSG(total + s < INT_MAX, "evaluation results over 2 GB");
    counts.push_back(static_cast<int>(s));
    offsets.push_back(static_cast<int>(total));
    total += s;
  }
  std::vector<char> all(total);
  MPI_Allgatherv(mine.data(), static_cast<int>(n), MPI_BYTE, all.data(), counts.data(),
                 offsets.data(), MPI_BYTE, MPI_COMM_WORLD);
  std::vector<std::vector<char>> out;
  for (size_t r = 0; r < sizes.size(); ++r) {
    out.emplace_back(all.begin() + offsets[r], all.begin() + offsets[r] + counts[r]);
  }
  return out;
}

}  // namespace

bool MpiWorld::Launched() {
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"}) {
    if (std::getenv(var) != nullptr) return true;
  }
  return false;
}

StatusOr<std::unique_ptr<MpiWorld>> MpiWorld::Init(int* argc, char*** argv) {
  int provided = 0;
  // Only the main thread calls MPI; the simulation's workers never do.
  if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
    return UnavailableError("MPI_Init_thread failed");
  }
  if (provided < MPI_THREAD_FUNNELED) {
    MPI_Finalize();
    return UnavailableError("this MPI library cannot be used from a multi-threaded process");
  }
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  return std::unique_ptr<MpiWorld>(new MpiWorld(rank, size));
}

MpiWorld::~MpiWorld() { MPI_Finalize(); }

void MpiWorld::Abort(const std::string& why, int code) const {
  std::fprintf(stderr, "fedra (MPI rank %d of %d): %s\n", rank_, size_, why.c_str());
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, code);
  std::abort();
}

Status MpiSimulation::CheckWorldSize(const MpiWorld& world) {
  const auto size = static_cast<size_t>(world.size());
  if (size > FoldTree::kLeaves || !std::has_single_bit(size)) {
    return InvalidArgumentError("the MPI simulation runs on 1, 2, 4, ... or 64 ranks, not " +
                                std::to_string(size) +
                                ": the sums combine up a binary tree (mpirun -n 2, 4, 8, ...)");
  }
  return OkStatus();
}

uint64_t MpiWorld::SharedRandomSeed() const {
  uint64_t seed = 0;
  if (rank_ == 0 && RAND_bytes(reinterpret_cast<unsigned char*>(&seed), sizeof seed) != 1) {
    Abort("RAND_bytes failed");
  }
  MPI_Bcast(&seed, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);
  return seed;
}

bool MpiWorld::AllEqual(uint64_t value) const {
  uint64_t least = 0, most = 0;
  MPI_Allreduce(&value, &least, 1, MPI_UINT64_T, MPI_MIN, MPI_COMM_WORLD);
  MPI_Allreduce(&value, &most, 1, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD);
  return least == most;
}

bool MpiWorld::AllEqual(std::span<const float> values) const {
  uint64_t hash = 14695981039346656037ull;  // FNV-1a over the bytes
  for (std::byte byte : std::as_bytes(values)) {
    hash = (hash ^ static_cast<uint64_t>(byte)) * 1099511628211ull;
  }
  return AllEqual(hash);
}

StatusOr<std::unique_ptr<MpiSimulation>> MpiSimulation::Create(Simulation& local,
                                                               const MpiWorld& world) {
  FEDRA_RETURN_IF_ERROR(CheckWorldSize(world));
  const uint64_t n = local.num_clients();
  uint64_t least = 0, most = 0;
  MPI_Allreduce(&n, &least, 1, MPI_UINT64_T, MPI_MIN, MPI_COMM_WORLD);
  MPI_Allreduce(&n, &most, 1, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD);
  if (least != most) {
    return InvalidArgumentError("the ranks built simulations of " + std::to_string(least) + " to " +
                                std::to_string(most) +
                                " clients: every rank must be given the same flags and data");
  }
  return std::unique_ptr<MpiSimulation>(new MpiSimulation(local, world));
}

void MpiSimulation::RunFit(const Parameters&, const RoundPlan&, const FitCallback&) {
  world_.Abort(
      "the MPI simulation only folds results where they are trained: use a sum-based strategy "
      "without secure sum or influence bound");
}

StatusOr<ClientPool::FoldedFit> MpiSimulation::RunFoldedFit(const Parameters& global,
                                                            const RoundPlan& plan,
                                                            const ResultFolder& fold) {
  const int rank = world_.rank(), size = world_.size();
  auto part = local_.RunFoldedFitPart(global, plan, fold, static_cast<size_t>(rank),
                                      static_cast<size_t>(size));
  // Every rank reached the same plan, so an error here is a bug or a broken rank: stop the job
  // rather than leave the others waiting in a collective.
  if (!part.ok()) world_.Abort("folding this rank's part failed: " + part.status().ToString());
  FoldedFit mine = std::move(part).value();
  // Pairwise in rank order, as FoldTree::CombineParts: at step s, rank r + s hands its sum to r.
  for (int step = 1; step < size; step *= 2) {
    if (rank % (2 * step) == step) {
      SendBytes(Encode(mine), rank - step);
      break;
    }
    if (rank % (2 * step) == 0 && rank + step < size) {
      auto theirs = Decode(RecvBytes(rank + step));
      if (!theirs.ok()) world_.Abort(theirs.status().ToString());
      mine.sums.Merge(theirs->sums);
      mine.failures += theirs->failures;
      mine.bytes_up += theirs->bytes_up;
    }
  }
  std::vector<char> total;
  if (rank == 0) total = Encode(mine);
  BcastBytes(total);
  if (rank == 0) return mine;
  auto decoded = Decode(total);
  if (!decoded.ok()) world_.Abort(decoded.status().ToString());
  return decoded;
}

void MpiSimulation::RunEvaluate(const Parameters& global, std::span<const EvaluateTask> tasks,
                                const EvaluateCallback& on_result) {
  const auto size = static_cast<size_t>(world_.size());
  const auto rank = static_cast<size_t>(world_.rank());
  std::vector<EvaluateTask> mine;
  std::vector<size_t> index;
  for (size_t i = 0; i < tasks.size(); ++i) {
    if (FoldTree::PartOf(tasks[i].client, local_.num_clients(), size) != rank) continue;
    mine.push_back(tasks[i]);
    index.push_back(i);
  }
  Writer w;
  w.U64(mine.size());
  local_.RunEvaluate(global, mine, [&](size_t i, StatusOr<EvaluateResult> r) {
    w.U64(index[i]);
    w.U64(r.ok() ? 1 : 0);
    if (!r.ok()) {
      w.Str(r.status().ToString());
      return;
    }
    w.U64(r->client);
    w.U64(r->num_examples);
    w.F64(r->loss);
    w.F64(r->accuracy);
    w.U64(r->metrics.size());
    for (const auto& [name, value] : r->metrics) {
      w.Str(name);
      w.F64(value);
    }
  });
  std::vector<std::optional<StatusOr<EvaluateResult>>> results(tasks.size());
  for (const std::vector<char>& bytes : AllGather(w.bytes, world_.size())) {
    Reader r(bytes);
    for (uint64_t n = r.U64(), k = 0; k < n && r.Has(0); ++k) {
      const uint64_t i = r.U64();
      const bool ok = r.U64() == 1;
      if (i >= tasks.size()) break;
      if (!ok) {
        results[i] = UnavailableError("evaluation on another rank: " + r.Str());
        continue;
      }
      EvaluateResult e;
      e.client = r.U64();
      e.num_examples = r.U64();
      e.loss = r.F64();
      e.accuracy = r.F64();
      for (uint64_t m = r.U64(), j = 0; j < m && r.Has(0); ++j) {
        std::string name = r.Str();
        e.metrics[name] = r.F64();
      }
      results[i] = std::move(e);
    }
    if (!r.ok()) world_.Abort("evaluation results from another rank do not parse");
  }
  for (size_t i = 0; i < tasks.size(); ++i) {
    if (!results[i]) world_.Abort("no rank evaluated task " + std::to_string(i));
    on_result(i, std::move(*results[i]));
  }
}

}  // namespace fedra
