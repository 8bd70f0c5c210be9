// Private to src/: whole-file reading and crash-safe writing on POSIX, with errno mapped to
// a StatusCode the same way everywhere.
//
// Thread-safety: the functions are thread-safe; concurrent writers of one path each write a
// complete file and the last rename wins.
#ifndef FEDRA_SRC_CORE_FILE_UTIL_H_
#define FEDRA_SRC_CORE_FILE_UTIL_H_

#include <string>
#include <string_view>

#include "fedra/core/status.h"

namespace fedra::internal {

// `what + ": " + strerror(err)`, as NotFound (ENOENT, ENOTDIR), ResourceExhausted (ENOSPC,
// EDQUOT), FailedPrecondition (EACCES, EPERM, EROFS, EISDIR) or else Internal.
Status ErrnoError(std::string_view what, int err);

// The whole of the regular file `path`. Opening never blocks (a FIFO is rejected, not
// waited on). InvalidArgument if `path` is not a regular file; otherwise errors per
// ErrnoError(). Every error message starts with `path + ": "`.
StatusOr<std::string> ReadFile(const std::string& path);

// Replaces `path` with `bytes` so that a crash leaves either the old or the new contents:
// writes a uniquely named temporary file beside `path` (mode 0644 less the umask), fsyncs
// it, renames it over `path` and fsyncs the directory. On failure the temporary file is
// removed and `path` is untouched, unless only the final directory fsync failed. Errors per
// ErrnoError(), each message starting with `path + ": "`.
Status WriteFileAtomically(const std::string& path, std::string_view bytes);

}  // namespace fedra::internal

#endif  // FEDRA_SRC_CORE_FILE_UTIL_H_
