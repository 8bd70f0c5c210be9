// Keys shared by the Paillier tests of one binary, generated once (key generation dominates
// test time otherwise). 1024-bit keys are for speed only; 2048-bit generation has its own test.
#ifndef FEDRA_TESTS_PRIVACY_PAILLIER_TEST_KEYS_H_
#define FEDRA_TESTS_PRIVACY_PAILLIER_TEST_KEYS_H_

#include <gtest/gtest.h>

#include "fedra/privacy/paillier/secret_key.h"

namespace fedra::paillier::testing {

// Options that accept the small test keys below (loading a key refuses them by default).
inline constexpr PublicKeyOptions kSmallKeys{.allow_small_for_testing = true};

inline const SecretKey& TestKey() {
  static const SecretKey* key = [] {
    StatusOr<SecretKey> k =
        GenerateKeyPair({.modulus_bits = 1024, .allow_small_for_testing = true});
    FEDRA_CHECK_MSG(k.ok(), k.status().ToString());
    return new SecretKey(std::move(k).value());
  }();
  return *key;
}

inline const SecretKey& OtherTestKey() {
  static const SecretKey* key = [] {
    StatusOr<SecretKey> k =
        GenerateKeyPair({.modulus_bits = 1024, .allow_small_for_testing = true});
    FEDRA_CHECK_MSG(k.ok(), k.status().ToString());
    return new SecretKey(std::move(k).value());
  }();
  return *key;
}

}  // namespace fedra::paillier::testing

#endif  // FEDRA_TESTS_PRIVACY_PAILLIER_TEST_KEYS_H_
