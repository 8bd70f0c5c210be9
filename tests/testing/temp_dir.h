// TempDir: a fresh directory under $TMPDIR (or /tmp) removed with its contents when the
// object goes out of scope. For tests that write files.
#ifndef FEDRA_TESTS_TESTING_TEMP_DIR_H_
#define FEDRA_TESTS_TESTING_TEMP_DIR_H_

#include <string>
#include <string_view>

namespace fedra::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + name
  std::string File(std::string_view name) const;
  // Writes `bytes` to File(name) and returns its path.
  std::string Write(std::string_view name, std::string_view bytes) const;
  // Writes `bytes` gzip-compressed to File(name) and returns its path.
  std::string WriteGzip(std::string_view name, std::string_view bytes) const;

 private:
  std::string path_;
};

}  // namespace fedra::testing

#endif  // FEDRA_TESTS_TESTING_TEMP_DIR_H_
