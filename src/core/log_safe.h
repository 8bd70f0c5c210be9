// Peer-supplied text on its way into a log line, and a per-peer limit on warnings.
//
// LogSafe: a hostile peer chooses run ids, client, tensor and group names and error strings;
// written raw, a newline forges a log line and megabytes fill the disk. Control characters,
// '\' and bytes outside printable ASCII become escapes (\n, \r, \t, \\, \xNN), and the result is
// cut to `max_bytes` input bytes with the count of what was left out.
//
// WarningLimiter: at most `burst` warnings per key (a peer) per `window`; the next admitted
// one reports how many were suppressed in between. Keys are bounded: past `max_keys` the
// table restarts, so a flood of new identities cannot grow memory.
//
// Thread-safety: LogSafe is reentrant; WarningLimiter is thread-safe.
#ifndef FEDRA_CORE_LOG_SAFE_H_
#define FEDRA_CORE_LOG_SAFE_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace fedra {

std::string LogSafe(std::string_view text, size_t max_bytes = 256);

class WarningLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  WarningLimiter(int burst, Clock::duration window, size_t max_keys = 4096);

  // nullopt: suppress this warning. Otherwise log it; the value is how many warnings for this
  // key were suppressed since the last one admitted (0 usually).
  std::optional<int64_t> Admit(const std::string& key, Clock::time_point now = Clock::now());

 private:
  struct Bucket {
    Clock::time_point window_start;
    int admitted = 0;
    int64_t suppressed = 0;
  };
  const int burst_;
  const Clock::duration window_;
  const size_t max_keys_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace fedra

#endif  // FEDRA_CORE_LOG_SAFE_H_
