// Private to src/: whole-file reading and crash-safe writing on POSIX, with errno mapped to
// a StatusCode the same way everywhere.
//
// Thread-safety: the functions are thread-safe; concurrent writers of one path each write a
// complete file and the last rename wins.
#ifndef FEDRA_SRC_CORE_FILE_UTIL_H_
#define FEDRA_SRC_CORE_FILE_UTIL_H_

#include <sys/stat.h>

#include <functional>
#include <string>
#include <string_view>

#include "fedra/core/status.h"

namespace fedra::internal {

// `what + ": " + strerror(err)`, as NotFound (ENOENT, ENOTDIR), ResourceExhausted (ENOSPC,
// EDQUOT), FailedPrecondition (EACCES, EPERM, EROFS, EISDIR) or else Internal.
Status ErrnoError(std::string_view what, int err);

// A check of the opened file (owner, mode, size) before it is read; its error is returned.
using FileCheck = std::function<Status(const struct stat&)>;

// The whole of the regular file `path`. Opening never blocks (a FIFO is rejected, not
// waited on). InvalidArgument if `path` is not a regular file; then `check`, if given, on the
// open descriptor's stat (so the file read is the file checked); otherwise errors per
// ErrnoError(). Every error message starts with `path + ": "`.
StatusOr<std::string> ReadFile(const std::string& path, const FileCheck& check = nullptr);

// Replaces `path` with `bytes` so that a crash leaves either the old or the new contents:
// writes a new, uniquely named temporary file beside `path` (O_EXCL, so a file planted under
// that name is never written into; `mode` less the umask, 0600 for secrets), fsyncs
// it, renames it over `path` and fsyncs the directory. On failure the temporary file is
// removed and `path` is untouched, unless only the final directory fsync failed. Errors per
// ErrnoError(), each message starting with `path + ": "`.
Status WriteFileAtomically(const std::string& path, std::string_view bytes, mode_t mode = 0644);

}  // namespace fedra::internal

#endif  // FEDRA_SRC_CORE_FILE_UTIL_H_
