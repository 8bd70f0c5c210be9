#include "core/file_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <system_error>
#include <utility>

namespace fedra::internal {
namespace {

// Tries before giving up on finding an unused temporary file name.
constexpr int kMaxTempAttempts = 100;

// Owns a file descriptor.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;

  int get() const { return fd_; }
  // Closes now and reports the error close() returns (it can report a failed write).
  Status Close() {
    const int rc = ::close(std::exchange(fd_, -1));
    return rc == 0 ? OkStatus() : ErrnoError("close failed", errno);
  }

 private:
  int fd_;
};

Status WriteAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError("write failed", errno);
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return OkStatus();
}

// Creates a new file beside `path`, named `path + ".tmp." + pid + "." + n` with n unique in
// this process; a name left behind by an earlier process is skipped. Sets `tmp` to its name.
StatusOr<int> CreateTempFile(const std::string& path, std::string& tmp, mode_t mode) {
  static std::atomic<uint64_t> counter{0};
  const std::string prefix = path + ".tmp." + std::to_string(::getpid()) + ".";
  for (int attempt = 0;; ++attempt) {
    tmp = prefix + std::to_string(counter.fetch_add(1, std::memory_order_relaxed));
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd >= 0) return fd;
    if (errno != EEXIST || attempt + 1 == kMaxTempAttempts) {
      return ErrnoError("cannot create " + tmp, errno);
    }
  }
}

// Writes `bytes` to the new file `raw_fd`, flushed to disk, and closes it.
Status WriteSynced(int raw_fd, std::string_view bytes) {
  Fd fd(raw_fd);
  FEDRA_RETURN_IF_ERROR(WriteAll(fd.get(), bytes));
  if (::fsync(fd.get()) != 0) return ErrnoError("fsync failed", errno);
  return fd.Close();
}

Status SyncDirectory(const std::string& file_path) {
  std::string dir = std::filesystem::path(file_path).parent_path().string();
  if (dir.empty()) dir = ".";
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return ErrnoError("cannot open directory " + dir, errno);
  if (::fsync(fd.get()) != 0) return ErrnoError("fsync of directory " + dir + " failed", errno);
  return fd.Close();
}

StatusOr<std::string> ReadOpenFile(const Fd& fd, const FileCheck& check) {
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return ErrnoError("cannot stat", errno);
  if (!S_ISREG(st.st_mode)) return InvalidArgumentError("not a regular file");
  if (check) FEDRA_RETURN_IF_ERROR(check(st));
  std::string bytes(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::read(fd.get(), bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError("read failed", errno);
    if (n == 0) break;  // the file shrank while we read it
    done += static_cast<size_t>(n);
  }
  bytes.resize(done);
  return bytes;
}

}  // namespace

Status ErrnoError(std::string_view what, int err) {
  std::string message =
      std::string(what) + ": " + std::error_code(err, std::generic_category()).message();
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return NotFoundError(std::move(message));
    case ENOSPC:
    case EDQUOT:
      return ResourceExhaustedError(std::move(message));
    case EACCES:
    case EPERM:
    case EROFS:
    case EISDIR:
      return FailedPreconditionError(std::move(message));
    default:
      return InternalError(std::move(message));
  }
}

StatusOr<std::string> ReadFile(const std::string& path, const FileCheck& check) {
  // O_NONBLOCK: opening a FIFO must not hang; it is then rejected as not a regular file.
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (fd.get() < 0) return ErrnoError("cannot open for reading", errno).WithContext(path);
  StatusOr<std::string> bytes = ReadOpenFile(fd, check);
  if (!bytes.ok()) return bytes.status().WithContext(path);
  return bytes;
}

Status WriteFileAtomically(const std::string& path, std::string_view bytes, mode_t mode) {
  std::string tmp;
  StatusOr<int> fd = CreateTempFile(path, tmp, mode);
  if (!fd.ok()) return fd.status().WithContext(path);
  Status status = WriteSynced(*fd, bytes);
  if (status.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) {
    status = ErrnoError("cannot rename " + tmp + " to " + path, errno);
  }
  if (!status.ok()) {
    ::unlink(tmp.c_str());
    return status.WithContext(path);
  }
  return SyncDirectory(path).WithContext(path);
}

}  // namespace fedra::internal
