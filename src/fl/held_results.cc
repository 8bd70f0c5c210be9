#include "fl/held_results.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <utility>

#include "core/file_util.h"

namespace fedra::internal {

namespace {

size_t BytesOf(const FitResult& r) {
  size_t n = r.update.num_bytes();
  for (const auto& [name, x] : r.extras) n += x.num_bytes();
  return n;
}

Status WriteAt(int fd, const void* data, size_t n, uint64_t offset) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t w = pwrite(fd, p, n, static_cast<off_t>(offset));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return ErrnoError("spilling a held result", w < 0 ? errno : ENOSPC);
    p += w;
    n -= static_cast<size_t>(w);
    offset += static_cast<uint64_t>(w);
  }
  return OkStatus();
}

Status ReadAt(int fd, void* data, size_t n, uint64_t offset) {
  char* p = static_cast<char*>(data);
  while (n > 0) {
    const ssize_t r = pread(fd, p, n, static_cast<off_t>(offset));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return ErrnoError("reading a spilled result back", errno);
    if (r == 0) return DataLossError("reading a spilled result back: the file is short");
    p += r;
    n -= static_cast<size_t>(r);
    offset += static_cast<uint64_t>(r);
  }
  return OkStatus();
}

}  // namespace

HeldResults::HeldResults(size_t memory_bytes, std::string spill_dir)
    : memory_bytes_(memory_bytes), spill_dir_(std::move(spill_dir)) {}

HeldResults::~HeldResults() {
  if (fd_ >= 0) close(fd_);
}

Status HeldResults::Open() {
  if (fd_ >= 0) return OkStatus();
  std::string dir = spill_dir_;
  if (dir.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    dir = tmp && *tmp ? tmp : "/tmp";
  }
  std::string path = dir + "/fedra-held-XXXXXX";
  fd_ = mkostemp(path.data(), O_CLOEXEC);
  if (fd_ < 0) return ErrnoError(path, errno);
  unlink(path.c_str());  // the file goes away with the descriptor, even after a crash
  return OkStatus();
}

Status HeldResults::Spill(Held& h, Parameters* spilled_update) {
  FEDRA_RETURN_IF_ERROR(Open());
  std::vector<std::pair<std::string, Parameters*>> vectors{{"", &h.result.update}};
  for (auto& [name, x] : h.result.extras) vectors.emplace_back(name, &x);
  uint64_t at = end_;
  for (const auto& [name, x] : vectors) {
    FEDRA_RETURN_IF_ERROR(WriteAt(fd_, x->data(), x->num_bytes(), at));
    h.spilled.push_back({name, x->tensors(), at});
    at += x->num_bytes();
  }
  // Written whole: only now let the memory go.
  if (spilled_update != nullptr) *spilled_update = std::move(h.result.update);
  for (const auto& [name, x] : vectors) *x = Parameters();
  spilled_ += at - end_;
  end_ = at;
  return OkStatus();
}

Status HeldResults::Hold(FitResult result, Parameters* spilled_update) {
  const size_t bytes = BytesOf(result);
  Held& h = held_.emplace_back(Held{std::move(result), {}});
  if (in_memory_ + bytes <= memory_bytes_) {
    in_memory_ += bytes;
    return OkStatus();
  }
  Status s = Spill(h, spilled_update);
  if (!s.ok()) {
    h.spilled.clear();
    in_memory_ += bytes;
  }
  return s;
}

StatusOr<FitResult> HeldResults::Take(size_t i, Parameters spare) {
  Held& h = held_.at(i);
  FitResult r = std::move(h.result);
  in_memory_ -= std::min(in_memory_, BytesOf(r));
  for (const Vector& v : h.spilled) {
    Parameters p;
    if (spare.tensors() == v.layout) {
      p = std::move(spare);
      spare = Parameters();
    } else {
      for (const TensorInfo& t : v.layout) p.Add(t.name, t.shape);
    }
    FEDRA_RETURN_IF_ERROR(ReadAt(fd_, p.data(), p.num_bytes(), v.offset));
    (v.name.empty() ? r.update : r.extras[v.name]) = std::move(p);
  }
  h.spilled.clear();
  return r;
}

void HeldResults::Clear() {
  held_.clear();
  in_memory_ = 0;
  end_ = 0;
  if (fd_ >= 0 && ftruncate(fd_, 0) != 0) {
    close(fd_);  // a fresh file next time
    fd_ = -1;
  }
}

}  // namespace fedra::internal
