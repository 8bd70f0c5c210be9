// Paillier keys as JSON files in the JWK-like format python-paillier (phe) documents and its
// pheutil writes, so keys move between fedra and Python in both directions:
//   public:  {"kty":"DAJ","alg":"PAI-GN1","key_ops":["encrypt"],"n":<b64url>,"kid":<text>}
//   secret:  {"kty":"DAJ","alg":"PAI-GN1","key_ops":["decrypt"],"lambda":<b64url>,"mu":<b64url>,
//             "p":<b64url>,"q":<b64url>,"pub":<public key>,"kid":<text>}
// Integers are unpadded base64url of their big-endian bytes (phe.util.int_to_base64). lambda is
// phi(n) = (p-1)(q-1) and mu = lambda^-1 mod n, as in phe's documented format; p and q are
// fedra's addition. Reading accepts p, q or (lambda alone) and checks everything it is given.
//
// Secret key files are written with mode 0600, and reading one that group or others may access
// is refused with a message saying how to fix it.
//
// Thread-safety: free functions; thread-safe.
#ifndef FEDRA_PRIVACY_PAILLIER_KEY_JSON_H_
#define FEDRA_PRIVACY_PAILLIER_KEY_JSON_H_

#include <string>
#include <string_view>

#include "fedra/core/status.h"
#include "fedra/privacy/paillier/public_key.h"
#include "fedra/privacy/paillier/secret_key.h"

namespace fedra::paillier {

std::string PublicKeyToJwk(const PublicKey& key);
// DataLoss for malformed JSON, a missing or wrong field ("kty" must be "DAJ", "alg" "PAI-GN1").
StatusOr<PublicKey> PublicKeyFromJwk(std::string_view json, const PublicKeyOptions& options = {});

std::string SecretKeyToJwk(const SecretKey& key);
// DataLoss for malformed JSON or missing fields; InvalidArgument if the secrets do not match the
// embedded public key.
StatusOr<SecretKey> SecretKeyFromJwk(std::string_view json, const PublicKeyOptions& options = {});

// Files: the JSON above plus a newline, written atomically (temporary file + rename).
Status WritePublicKeyFile(const std::string& path, const PublicKey& key);
StatusOr<PublicKey> ReadPublicKeyFile(const std::string& path,
                                      const PublicKeyOptions& options = {});
// Mode 0600 from the moment the file exists.
Status WriteSecretKeyFile(const std::string& path, const SecretKey& key);
// FailedPrecondition if group or others have any access to `path`.
StatusOr<SecretKey> ReadSecretKeyFile(const std::string& path,
                                      const PublicKeyOptions& options = {});

}  // namespace fedra::paillier

#endif  // FEDRA_PRIVACY_PAILLIER_KEY_JSON_H_
