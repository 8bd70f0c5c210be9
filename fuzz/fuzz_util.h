// Helpers shared by the libFuzzer targets in this directory.
#ifndef FEDRA_FUZZ_FUZZ_UTIL_H_
#define FEDRA_FUZZ_FUZZ_UTIL_H_

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace fedra::fuzz {

// A file holding `bytes` for loaders that take a path: an anonymous memory file, named through
// /proc/self/fd, so fuzzing does not touch the disk. Closed when it goes out of scope.
class MemFile {
 public:
  explicit MemFile(std::string_view bytes) : fd_(memfd_create("fedra-fuzz", 0)) {
    if (fd_ < 0) std::abort();
    size_t off = 0;
    while (off < bytes.size()) {
      const ssize_t n = write(fd_, bytes.data() + off, bytes.size() - off);
      if (n <= 0) std::abort();
      off += static_cast<size_t>(n);
    }
  }
  ~MemFile() { close(fd_); }
  MemFile(const MemFile&) = delete;
  MemFile& operator=(const MemFile&) = delete;
  std::string path() const { return "/proc/self/fd/" + std::to_string(fd_); }

 private:
  int fd_;
};

inline std::string_view AsText(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Splits the input at a length given by its first two bytes (the rest if shorter).
inline std::pair<std::string_view, std::string_view> Split2(std::string_view in) {
  if (in.size() < 2) return {in, {}};
  size_t n = (static_cast<uint8_t>(in[0]) << 8) | static_cast<uint8_t>(in[1]);
  in.remove_prefix(2);
  if (n > in.size()) n = in.size();
  return {in.substr(0, n), in.substr(n)};
}

// A 2048-bit Paillier public key (its secret key was thrown away), so seeds made by
// make_seeds and the fuzzers agree on n.
inline constexpr std::string_view kPublicKeyJwk =
    R"({"alg":"PAI-GN1","key_ops":["encrypt"],"kid":"fedra Paillier public key 10deecbe)"
    R"(aaef0fbdfb39ffc6973ba9b0","kty":"DAJ","n":"zQ3kJNlQHDo_4Mw9ucMLhrop93-XRpGKNfHHT)"
    R"(Lxbch6hC2n-rfyzWxSBoeV6_rgVhVbcg9flB53CwnlqK_JV-6G_Zc1KkeKN28jyY2MxgK6sYCgCR3zZu)"
    R"(HRLEdCa7yDr9vUSd0pE5_7icldPa9wNz4264AD7MaXV51GGeRZFDymz-Ui_0Zq-uQWUgV4G8OUPEZenY)"
    R"(Jm_T8uOrdMHwlxUDrmxvGnOOZqh9N-7oUKC7PdQUywxokd28KGClCSviSwALMpNdh1hCl2LzJDB1rZ0T)"
    R"(RajnfszrFdgv5aR3TmeGyK9b77xPGtu-uuYpyzVumigJySTwivQ3C7VNYGALpgtfw"})";

}  // namespace fedra::fuzz

#endif  // FEDRA_FUZZ_FUZZ_UTIL_H_
