#include "core/log_safe.h"

namespace fedra {

std::string LogSafe(std::string_view text, size_t max_bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  const std::string_view kept = text.substr(0, max_bytes);
  std::string out;
  out.reserve(kept.size() + 16);
  for (const char ch : kept) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\\':
        out += "\\\\";
        break;
      default:
        if (c >= 0x20 && c < 0x7f) {
          out.push_back(ch);
        } else {
          out += "\\x";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 15]);
        }
    }
  }
  if (text.size() > kept.size()) {
    out += "...(" + std::to_string(text.size() - kept.size()) + " more bytes)";
  }
  return out;
}

WarningLimiter::WarningLimiter(int burst, Clock::duration window, size_t max_keys)
    : burst_(burst), window_(window), max_keys_(max_keys) {}

std::optional<int64_t> WarningLimiter::Admit(const std::string& key, Clock::time_point now) {
  std::lock_guard lock(mu_);
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_keys_) buckets_.clear();
    it = buckets_.emplace(key, Bucket{.window_start = now}).first;
  }
  Bucket& b = it->second;
  if (now - b.window_start >= window_) {
    b.window_start = now;
    b.admitted = 0;
  }
  if (b.admitted >= burst_) {
    ++b.suppressed;
    return std::nullopt;
  }
  ++b.admitted;
  const int64_t suppressed = b.suppressed;
  b.suppressed = 0;
  return suppressed;
}

}  // namespace fedra
