// Single encrypted numbers in python-paillier's (phe) encoding and JSON form, so a Python user
// can decrypt what fedra encrypted and the other way round.
//
// phe encodes a number x as (mantissa, exponent) with x = mantissa * 16^exponent; the mantissa
// is stored modulo n, a negative one as n - |mantissa|, and |mantissa| must not exceed
// max_int = floor(n / 3) - 1 (values in between are overflow). pheutil serialises an
// EncryptedNumber as {"v": "<ciphertext in decimal>", "e": <exponent>}.
//
// Packed fedra updates are not phe numbers (phe would see one huge integer); this is for scalar
// interchange.
//
// Thread-safety: free functions; thread-safe.
#ifndef FEDRA_PRIVACY_PAILLIER_PHE_NUMBER_H_
#define FEDRA_PRIVACY_PAILLIER_PHE_NUMBER_H_

#include <string>
#include <string_view>

#include "fedra/core/status.h"
#include "fedra/privacy/paillier/public_key.h"
#include "fedra/privacy/paillier/secret_key.h"

namespace fedra::paillier {

struct PheEncryptedNumber {
  Ciphertext ciphertext;
  int exponent = 0;  // value = mantissa * 16^exponent
};

// The phe mantissa of `value` at `exponent` (value * 16^-exponent rounded to nearest), modulo n.
// InvalidArgument for a non-finite value, an exponent outside [-300, 300], or |mantissa| > max_int.
StatusOr<BigBytes> EncodePheNumber(const PublicKey& key, double value, int exponent);
// mantissa * 16^exponent as a double, rounded once to the nearest (ties to even) from the
// exact value. OutOfRange if the mantissa lies in phe's overflow band or the value exceeds the
// largest double.
StatusOr<double> DecodePheNumber(const PublicKey& key, std::span<const uint8_t> mantissa,
                                 int exponent);

// -8 keeps 32 fractional bits; pheutil's command line uses -32.
StatusOr<PheEncryptedNumber> EncryptPheNumber(const PublicKey& key, double value,
                                              int exponent = -8);
StatusOr<double> DecryptPheNumber(const SecretKey& key, const PheEncryptedNumber& number);

std::string PheEncryptedNumberToJson(const PheEncryptedNumber& number);
// DataLoss for malformed JSON, a missing "v" or "e", or a ciphertext not in (0, n^2) for `key`.
StatusOr<PheEncryptedNumber> PheEncryptedNumberFromJson(const PublicKey& key,
                                                        std::string_view json);

}  // namespace fedra::paillier

#endif  // FEDRA_PRIVACY_PAILLIER_PHE_NUMBER_H_
