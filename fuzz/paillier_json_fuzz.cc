// Paillier's peer- and file-supplied formats: public and secret keys (JWK-like JSON),
// python-paillier numbers ({"v": ..., "e": ...}) and serialised encrypted updates under a
// fixed public key, and a decryptor's answer (openings, checked against fixed ciphertexts),
// selected by the first byte.
#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "fedra/privacy/paillier/encrypted_update.h"
#include "fedra/privacy/paillier/key_json.h"
#include "fedra/privacy/paillier/opening.h"
#include "fedra/privacy/paillier/phe_number.h"
#include "fuzz/fuzz_util.h"

namespace pai = fedra::paillier;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const pai::PublicKey* key =
      new pai::PublicKey(pai::PublicKeyFromJwk(fedra::fuzz::kPublicKeyJwk).value());
  const std::string_view in = fedra::fuzz::AsText(data + 1, size - 1);
  constexpr pai::PublicKeyOptions kSmall{.allow_small_for_testing = true};
  switch (data[0] % 6) {
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
    case 4:
      (void)pai::ParseEncryptedUpdate(*key, in);
      break;
    default: {
      // At most 4 ciphertexts (E(0..3)), so that one input stays cheap to verify.
      static const std::vector<pai::Ciphertext>* cs = [] {
        auto* v = new std::vector<pai::Ciphertext>;
        for (int i = 0; i < 4; ++i) v->push_back(key->EncryptInt(i));
        return v;
      }();
      const size_t count = std::min<size_t>(cs->size(), in.size() / (2 * key->modulus_bytes()));
      auto openings = pai::ParseOpenings(*key, in, count);
      if (openings.ok()) {
        (void)pai::VerifyOpenings(*key, std::span(cs->data(), count), *openings);
      }
      break;
    }
  }
  return 0;
}
