// The token a client presents, read from a token file: the token alone, or "<name> <token>"
// lines (fedra-keygen's tokens.txt), of which the one for `name`.
#ifndef FEDRA_APPS_TOKEN_FILE_H_
#define FEDRA_APPS_TOKEN_FILE_H_

#include <string>

#include "fedra/core/status.h"

namespace fedra::apps {

StatusOr<std::string> ReadToken(const std::string& path, const std::string& name);

}  // namespace fedra::apps

#endif  // FEDRA_APPS_TOKEN_FILE_H_
