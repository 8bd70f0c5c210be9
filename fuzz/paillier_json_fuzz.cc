// Paillier's peer- and file-supplied formats: public and secret keys (JWK-like JSON),
// python-paillier numbers ({"v": ..., "e": ...}) and serialised encrypted updates under a
// fixed public key, selected by the first byte.
#include <cstdint>

#include "fedra/privacy/paillier/encrypted_update.h"
#include "fedra/privacy/paillier/key_json.h"
#include "fedra/privacy/paillier/phe_number.h"
#include "fuzz/fuzz_util.h"

namespace pai = fedra::paillier;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const pai::PublicKey* key =
      new pai::PublicKey(pai::PublicKeyFromJwk(fedra::fuzz::kPublicKeyJwk).value());
  const std::string_view in = fedra::fuzz::AsText(data + 1, size - 1);
  constexpr pai::PublicKeyOptions kSmall{.allow_small_for_testing = true};
  switch (data[0] % 5) {
    case 0:
      (void)pai::PublicKeyFromJwk(in);
      break;
    case 1:
      (void)pai::PublicKeyFromJwk(in, kSmall);
      break;
    case 2:
      (void)pai::SecretKeyFromJwk(in, kSmall);
      break;
    case 3:
      (void)pai::PheEncryptedNumberFromJson(*key, in);
      break;
    default:
      (void)pai::ParseEncryptedUpdate(*key, in);
      break;
  }
  return 0;
}
