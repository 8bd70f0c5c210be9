// Key and number interchange with python-paillier (key_json.h, phe_number.h): fixed vectors for
// a known small key computed by hand (Python: c = (1 + m n) r^n mod n^2), file round trips,
// secret-key file permissions, and clear errors for corrupt or truncated files.
#include <sys/stat.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <openssl/bn.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "fedra/privacy/paillier/key_json.h"
#include "fedra/privacy/paillier/phe_number.h"
#include "fedra/privacy/paillier/secret_key.h"
#include "privacy/paillier/bn_util.h"
#include "privacy/paillier/test_keys.h"
#include "testing/temp_dir.h"

namespace fedra::paillier {
namespace {

using ::testing::HasSubstr;
using testing::kSmallKeys;
using testing::OtherTestKey;
using testing::TestKey;

// p = 2^32 - 17, q = 2^32 - 5 (both prime), n = p q = 18446743979220271189.
const BigBytes kP = {0xff, 0xff, 0xff, 0xef};
const BigBytes kQ = {0xff, 0xff, 0xff, 0xfb};
constexpr char kPublicJwk[] =
    R"({"alg":"PAI-GN1","key_ops":["encrypt"],"kid":"from pheutil","kty":"DAJ","n":"____6gAAAFU"})";
// phe's documented private key: lambda = (p-1)(q-1), mu = lambda^-1 mod n; no p, q.
constexpr char kPhePrivateJwk[] =
    R"({"kty":"DAJ","key_ops":["decrypt"],"lambda":"____6AAAAGw","mu":"r3DIcc3fxvE",)"
    R"("pub":{"alg":"PAI-GN1","key_ops":["encrypt"],"kty":"DAJ","n":"____6gAAAFU"}})";
// -1.5 at exponent -1: mantissa -24 -> n - 24, r = 123456789.
constexpr char kMinusOnePointFive[] = R"({"v": "24320842217555473136464410637928452784", "e": -1})";
// 3.25 at exponent -2: mantissa 832, r = 987654321.
constexpr char kThreePointTwoFive[] = R"({"e":-2,"v":"160786629304732347205439227258601879417"})";

TEST(PaillierJsonTest, ReadsPheKeysAndDecryptsHandComputedCiphertexts) {
  StatusOr<PublicKey> pub = PublicKeyFromJwk(kPublicJwk, kSmallKeys);
  ASSERT_TRUE(pub.ok()) << pub.status().ToString();
  EXPECT_EQ(pub->modulus_bits(), 64);
  StatusOr<SecretKey> sk = SecretKeyFromJwk(kPhePrivateJwk, kSmallKeys);
  ASSERT_TRUE(sk.ok()) << sk.status().ToString();
  EXPECT_EQ(sk->p(), kP);
  EXPECT_EQ(sk->q(), kQ);
  EXPECT_EQ(sk->key_id(), pub->key_id());
  StatusOr<PheEncryptedNumber> a = PheEncryptedNumberFromJson(*pub, kMinusOnePointFive);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->exponent, -1);
  EXPECT_EQ(*DecryptPheNumber(*sk, *a), -1.5);
  StatusOr<PheEncryptedNumber> b = PheEncryptedNumberFromJson(*pub, kThreePointTwoFive);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*DecryptPheNumber(*sk, *b), 3.25);
}

TEST(PaillierJsonTest, WritesPheCompatibleKeysAndNumbers) {
  StatusOr<SecretKey> sk = SecretKey::FromPrimes(kP, kQ, kSmallKeys);
  ASSERT_TRUE(sk.ok());
  const std::string pub_json = PublicKeyToJwk(sk->public_key());
  EXPECT_THAT(pub_json, HasSubstr(R"("n":"____6gAAAFU")"));
  EXPECT_THAT(pub_json, HasSubstr(R"("kty":"DAJ")"));
  EXPECT_THAT(pub_json, HasSubstr(R"("alg":"PAI-GN1")"));
  EXPECT_THAT(pub_json, HasSubstr(R"("key_ops":["encrypt"])"));
  const std::string sk_json = SecretKeyToJwk(*sk);
  EXPECT_THAT(sk_json, HasSubstr(R"("lambda":"____6AAAAGw")"));
  EXPECT_THAT(sk_json, HasSubstr(R"("mu":"r3DIcc3fxvE")"));
  EXPECT_THAT(sk_json, HasSubstr(R"("p":"____7w")"));
  EXPECT_THAT(sk_json, HasSubstr(R"("q":"____-w")"));
  EXPECT_THAT(sk_json, HasSubstr(R"("key_ops":["decrypt"])"));
  // fedra's encryption of a phe-encoded number reads back through the JSON form.
  StatusOr<PheEncryptedNumber> x = EncryptPheNumber(sk->public_key(), -2.75, -3);
  ASSERT_TRUE(x.ok());
  const std::string json = PheEncryptedNumberToJson(*x);
  EXPECT_THAT(json, HasSubstr(R"("e":-3)"));
  StatusOr<PheEncryptedNumber> back = PheEncryptedNumberFromJson(sk->public_key(), json);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*DecryptPheNumber(*sk, *back), -2.75);
}

TEST(PaillierJsonTest, PheEncodingRoundTripsAndDetectsOverflow) {
  const SecretKey& key = TestKey();
  const PublicKey& pub = key.public_key();
  for (double v : {0.0, 1.0, -1.0, 3.141592653589793, -1e-6, 123456789.125, -9.5e15}) {
    StatusOr<PheEncryptedNumber> c = EncryptPheNumber(pub, v, -8);
    ASSERT_TRUE(c.ok());
    StatusOr<double> d = DecryptPheNumber(key, *c);
    ASSERT_TRUE(d.ok());
    EXPECT_NEAR(*d, v, std::ldexp(1.0, -33) + std::fabs(v) * 1e-15) << v;
  }
  // max_int = n/3 - 1 bounds the mantissa; the small key makes that easy to exceed.
  StatusOr<PublicKey> small = PublicKeyFromJwk(kPublicJwk, kSmallKeys);
  ASSERT_TRUE(small.ok());
  EXPECT_EQ(EncodePheNumber(*small, 1e30, 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(EncodePheNumber(*small, NAN, 0).status().code(), StatusCode::kInvalidArgument);
  // A mantissa of n / 2 is in phe's overflow band.
  BigBytes half = small->modulus();
  for (size_t i = half.size(); i-- > 0;) {
    half[i] = static_cast<uint8_t>((half[i] >> 1) | (i > 0 ? (half[i - 1] & 1) << 7 : 0));
  }
  EXPECT_EQ(DecodePheNumber(*small, half, 0).status().code(), StatusCode::kOutOfRange);
}

TEST(PaillierJsonTest, RejectsCorruptKeysAndNumbersWithClearErrors) {
  EXPECT_THAT(PublicKeyFromJwk(R"({"kty":"DAJ","alg":"PAI-GN1","key_ops":["encrypt"],"n":"___)")
                  .status()
                  .message(),
              HasSubstr("not valid JSON"));
  EXPECT_THAT(PublicKeyFromJwk(R"({"kty":"RSA","alg":"PAI-GN1","key_ops":["encrypt"],"n":"AQAB"})")
                  .status()
                  .message(),
              HasSubstr("\"kty\" is \"RSA\""));
  EXPECT_THAT(
      PublicKeyFromJwk(R"({"kty":"DAJ","alg":"PAI-GN1","key_ops":["encrypt"]})").status().message(),
      HasSubstr("\"n\""));
  EXPECT_THAT(PublicKeyFromJwk(R"({"kty":"DAJ","alg":"PAI-GN1","key_ops":["encrypt"],"n":"a*b"})")
                  .status()
                  .message(),
              HasSubstr("not base64url"));
  EXPECT_EQ(PublicKeyFromJwk(R"({"kty":"DAJ","alg":"PAI-GN1","key_ops":["encrypt"],"n":"AAE"})")
                .status()
                .code(),
            StatusCode::kDataLoss);  // n = 1
  // lambda that does not belong to n.
  std::string wrong_lambda = kPhePrivateJwk;
  wrong_lambda.replace(wrong_lambda.find("____6AAAAGw"), 11, "A___6AAAAGw");
  EXPECT_FALSE(SecretKeyFromJwk(wrong_lambda, kSmallKeys).ok());
  std::string wrong_mu = kPhePrivateJwk;
  wrong_mu.replace(wrong_mu.find("r3DIcc3fxvE"), 11, "s3DIcc3fxvE");
  EXPECT_THAT(SecretKeyFromJwk(wrong_mu, kSmallKeys).status().message(), HasSubstr("mu"));
  EXPECT_THAT(SecretKeyFromJwk(R"({"kty":"DAJ","key_ops":["decrypt"]})").status().message(),
              HasSubstr("\"pub\""));
  StatusOr<PublicKey> pub = PublicKeyFromJwk(kPublicJwk, kSmallKeys);
  ASSERT_TRUE(pub.ok());
  EXPECT_THAT(PheEncryptedNumberFromJson(*pub, R"({"v":"12a","e":0})").status().message(),
              HasSubstr("decimal"));
  EXPECT_THAT(PheEncryptedNumberFromJson(*pub, R"({"v":"12"})").status().message(),
              HasSubstr("\"e\""));
  EXPECT_THAT(PheEncryptedNumberFromJson(*pub, R"({"v":"0","e":0})").status().message(),
              HasSubstr("n^2"));
  EXPECT_THAT(
      PheEncryptedNumberFromJson(*pub, R"({"v":"340282363487120716624359233719880728377","e":0})")
          .status()
          .message(),
      HasSubstr("n^2"));  // = n^2 + 1 > n^2
  EXPECT_EQ(PheEncryptedNumberFromJson(*pub, R"({"v":"123)").status().code(),
            StatusCode::kDataLoss);
}

TEST(PaillierJsonTest, KeyFilesRoundTripWithSecretKeyModeEnforced) {
  fedra::testing::TempDir dir;
  const SecretKey& key = TestKey();
  const std::string pk_path = dir.File("paillier.pub.json");
  const std::string sk_path = dir.File("paillier.key.json");
  ASSERT_TRUE(WritePublicKeyFile(pk_path, key.public_key()).ok());
  ASSERT_TRUE(WriteSecretKeyFile(sk_path, key).ok());
  struct stat st;
  ASSERT_EQ(::stat(sk_path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  StatusOr<PublicKey> pub = ReadPublicKeyFile(pk_path, kSmallKeys);
  ASSERT_TRUE(pub.ok()) << pub.status().ToString();
  EXPECT_EQ(pub->key_id(), key.key_id());
  StatusOr<SecretKey> sk = ReadSecretKeyFile(sk_path, kSmallKeys);
  ASSERT_TRUE(sk.ok()) << sk.status().ToString();
  EXPECT_EQ(sk->p(), key.p());
  // A ciphertext made with the re-read public key decrypts with the re-read secret key.
  EXPECT_EQ(*sk->Decrypt(pub->EncryptInt(77)), *key.Decrypt(key.public_key().EncryptInt(77)));

  ASSERT_EQ(::chmod(sk_path.c_str(), 0640), 0);
  StatusOr<SecretKey> exposed = ReadSecretKeyFile(sk_path, kSmallKeys);
  EXPECT_EQ(exposed.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(exposed.status().message(), HasSubstr("chmod 600"));
  EXPECT_THAT(exposed.status().message(), HasSubstr("0640"));

  // Overwriting an existing secret key file keeps mode 0600.
  ASSERT_TRUE(WriteSecretKeyFile(sk_path, OtherTestKey()).ok());
  ASSERT_EQ(::stat(sk_path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(ReadSecretKeyFile(sk_path, kSmallKeys)->key_id(), OtherTestKey().key_id());
}

// A temporary file someone created in advance under the name the writer used to pick
// (<path>.tmp.<pid>) is neither written into nor renamed over the key; a key file owned by
// another user is refused.
TEST(PaillierJsonTest, SecretKeyFilesAreWrittenToANewFileAndReadOnlyFromTheirOwner) {
  fedra::testing::TempDir dir;
  const std::string sk_path = dir.File("paillier.key.json");
  const std::string planted =
      dir.Write("paillier.key.json.tmp." + std::to_string(::getpid()), "planted by someone else\n");
  ASSERT_EQ(::chmod(planted.c_str(), 0644), 0);
  ASSERT_TRUE(WriteSecretKeyFile(sk_path, TestKey()).ok());
  struct stat key_st, planted_st;
  ASSERT_EQ(::stat(sk_path.c_str(), &key_st), 0);
  ASSERT_EQ(::stat(planted.c_str(), &planted_st), 0);  // still there, untouched
  EXPECT_NE(key_st.st_ino, planted_st.st_ino);
  EXPECT_EQ(planted_st.st_size, 24);
  EXPECT_EQ(key_st.st_mode & 0777, 0600u);
  EXPECT_TRUE(ReadSecretKeyFile(sk_path, kSmallKeys).ok());

  if (::geteuid() != 0) GTEST_SKIP() << "changing a file's owner needs root";
  ASSERT_EQ(::chown(sk_path.c_str(), 4242, static_cast<gid_t>(-1)), 0);
  StatusOr<SecretKey> foreign = ReadSecretKeyFile(sk_path, kSmallKeys);
  EXPECT_EQ(foreign.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(foreign.status().message(), HasSubstr("owned by uid 4242"));
}

// Decoding rounds the exact mantissa * 16^exponent once to the nearest double: mantissas beyond
// 2^1024 decode to the finite values they stand for, 65-bit ones are not rounded twice, ties go
// to even, subnormals round like any other value, and values beyond the largest double are an
// error rather than infinity.
TEST(PaillierJsonTest, PheNumbersDecodeToTheNearestDouble) {
  static const SecretKey* key =
      new SecretKey(*GenerateKeyPair({.modulus_bits = 1536, .allow_small_for_testing = true}));
  const PublicKey& pub = key->public_key();
  // Mantissas of these values at these exponents are exact integers: decoding gives them back.
  for (double v : {1e300, -1e300, 1.7976931348623157e308, -2.5e200, 7.0}) {
    for (int e : {-8, -32, 0}) {
      StatusOr<BigBytes> m = EncodePheNumber(pub, v, e);
      ASSERT_TRUE(m.ok()) << v << " " << e << " " << m.status().ToString();
      StatusOr<double> back = DecodePheNumber(pub, *m, e);
      ASSERT_TRUE(back.ok()) << v << " " << e << " " << back.status().ToString();
      EXPECT_EQ(*back, v) << v << " at exponent " << e;
    }
  }
  // mantissa (as a big-endian integer) at exponent e -> expected double
  auto decode = [&](const std::vector<std::pair<int, int>>& bits, int e) {
    internal::Bn x = internal::NewBn();
    for (const auto& [bit, on] : bits) {
      if (on != 0) {
        EXPECT_EQ(BN_set_bit(x.get(), bit), 1);
      }
    }
    return DecodePheNumber(pub, internal::ToBytes(x.get(), pub.modulus_bytes()), e);
  };
  const double two64 = std::ldexp(1.0, 64);
  EXPECT_EQ(*decode({{64, 1}, {11, 1}, {0, 1}}, 0), two64 + 4096);   // above the half: up
  EXPECT_EQ(*decode({{64, 1}, {11, 1}}, 0), two64);                  // tie, even: down
  EXPECT_EQ(*decode({{64, 1}, {12, 1}, {11, 1}}, 0), two64 + 8192);  // tie, odd: up
  const double tiny = std::ldexp(1.0, -1074);                        // smallest subnormal
  // exponent -269: mantissa * 2^-1076, i.e. mantissa / 4 units of the smallest subnormal
  EXPECT_EQ(*decode({{0, 1}}, -269), 0.0);               // 1/4
  EXPECT_EQ(*decode({{1, 1}}, -269), 0.0);               // 2/4: tie, even
  EXPECT_EQ(*decode({{0, 1}, {1, 1}}, -269), tiny);      // 3/4
  EXPECT_EQ(*decode({{1, 1}, {2, 1}}, -269), 2 * tiny);  // 6/4: tie, even
  StatusOr<double> huge = decode({{1030, 1}}, 0);
  EXPECT_EQ(huge.status().code(), StatusCode::kOutOfRange);
  EXPECT_THAT(huge.status().message(), HasSubstr("exceeds the largest double"));
}

TEST(PaillierJsonTest, CorruptOrTruncatedKeyFilesGiveClearErrors) {
  fedra::testing::TempDir dir;
  const std::string full = SecretKeyToJwk(TestKey());
  const std::string truncated = dir.Write("cut.json", full.substr(0, full.size() / 2));
  ASSERT_EQ(::chmod(truncated.c_str(), 0600), 0);
  StatusOr<SecretKey> cut = ReadSecretKeyFile(truncated, kSmallKeys);
  EXPECT_EQ(cut.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(cut.status().message(), HasSubstr(truncated));
  EXPECT_THAT(cut.status().message(), HasSubstr("not valid JSON"));

  const std::string pub_full = PublicKeyToJwk(TestKey().public_key());
  std::string flipped = pub_full;
  flipped[flipped.find("\"n\":\"") + 10] = '!';
  const std::string bad_pub = dir.Write("bad.pub.json", flipped);
  EXPECT_THAT(ReadPublicKeyFile(bad_pub).status().message(), HasSubstr("base64url"));
  EXPECT_EQ(ReadPublicKeyFile(dir.File("missing.json")).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(ReadSecretKeyFile(dir.File("missing.json")).status().code(), StatusCode::kNotFound);
  // A secret key whose primes belong to another public key.
  std::string mixed = SecretKeyToJwk(TestKey());
  const std::string other_pub = PublicKeyToJwk(OtherTestKey().public_key());
  mixed.replace(mixed.find("\"pub\":{"), 0, "");
  const size_t at = mixed.find("\"pub\":") + 6;
  const size_t end = mixed.find('}', at) + 1;
  mixed.replace(at, end - at, other_pub);
  EXPECT_THAT(SecretKeyFromJwk(mixed, kSmallKeys).status().message(), HasSubstr("does not equal"));
}

// What phe does with these files, written out in plain Python (phe itself is not installed):
// decrypt fedra's number with the documented lambda/mu, and encrypt one for fedra with g = n + 1.
constexpr char kPythonScript[] = R"PY(
import base64, json, secrets, sys
def b64int(s):
    return int.from_bytes(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)), "big")
d = sys.argv[1]
sk = json.load(open(d + "/k.json"))
pk = json.load(open(d + "/p.json"))
assert pk["kty"] == "DAJ" and pk["alg"] == "PAI-GN1" and "encrypt" in pk["key_ops"]
n = b64int(pk["n"]); n2 = n * n
assert b64int(sk["pub"]["n"]) == n and b64int(sk["p"]) * b64int(sk["q"]) == n
lam, mu = b64int(sk["lambda"]), b64int(sk["mu"])
num = json.load(open(d + "/x.json"))
m = (pow(int(num["v"]), lam, n2) - 1) // n * mu % n
max_int = n // 3 - 1
m = m if m <= max_int else m - n
print(repr(m * 16.0 ** num["e"]))
r = secrets.randbelow(n - 1) + 1
c = (1 + 120 * n) * pow(r, n, n2) % n2
print(json.dumps({"v": str(c), "e": -1}))  # 120 * 16^-1 = 7.5
)PY";

TEST(PaillierJsonTest, PythonDecryptsWithPheFormulasAndFedraDecryptsPython) {
  if (::access("/usr/bin/python3", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/python3";
  fedra::testing::TempDir dir;
  const SecretKey& key = TestKey();
  ASSERT_TRUE(WritePublicKeyFile(dir.File("p.json"), key.public_key()).ok());
  ASSERT_TRUE(WriteSecretKeyFile(dir.File("k.json"), key).ok());
  StatusOr<PheEncryptedNumber> x = EncryptPheNumber(key.public_key(), -12.375, -8);
  ASSERT_TRUE(x.ok());
  dir.Write("x.json", PheEncryptedNumberToJson(*x));
  const std::string script = dir.Write("check.py", kPythonScript);
  const std::string cmd = "/usr/bin/python3 " + script + " " + dir.path() + " 2>&1";
  FILE* pipe = ::popen(cmd.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string out;
  char buf[4096];
  while (size_t got = std::fread(buf, 1, sizeof(buf), pipe)) out.append(buf, got);
  ASSERT_EQ(::pclose(pipe), 0) << out;
  const size_t nl = out.find('\n');
  ASSERT_NE(nl, std::string::npos) << out;
  EXPECT_EQ(out.substr(0, nl), "-12.375");
  StatusOr<PheEncryptedNumber> from_python =
      PheEncryptedNumberFromJson(key.public_key(), out.substr(nl + 1));
  ASSERT_TRUE(from_python.ok()) << from_python.status().ToString() << "\n" << out;
  EXPECT_EQ(from_python->exponent, -1);
  EXPECT_EQ(*DecryptPheNumber(key, *from_python), 7.5);
}

}  // namespace
}  // namespace fedra::paillier
