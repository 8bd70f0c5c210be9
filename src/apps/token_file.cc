#include "apps/token_file.h"

#include <fstream>
#include <sstream>

namespace fedra::apps {

StatusOr<std::string> ReadToken(const std::string& path, const std::string& name) {
  std::ifstream in(path);
  if (!in) return NotFoundError(path + ": cannot open the token file");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string a, b;
    fields >> a >> b;
    if (a.empty() || a[0] == '#') continue;
    if (b.empty()) return a;
    if (a == name) return b;
  }
  return NotFoundError(path + ": no token for client '" + name + "'");
}

}  // namespace fedra::apps
